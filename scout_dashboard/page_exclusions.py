"""Exclusions: the do-not-contact entries in force, adding and removing one, and the audit trail.

Everything goes through ``scout_leads.exclusions`` (the floor ``scout exclude`` and the API use):
an entry is checked before anything is written (a bad handle, domain or pattern is refused with
the rule's own message), both adding and removing are events of the append-only
``exclusion_events`` ledger recorded with the sidebar's Reviewer as the actor, and each one
recomputes ``excluded_accounts`` at once, so the Leads page drops or brings back the accounts on
its next rerun (every write clears the cached reads). The entries and the trail are read without a
cache: they are what a person just changed.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from resources.warehouse.errors import WarehouseError
from scout_contract.exclusions import KINDS, Exclusion, ExclusionError, active_entries
from scout_contract.platforms import PLATFORMS
from scout_dashboard import formatting, review_queries, ui
from scout_dashboard.page_leads import REVIEWER_KEY, read_live, reviewer_input, show_last_write, writable
from scout_dashboard.targets import MartsTarget
from scout_leads import exclusions
from scout_leads.sql import Query

_LAST = "exclusions_last"  # session_state: what the last write did, shown after the rerun
EVENTS = Query(
    "select event_id, exclusion_id, action, platform, kind, value, reason, actor, event_at "
    "from exclusion_events order by event_at, event_id"
)
MATCHED = Query("select exclusion_id, count(*) as accounts from excluded_accounts group by exclusion_id")
KIND_HELP = (
    "account: the platform id, exactly · handle: case-insensitive, @ optional · domain: acme.com in the "
    "bio (subdomains, URLs, e-mails) · org: a substring of the name or bio · bio_pattern: a Python "
    "regular expression searched in the bio"
)


def render(target: MartsTarget, default_reviewer: str = "unknown") -> None:
    ui.sidebar_window(target)
    reviewer = reviewer_input(default_reviewer)
    st.title("Exclusions")
    st.caption(
        "Do-not-contact entries: an excluded account is never queued for labeling (no model is paid "
        "to look at it) and never shows in the leads, the marts or the exports. Adding and removing "
        "are both kept in the audit trail with who and why."
    )
    if not writable(target):
        st.stop()
    show_last_write(_LAST)
    if not reviewer.strip():
        st.warning("Type your name in the sidebar (Reviewer) first: every change records who made it.")
    events = read_live(target, EVENTS, "The exclusions")
    active = active_entries(events)
    matched = dict(read_live(target, MATCHED, "The accounts excluded").iter_rows())
    st.metric("Active exclusions", len(active))
    if active:
        st.dataframe(_entries_frame(active, matched), hide_index=True)
    else:
        st.caption("No exclusion is in force.")
    add_column, remove_column = st.columns(2)
    with add_column:
        _add_form(target, reviewer)
    with remove_column:
        _remove_form(target, active, reviewer)
    st.subheader("Audit trail")
    if events.height:
        st.dataframe(events.drop("event_id").reverse(), hide_index=True)  # newest first
    else:
        st.caption("Nothing has been excluded yet.")


def _entries_frame(active: list[Exclusion], matched: dict[str, int]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "id": e.exclusion_id,
                "platform": e.platform,
                "kind": e.kind,
                "value": e.value,
                "accounts now": matched.get(e.exclusion_id, 0),
                "reason": e.reason,
                "added by": e.actor,
                "added at": e.added_at,
            }
            for e in active
        ]
    )


def _add_form(target: MartsTarget, reviewer: str) -> None:
    with st.form("exclusions_add", border=True):
        st.markdown("**Add an exclusion**")
        platform_column, kind_column = st.columns(2)
        platform_column.selectbox("Platform", PLATFORMS, key="exclusions_add_platform")
        kind_column.selectbox("Exclude by", KINDS, key="exclusions_add_kind", help=KIND_HELP)
        st.text_input("Value", key="exclusions_add_value", placeholder="acme_ceo, acme.com, 12345 ...")
        st.text_input("Reason", key="exclusions_add_reason", placeholder="asked not to be contacted")
        st.form_submit_button(
            "Add exclusion", on_click=_add, args=(target,), disabled=not reviewer.strip(), type="primary"
        )


def _add(target: MartsTarget) -> None:
    """Form callback: record the entry (or say which field is wrong, writing nothing)."""
    value = st.session_state.get("exclusions_add_value") or ""
    try:
        exclusion_id, hits = exclusions.add_exclusion(
            review_queries.writer(target.location),
            st.session_state.get("exclusions_add_platform") or "",
            st.session_state.get("exclusions_add_kind") or "",
            value,
            st.session_state.get("exclusions_add_reason") or "",
            st.session_state.get(REVIEWER_KEY) or "",
        )
    except (ExclusionError, WarehouseError) as exc:
        st.session_state[_LAST] = ("error", f"Not added: {formatting.escape_markdown(str(exc))}")
        return
    st.cache_data.clear()  # the cached lead lists still hold the accounts it excludes
    st.session_state[_LAST] = (
        "ok",
        f"Added exclusion {exclusion_id} ({formatting.escape_markdown(value.strip())}): "
        f"excludes {hits} known account(s) now",
    )


def _remove_form(target: MartsTarget, active: list[Exclusion], reviewer: str) -> None:
    with st.form("exclusions_remove", border=True):
        st.markdown("**Remove an exclusion**")
        described = {e.exclusion_id: f"{e.exclusion_id} · {e.platform} {e.kind} {e.value}" for e in active}
        st.selectbox(
            "Exclusion",
            list(described),
            format_func=described.get,
            key="exclusions_remove_id",
            placeholder="no exclusion in force",
        )
        st.text_input("Why it is removed", key="exclusions_remove_reason", placeholder="consent given")
        st.form_submit_button(
            "Remove exclusion",
            on_click=_remove,
            args=(target,),
            disabled=not (reviewer.strip() and active),
        )


def _remove(target: MartsTarget) -> None:
    """Form callback: end the entry (a ``remove`` event; its ``add`` stays in the trail)."""
    try:
        entry = exclusions.remove_exclusion(
            review_queries.writer(target.location),
            st.session_state.get("exclusions_remove_id") or "",
            st.session_state.get("exclusions_remove_reason") or "",
            st.session_state.get(REVIEWER_KEY) or "",
        )
    except (ExclusionError, WarehouseError) as exc:
        st.session_state[_LAST] = ("error", f"Not removed: {formatting.escape_markdown(str(exc))}")
        return
    st.cache_data.clear()
    st.session_state[_LAST] = (
        "ok",
        f"Removed exclusion {entry.exclusion_id} ({entry.platform} {entry.kind} "
        f"{formatting.escape_markdown(entry.value)})",
    )
