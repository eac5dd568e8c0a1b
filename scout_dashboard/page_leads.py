"""Leads: the lead list (filters, pages, a CSV of what is listed) and what a person does with one lead.

The list is ``scout_leads.lead_list`` (shared with the API): the mart's leads with the live lead
state laid over them and excluded accounts dropped, so a move or an exclusion made anywhere shows
at once. What a person does here goes through the same floor as the CLI and the API: a move through
``scout_leads.state.set_state`` (source ``dashboard``, by the Reviewer named in the sidebar, the
name the Review page records), an exclusion through ``scout_leads.exclusions``. A refused move shows
the rule's own words and writes nothing. Every write clears the cached reads so the list shows it on
the next rerun; the chosen lead's state and history are read without a cache.

Profile text is untrusted: it reaches the page as plain text or table cells, and anything of it in
a message is escaped for Markdown (see ``page_review``).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import polars as pl
import streamlit as st

from resources.warehouse.errors import WarehouseError
from scout_contract.exclusions import ExclusionError
from scout_contract.leads import (
    CURRENT_STATE_SQL,
    LEAD_HISTORY_SQL,
    SOURCE_DASHBOARD,
    STATES,
    TRANSITIONS,
    LeadStateError,
)
from scout_dashboard import formatting, queries, review_queries, ui
from scout_dashboard.targets import MartsTarget
from scout_leads import exclusions, lead_list, state
from scout_leads.reader import MartsUnavailable
from scout_leads.sql import Query

ANY_KEYWORD = "(any keyword)"
PAGE_SIZES: tuple[int, ...] = (25, 50, 100, 500)
DEFAULT_PAGE_SIZE = 50
REVIEWER_KEY = "review_reviewer"  # the Review page's sidebar input: one name for every write
_LAST = "leads_last"  # session_state: what the last write did, shown after the rerun
# The lead's state and who set it next to its name; the rest of the columns follow in list order.
_FIRST_COLUMNS = (
    "platform",
    "handle",
    "name",
    "verdict",
    "lead_state",
    "lead_state_at",
    "lead_note",
    "lead_state_by",
)
TABLE_COLUMNS: tuple[str, ...] = (
    *_FIRST_COLUMNS,
    *(c for c in lead_list.LEAD_COLUMNS if c not in _FIRST_COLUMNS),
)


def reviewer_input(default_reviewer: str) -> str:
    """The sidebar's Reviewer box (the Review page's own key): who every write records."""
    with st.sidebar:
        return st.text_input(
            "Reviewer", value=default_reviewer, key=REVIEWER_KEY, help="recorded with every change you make"
        )


def writable(target: MartsTarget) -> bool:
    """Whether the warehouse has the tables the writes need (made once per process, as on the Review page)."""
    try:
        ui.tables_ready(target.location)
    except WarehouseError as exc:
        st.warning(f"The warehouse cannot take changes right now: {exc}", icon=":material/lock:")
        return False
    return True


def _filters(target: MartsTarget, window: queries.Window) -> lead_list.LeadFilters | None:
    audiences = ui.read(target, queries.audiences(target.schema))["audience"].to_list()
    if not audiences:
        st.info("No account has been labeled yet.")
        return None
    keywords = ui.read(target, queries.keywords(target.schema))["keyword"].to_list()
    first, second, third = st.columns([2, 2, 3])
    audience = first.selectbox("Audience", audiences, key="leads_audience")
    verdicts = second.multiselect(
        "Consensus label",
        list(lead_list.VERDICTS),
        default=["match"],
        key="leads_verdicts",
        help="match: more models said true than false; no_match: the opposite; uncertain: a tie.",
    )
    search = third.text_input("Search handle, name or bio", key="leads_search")
    fourth, fifth, sixth, seventh = st.columns([3, 2, 2, 3])
    has_min, has_max = fourth.slider("HAS", 0.0, 1.0, (0.0, 1.0), step=0.05, key="leads_has")
    followers_min = fifth.number_input("Followers at least", min_value=0, value=0, step=100, key="leads_fmin")
    followers_max = sixth.number_input(
        "Followers at most (0: no limit)", min_value=0, value=0, step=100, key="leads_fmax"
    )
    keyword = seventh.selectbox("Found by keyword", [ANY_KEYWORD, *keywords], key="leads_keyword")
    eighth, ninth = st.columns([5, 5])
    states = eighth.multiselect(
        "Lead state",
        list(STATES),
        default=list(STATES),
        key="leads_states",
        help="Where each lead stands in the outreach: new → reviewed → contacted → replied | converted | rejected.",
    )
    new_only = ninth.checkbox(
        "New since the last export",
        key="leads_new_since_export",
        help="Only leads no export has carried yet for this audience (the lead_exports ledger).",
    )
    if followers_max and followers_max < followers_min:
        st.warning("Followers: the upper bound is below the lower bound.")
        return None
    return lead_list.LeadFilters(
        audience=audience,
        platforms=window.platforms,
        verdicts=tuple(verdicts),
        has_min=float(has_min),
        has_max=float(has_max),
        followers_min=int(followers_min) or None,
        followers_max=int(followers_max) or None,
        keyword=None if keyword == ANY_KEYWORD else keyword,
        search=search or None,
        states=tuple(states),
        new_since_export=bool(new_only),
    )


def _page_of(filters: lead_list.LeadFilters, total: int) -> lead_list.LeadFilters:
    """The filters narrowed to the page the person picked (size and number), with "rows a–b of N"."""
    size_column, number_column, _ = st.columns([2, 2, 6])
    size = size_column.selectbox(
        "Rows per page", PAGE_SIZES, index=PAGE_SIZES.index(DEFAULT_PAGE_SIZE), key="leads_page_size"
    )
    pages = max(1, math.ceil(total / size))
    number = number_column.number_input("Page", min_value=1, max_value=pages, step=1, key="leads_page")
    offset = (int(number) - 1) * size
    if total:
        last = min(offset + size, total)
        shown = f"rows {formatting.count(offset + 1)}–{formatting.count(last)} of {formatting.count(total)}"
    else:
        shown = "no rows"
    st.caption(f"{shown} (page {int(number)} of {pages})")
    return replace(filters, limit=size, offset=offset)


def render(target: MartsTarget, default_reviewer: str = "unknown") -> None:
    window = ui.sidebar_window(target)
    reviewer = reviewer_input(default_reviewer)
    st.title("Leads")
    st.caption(
        f"Every labeled account, all time, on {', '.join(window.platforms) or 'no platform'} "
        "(the sidebar's days do not apply here), with where it stands in the outreach. Best first: "
        "matches, then the number and share of models saying true, then HAS. Excluded accounts "
        "never show (see Exclusions)."
    )
    writable(target)  # the list can still be read when not
    filters = _filters(target, window)
    if filters is None:
        return
    total = int(ui.read(target, lead_list.lead_count(target.schema, filters))["leads"][0])
    st.metric("Leads matching the filters", formatting.count(total))
    page = _page_of(filters, total)
    leads = ui.read(target, lead_list.leads(target.schema, page))
    _top_cards(leads)
    st.dataframe(
        leads,
        hide_index=True,
        column_order=TABLE_COLUMNS,
        column_config={
            "match_share": st.column_config.ProgressColumn(
                "match share", min_value=0.0, max_value=1.0, format="percent"
            ),
            "has": st.column_config.NumberColumn("HAS", format="%.2f"),
            "followers": st.column_config.NumberColumn("followers", format="localized"),
            "lead_state_at": st.column_config.DatetimeColumn("lead_state_at", format="YYYY-MM-DD HH:mm"),
            "bio": st.column_config.TextColumn("bio", width="large"),
            "reasons": st.column_config.TextColumn("reasons", width="large"),
        },
    )
    st.download_button(
        "Download this list as CSV",
        data=leads.write_csv(),
        file_name=f"scout_leads_{filters.audience}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )
    _lead_actions(target, leads, filters.audience, reviewer)


def _top_cards(leads: pl.DataFrame, how_many: int = 3) -> None:
    """The best few leads spelled out, with who agrees and why (the table has the rest)."""
    columns = st.columns(how_many)
    for column, lead in zip(columns, leads.head(how_many).iter_rows(named=True), strict=False):
        with column.container(border=True):
            st.markdown(
                f"**@{formatting.escape_markdown(lead['handle'] or '')}** · {lead['platform']} · {lead['verdict']}"
            )
            st.caption(
                f"HAS {lead['has']:.2f} · {formatting.count(lead['followers'])} followers · "
                f"{lead['models_labeled']} model(s), agreeing: {lead['agreeing_models'] or 'none'}"
                if lead["has"] is not None
                else f"{lead['models_labeled']} model(s), agreeing: {lead['agreeing_models'] or 'none'}"
            )
            st.markdown(f"> {(lead['reasons'] or '')[:280]}")


# --- one lead: its state, history, a move, an exclusion --------------------------------------------


def _lead_key(lead: dict[str, Any]) -> str:
    return f"{lead['platform']}:{lead['platform_id']}"


def read_live(target: MartsTarget, query: Query, what: str) -> pl.DataFrame:
    """``query`` without the cache (what a person just changed); when it cannot be read, say why and stop."""
    try:
        return review_queries.read_now(target.location, query)
    except MartsUnavailable as exc:
        st.warning(f"{what} cannot be read right now. {exc}", icon=":material/hourglass_empty:")
        st.stop()
        raise


def show_last_write(key: str) -> None:
    """What the last form callback did (saved or refused), kept in ``st.session_state[key]`` over the rerun."""
    last = st.session_state.pop(key, None)
    if last is not None:
        (st.error if last[0] == "error" else st.success)(last[1])


def _lead_actions(target: MartsTarget, leads: pl.DataFrame, audience: str, reviewer: str) -> None:
    st.subheader("Act on a lead")
    show_last_write(_LAST)
    if leads.height == 0:
        st.caption("No lead on this page.")
        return
    by_key = {_lead_key(lead): lead for lead in leads.iter_rows(named=True)}
    chosen = st.selectbox(
        "Lead (from this page)",
        list(by_key),
        format_func=lambda key: f"@{by_key[key]['handle']} · {by_key[key]['platform']}",
        key="leads_chosen",
    )
    lead = by_key[chosen]
    where = (lead["platform"], lead["platform_id"], audience)
    now = read_live(target, Query(CURRENT_STATE_SQL, where), "The lead's state").row(0, named=True)
    history = read_live(target, Query(LEAD_HISTORY_SQL, where), "The lead's history")
    current = now["state"]
    state_column, since_column, by_column = st.columns(3)
    state_column.metric("Lead state", current)
    since_column.metric("Since", "–" if now["state_at"] is None else f"{now['state_at']:%Y-%m-%d %H:%M}")
    by_column.metric("Set by", now["set_by"] or "–")
    if now["note"]:
        st.text(f"Note: {now['note']}")
    if history.height:
        st.dataframe(history.drop("event_id"), hide_index=True)
    else:
        st.caption("No move recorded for this lead yet.")
    if not reviewer.strip():
        st.warning("Type your name in the sidebar (Reviewer) first: every change records who made it.")
    move_column, exclude_column = st.columns(2)
    with move_column:
        _move_form(target, lead, audience, current, reviewer)
    with exclude_column:
        _exclude_form(target, lead, reviewer)


def _move_form(target: MartsTarget, lead: dict[str, Any], audience: str, current: str, reviewer: str) -> None:
    allowed = [s for s in STATES if s in TRANSITIONS[current]]
    if not allowed:
        st.info(f"{current} is final: this lead moves no further.")
        return
    key = f"{_lead_key(lead)}:{audience}:{current}"
    with st.form(f"leads_move_form_{key}", border=True):
        st.selectbox("Move to", allowed, key=f"leads_move_to_{key}")
        st.text_input("Note (optional)", key=f"leads_move_note_{key}", placeholder="what happened")
        st.form_submit_button(
            "Save state",
            on_click=_move,
            args=(target, lead, audience, key),
            disabled=not reviewer.strip(),
            type="primary",
        )


def _move(target: MartsTarget, lead: dict[str, Any], audience: str, key: str) -> None:
    """Form callback: move the lead one step (checked against its state now, not when the page drew)."""
    to_state = st.session_state.get(f"leads_move_to_{key}")
    try:
        event = state.set_state(
            review_queries.writer(target.location),
            platform=lead["platform"],
            platform_id=lead["platform_id"],
            handle=lead["handle"],
            audience=audience,
            state=to_state or "",
            note=st.session_state.get(f"leads_move_note_{key}") or None,
            set_by=st.session_state.get(REVIEWER_KEY) or "",
            source=SOURCE_DASHBOARD,
        )
    except (LeadStateError, WarehouseError) as exc:
        st.session_state[_LAST] = ("error", f"Not saved: {formatting.escape_markdown(str(exc))}")
        return
    st.cache_data.clear()  # the cached list still holds the old state
    st.session_state[_LAST] = (
        "ok",
        f"Saved @{formatting.escape_markdown(lead['handle'] or '')}: {event['from_state']} → {event['state']} "
        f"(by {formatting.escape_markdown(event['set_by'])})",
    )


def _exclude_form(target: MartsTarget, lead: dict[str, Any], reviewer: str) -> None:
    key = _lead_key(lead)
    with st.form(f"leads_exclude_form_{key}", border=True):
        st.text_input(
            "Why not contact this account",
            key=f"leads_exclude_reason_{key}",
            placeholder="asked not to be contacted",
        )
        st.form_submit_button(
            "Exclude this account",
            on_click=_exclude,
            args=(target, lead, key),
            disabled=not reviewer.strip(),
        )


def _exclude(target: MartsTarget, lead: dict[str, Any], key: str) -> None:
    """Form callback: a do-not-contact entry for exactly this account (kind ``account``)."""
    try:
        exclusion_id, _ = exclusions.add_exclusion(
            review_queries.writer(target.location),
            lead["platform"],
            "account",
            lead["platform_id"],
            st.session_state.get(f"leads_exclude_reason_{key}") or "",
            st.session_state.get(REVIEWER_KEY) or "",
        )
    except (ExclusionError, WarehouseError) as exc:
        st.session_state[_LAST] = ("error", f"Not excluded: {formatting.escape_markdown(str(exc))}")
        return
    st.cache_data.clear()  # the cached list still holds the account
    st.session_state[_LAST] = (
        "ok",
        f"Excluded @{formatting.escape_markdown(lead['handle'] or '')} (exclusion {exclusion_id}): "
        "it no longer shows in the leads",
    )
