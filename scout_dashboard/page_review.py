"""Review: one profile at a time, most valuable first; a person says true, false or null.

The queue is ``mart_review_queue`` (dbt: uncertain labels, model disagreements, top leads not yet
reviewed, ordered by the expected value of an answer), less every account reviewed since it was
built. A verdict is appended to ``reviews`` (source ``dashboard``) and the next profile shows.
Keyboard: ``t`` true, ``f`` false, ``n`` null, ``s`` skip (Streamlit button shortcuts; they do not
fire while the cursor is in the reason box, so type the reason, then press Tab and the key).

Profile text (name, bio, reasons) is untrusted: it is shown with ``st.text`` and in tables, never
as Markdown, so a bio cannot draw a link, an image or a fetch from another host.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from resources.warehouse.errors import WarehouseError
from scout_contract.audience import AudienceError, load_audiences
from scout_contract.reviews import SOURCE_DASHBOARD, label_word, review_row, utc_now
from scout_dashboard import formatting, review_queries, ui
from scout_dashboard.targets import MartsTarget
from scout_leads.reader import MartsUnavailable
from scout_leads.sql import Query

# Button label, verdict, key. "c" and "r" are reserved by Streamlit.
VERDICTS: tuple[tuple[str, bool | None, str], ...] = (
    ("True", True, "t"),
    ("False", False, "f"),
    ("Null (unsure)", None, "n"),
)
SKIP_KEY = "s"
_SKIPPED = "review_skipped"  # session_state: platform:platform_id keys skipped this session
_LAST = "review_last"  # session_state: what the last click did (shown after the rerun)


def _account_key(profile: dict[str, Any]) -> str:
    return f"{profile['platform']}:{profile['platform_id']}"


def _record(target: MartsTarget, profile: dict[str, Any], label: bool | None, reason_key: str) -> None:
    """Button callback: append the review (it runs before the rerun, so the queue moves on)."""
    reviewer = (st.session_state.get("review_reviewer") or "").strip()
    row = review_row(
        platform=profile["platform"],
        platform_id=profile["platform_id"],
        handle=profile["handle"],
        name=profile["name"] or "",
        bio=profile["bio"] or "",
        category=profile["category"],
        followers=profile["followers"],
        audience=profile["audience"],
        audience_hash=profile["audience_hash"],
        label=label,
        reason=st.session_state.get(reason_key) or "",
        reviewer=reviewer,
        source=SOURCE_DASHBOARD,
        reviewed_at=utc_now(),
    )
    try:
        review_queries.record_review(target.location, row)
    except WarehouseError as exc:
        st.session_state[_LAST] = ("error", f"Not saved: {formatting.escape_markdown(str(exc))}")
        return
    who = formatting.escape_markdown(row["reviewer"])
    st.session_state[_LAST] = (
        "ok",
        f"Saved @{formatting.escape_markdown(row['handle'])}: {label_word(label)} (by {who})",
    )


def _skip(profile: dict[str, Any]) -> None:
    st.session_state.setdefault(_SKIPPED, []).append(_account_key(profile))
    st.session_state[_LAST] = (
        "ok",
        f"Skipped @{formatting.escape_markdown(profile['handle'])} for this session",
    )


def _read(target: MartsTarget, query: Query, what: str) -> pl.DataFrame:
    try:
        return review_queries.read_now(target.location, query)
    except MartsUnavailable as exc:
        st.info(
            f"{what} cannot be read yet: the review queue (mart_review_queue) is built by dbt with the "
            f"other marts (`scout run`, or the dbt assets in Dagster). {exc}",
            icon=":material/hourglass_empty:",
        )
        st.stop()
        raise


def render(target: MartsTarget, default_reviewer: str = "unknown") -> None:
    ui.sidebar_window(target)
    st.title("Review")
    st.caption(
        "One profile at a time, the most valuable verdict first (uncertain labels, models that "
        "disagree, top leads nobody checked). Your verdict overrides every model for this audience "
        f"version. Keys: **{VERDICTS[0][2]}** true · **{VERDICTS[1][2]}** false · **{VERDICTS[2][2]}** "
        f"null · **{SKIP_KEY}** skip."
    )
    with st.sidebar:
        reviewer = st.text_input(
            "Reviewer", value=default_reviewer, key="review_reviewer", help="recorded with every verdict"
        )
    try:
        ui.tables_ready(target.location)
    except WarehouseError as exc:
        st.warning(f"The warehouse cannot take reviews right now: {exc}", icon=":material/lock:")
        st.stop()
    audiences = _read(target, review_queries.queue_audiences(target.schema), "The review queue")
    if audiences.height == 0:
        st.info("Nothing is queued for review: no audience has labeled profiles yet.")
        return
    audience = st.selectbox("Audience", audiences["audience"].to_list(), key="review_audience")
    skipped = tuple(st.session_state.get(_SKIPPED, []))
    left = _read(target, review_queries.queue_size(target.schema, audience, skipped), "The review queue")
    queue = _read(target, review_queries.review_queue(target.schema, audience, skipped), "The review queue")
    st.metric("Left to review", formatting.count(left["left_to_review"][0]))
    last = st.session_state.pop(_LAST, None)
    if last is not None:
        (st.error if last[0] == "error" else st.success)(last[1])
    if queue.height == 0:
        st.success(
            f"Nothing left to review for {audience}"
            + (f" ({len(skipped)} skipped this session)." if skipped else ".")
        )
        return
    profile = queue.row(0, named=True)
    labels = _read(
        target,
        review_queries.model_labels(profile["platform"], profile["platform_id"], audience),
        "The models' labels",
    )
    profile["audience_hash"] = _audience_hash(audience, labels)
    _show_profile(profile, labels)
    reason_key = f"review_reason_{_account_key(profile)}"
    st.text_input("Reason (optional)", key=reason_key, placeholder="why: what in the profile decided it")
    if not reviewer.strip():
        st.warning("Type your name in the sidebar (Reviewer) first: every verdict records who made it.")
    columns = st.columns(len(VERDICTS) + 1)
    for column, (caption, label, key) in zip(columns, VERDICTS, strict=False):
        column.button(
            caption,
            key=f"review_{key}",
            shortcut=key,
            on_click=_record,
            args=(target, profile, label, reason_key),
            disabled=not reviewer.strip(),
            type="primary" if label else "secondary",
            width="stretch",
        )
    columns[-1].button(
        "Skip", key="review_skip", shortcut=SKIP_KEY, on_click=_skip, args=(profile,), width="stretch"
    )


@st.cache_data(ttl=ui.CACHE_SECONDS, show_spinner=False)
def _configured_hashes() -> dict[str, str]:
    """Audience key -> content hash of the audience files in the config folder."""
    try:
        return {key: audience.content_hash for key, audience in load_audiences().items()}
    except AudienceError:
        return {}


def _audience_hash(audience: str, labels: pl.DataFrame) -> str:
    """The wording the person judged against: the configured file's hash, else the models' (newest)."""
    configured = _configured_hashes().get(audience)
    if configured:
        return configured
    hashes = labels.sort("labeled_at", descending=True, nulls_last=True)["audience_hash"].drop_nulls()
    return hashes[0] if len(hashes) else ""


def _show_profile(profile: dict[str, Any], labels: pl.DataFrame) -> None:
    with st.container(border=True):
        st.markdown(f"**@{formatting.escape_markdown(profile['handle'])}** · {profile['platform']}")
        st.text(profile["name"] or "(no name)")
        st.text(profile["bio"] or "(empty bio)")
        has, followers, category, consensus, local = st.columns(5)
        has.metric("HAS", "–" if profile["has"] is None else f"{profile['has']:.2f}")
        followers.metric("Followers", formatting.count(profile["followers"]))
        category.metric("Category", profile["category"] or "–")
        consensus.metric(
            "Consensus",
            _verdict(profile["consensus_label"]),
            help="models disagree" if profile["models_disagree"] else "models agree",
        )
        local.metric("Local p(true)", formatting.percent(profile["local_p_true"]))
        if profile["why"]:
            st.caption("Why now")
            st.text(profile["why"])
    if labels.height == 0:
        st.caption("No model has labeled this account for this audience yet.")
        return
    words = pl.when(pl.col("label").is_null()).then(pl.lit("null"))
    words = words.when(pl.col("label")).then(pl.lit("true")).otherwise(pl.lit("false"))
    st.dataframe(
        labels.drop("audience_hash").with_columns(words.alias("label")),
        hide_index=True,
        column_config={
            "reason": st.column_config.TextColumn("reason", width="large"),
            "p_true": st.column_config.NumberColumn("p(true)", format="percent"),
        },
    )


def _verdict(value: Any) -> str:
    return label_word(value) if value is None or isinstance(value, bool) else str(value)
