"""Lead state: where one account stands in the outreach for one audience, and which moves are allowed.

The path is ``new → reviewed → contacted → replied | converted | rejected`` (a replied lead can still
convert or be rejected, and a lead can be rejected before it is contacted). ``lead_events`` is
append-only: every move is one row, so the whole history stays for the audit trail, and the current
state is the latest event, ordered by ``(set_at, event_id)``. With no event the state is ``reviewed``
when a person has reviewed the account for that audience (``reviews``), else ``new``: reviewing an
account moves it to reviewed without a second click, and every explicit state is past reviewed, so
the rule never moves a lead backwards.

``check_transition`` is the one place the allowed moves are decided (the CLI, the dashboard and the
API all call it); an invalid move raises ``LeadStateError`` naming both states.

Pure: no I/O, standard library only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scout_contract.errors import storable_text
from scout_contract.platforms import PLATFORMS

NEW = "new"
REVIEWED = "reviewed"
CONTACTED = "contacted"
REPLIED = "replied"
CONVERTED = "converted"
REJECTED = "rejected"

# In funnel order (docs/leads.md "The funnel").
STATES: tuple[str, ...] = (NEW, REVIEWED, CONTACTED, REPLIED, CONVERTED, REJECTED)

# state -> the states it may move to. Converted and rejected are final.
TRANSITIONS: dict[str, frozenset[str]] = {
    NEW: frozenset({REVIEWED, CONTACTED, REJECTED}),
    REVIEWED: frozenset({CONTACTED, REJECTED}),
    CONTACTED: frozenset({REPLIED, CONVERTED, REJECTED}),
    REPLIED: frozenset({CONVERTED, REJECTED}),
    CONVERTED: frozenset(),
    REJECTED: frozenset(),
}

# Where a lead event comes from (lead_events.source).
SOURCE_CLI = "cli"
SOURCE_DASHBOARD = "dashboard"
SOURCE_API = "api"

# A note longer than this is refused rather than cut: a note is a line, not a document.
MAX_NOTE_CHARS = 2000

# The current state of one account for one audience ($1 platform, $2 platform_id, $3 audience):
# the latest event, else reviewed when a review of the account exists, else new. One row, always.
# Plain SQL both DuckDB and PostgreSQL run through ``Warehouse.read(CURRENT_STATE_SQL, [...])``.
CURRENT_STATE_SQL = """
with latest as (
    select state, set_at, note, set_by
    from lead_events
    where platform = $1 and platform_id = $2 and audience = $3
    order by set_at desc, event_id desc
    limit 1
),
reviewed as (
    select max(reviewed_at) as reviewed_at, count(*) as n
    from reviews
    where platform = $1 and platform_id = $2 and audience = $3
)
select
    coalesce((select state from latest), case when r.n > 0 then 'reviewed' else 'new' end) as state,
    coalesce((select set_at from latest), r.reviewed_at) as state_at,
    (select note from latest) as note,
    (select set_by from latest) as set_by
from reviewed as r
"""

# True for a lead of the aliased row ``{alias}`` that an export already carried for its audience
# (the ``lead_exports`` ledger): the lead_exports asset and the lead list's "new since the last
# export" both use it, so the two agree on what is new.
EXPORTED_LEAD_SQL = """exists (
    select 1 from lead_exports e
    where e.audience = {alias}.audience and e.platform = {alias}.platform
    and e.platform_id = {alias}.platform_id{extra})"""


def exported_lead_sql(alias: str, extra: str = "") -> str:
    """:data:`EXPORTED_LEAD_SQL` for ``alias`` (an identifier), with ``extra`` conditions on ``e``."""
    if not alias.isidentifier():
        raise ValueError(f"table alias must be an identifier, got {alias!r}")
    return EXPORTED_LEAD_SQL.format(alias=alias, extra=extra)


# Every event of one account for one audience, oldest first ($1 platform, $2 platform_id, $3 audience).
LEAD_HISTORY_SQL = """
select event_id, from_state, state, note, set_by, source, set_at
from lead_events
where platform = $1 and platform_id = $2 and audience = $3
order by set_at, event_id
"""


class LeadStateError(ValueError):
    """A lead state or move that is not allowed; the message names it."""


def parse_state(value: str) -> str:
    """``value`` as a known state (case and spaces ignored), else ``LeadStateError`` listing them."""
    state = value.strip().lower()
    if state not in TRANSITIONS:
        raise LeadStateError(f"unknown lead state {value!r} (states: {', '.join(STATES)})")
    return state


def check_transition(from_state: str, to_state: str) -> None:
    """Raise ``LeadStateError`` unless a lead may move from ``from_state`` to ``to_state``."""
    current = parse_state(from_state)
    target = parse_state(to_state)
    allowed = TRANSITIONS[current]
    if target in allowed:
        return
    if target == NEW:
        why = "a lead never goes back to new"
    elif not allowed:
        why = f"{current} is final"
    else:
        why = f"from {current} a lead may move to {', '.join(s for s in STATES if s in allowed)}"
    raise LeadStateError(f"cannot move a lead from {current} to {target}: {why}")


@dataclass(frozen=True)
class LeadEvent:
    """One move, as ``lead_events`` stores it."""

    platform: str
    platform_id: str
    handle: str | None
    audience: str
    from_state: str
    state: str
    note: str | None
    set_by: str
    source: str
    set_at: datetime

    @property
    def event_id(self) -> str:
        """A digest of the move, so writing the same event twice (a retried request) stores it once."""
        text = "\x1f".join(
            (
                self.platform,
                self.platform_id,
                self.audience,
                self.from_state,
                self.state,
                self.note or "",
                self.set_by,
                self.set_at.isoformat(),
            )
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def row(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "platform": self.platform,
            "platform_id": self.platform_id,
            "handle": self.handle,
            "audience": self.audience,
            "from_state": self.from_state,
            "state": self.state,
            "note": self.note,
            "set_by": self.set_by,
            "source": self.source,
            "set_at": self.set_at,
        }


def utc_now() -> datetime:
    """Now in UTC without a time zone, as the warehouse stores timestamps."""
    return datetime.now(UTC).replace(tzinfo=None)


def lead_event(
    *,
    platform: str,
    platform_id: str,
    handle: str | None,
    audience: str,
    current: str,
    state: str,
    note: str | None,
    set_by: str,
    source: str,
    set_at: datetime | None = None,
) -> LeadEvent:
    """The event that moves a lead from ``current`` to ``state`` (``LeadStateError`` when not allowed)."""
    if platform not in PLATFORMS:
        raise LeadStateError(f"unknown platform {platform!r} (platforms: {', '.join(PLATFORMS)})")
    if not audience.strip():
        raise LeadStateError("audience: is empty")
    who = set_by.strip()
    if not who:
        raise LeadStateError("set_by: is empty (who set the state)")
    target = parse_state(state)
    check_transition(current, target)
    text = None if note is None else note.strip() or None
    if text is not None and len(text) > MAX_NOTE_CHARS:
        raise LeadStateError(f"note: is {len(text)} characters, more than {MAX_NOTE_CHARS}")
    return LeadEvent(
        platform=platform,
        platform_id=platform_id,
        handle=handle,
        audience=audience.strip(),
        from_state=parse_state(current),
        state=target,
        note=None if text is None else storable_text(text),
        set_by=who,
        source=source,
        set_at=set_at or utc_now(),
    )


# --- exports (scout_assets/assets/lead_exports.py, docs/leads.md "Exports") -----------------------

# The columns of every export file, in this order; the names are a contract with whoever reads
# the files (docs/leads.md lists them): add columns at the end, never rename or drop one.
EXPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("profile_url", "the account's public page"),
    ("platform", "twitter or bluesky"),
    ("platform_id", "the platform's id of the account"),
    ("handle", "the handle, without @"),
    ("name", "the display name"),
    ("bio", "the bio"),
    ("followers", "followers when last seen"),
    ("has", "latest Human Authenticity Score (0..1)"),
    ("verdict", "match: the reviewer's label when reviewed, else the models' consensus"),
    ("consensus", "the models' weighted consensus: match, no_match or uncertain"),
    ("model_labels", 'JSON object: model -> {"label": true/false/null, "reason": text}, its latest label'),
    ("reviewed_label", "the reviewer's label (true / false / null), empty when not reviewed"),
    ("reviewed_by", "who reviewed it"),
    ("keywords", "the keywords whose searches found it, comma-separated"),
    ("first_seen", "when a search first found it (UTC)"),
    ("lead_state", "new, reviewed, contacted, replied, converted or rejected when exported"),
    ("audience", "the audience version the lead is for"),
    ("export_date", "the day partition that first exported it"),
)

PROFILE_URLS: dict[str, str] = {
    "twitter": "https://x.com/{handle}",
    "bluesky": "https://bsky.app/profile/{handle}",
}


def profile_url(platform: str, handle: str | None) -> str | None:
    """The account's public page (None without a handle)."""
    if not handle:
        return None
    return PROFILE_URLS[platform].format(handle=handle)
