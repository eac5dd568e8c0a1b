"""The lead list: its filters, columns and order, shared by the dashboard's Leads page and the API.

One builder means the page and ``GET /leads`` list the same leads in the same order for the same
filters, page by page (``limit`` / ``offset``).

The list reads ``mart_audience_leads`` and overlays what people changed since dbt last built it, so
a move or an exclusion shows at once wherever it was made: the lead state is the latest
``lead_events`` row when there is one (else the mart's), and an account in ``excluded_accounts`` is
dropped. "New since the last export" means no ``lead_exports`` ledger row holds the lead for the
audience, the same rule the ``lead_exports`` asset applies.
"""

from __future__ import annotations

from dataclasses import dataclass

from scout_contract.exclusions import excluded_account_sql
from scout_contract.leads import STATES, exported_lead_sql
from scout_contract.platforms import PLATFORMS
from scout_leads.sql import Binder, Query, check_platforms, check_schema, contains_pattern

VERDICTS: tuple[str, ...] = ("match", "uncertain", "no_match")


LEAD_COLUMNS: tuple[str, ...] = (
    "platform",
    "handle",
    "name",
    "verdict",
    "verdict_source",
    "reviewed_label",
    "reviewed_by",
    "reviewed_at",
    "review_reason",
    "consensus_verdict",
    "verdict_backed",
    "match_weight_share",
    "votes_true",
    "match_share",
    "models_labeled",
    "agreeing_models",
    "has",
    "likely_is",
    "followers",
    "source_keywords",
    "first_seen_at",
    "last_seen_at",
    "bio",
    "reasons",
    "has_s_person",
    "has_s_creator",
    "has_s_entity",
    "has_s_bot",
    "has_penalty",
    "platform_id",
    "audience",
    "lead_state",
    "lead_state_at",
    "lead_note",
    "lead_state_by",
)


@dataclass(frozen=True)
class LeadFilters:
    """What the leads page filters on. Ranges are inclusive; ``None`` leaves a bound open."""

    audience: str
    platforms: tuple[str, ...] = PLATFORMS
    verdicts: tuple[str, ...] = ("match",)
    has_min: float = 0.0
    has_max: float = 1.0
    followers_min: int | None = None
    followers_max: int | None = None
    keyword: str | None = None
    search: str | None = None
    states: tuple[str, ...] = STATES
    new_since_export: bool = False
    limit: int = 5000
    offset: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "platforms", check_platforms(self.platforms, "lead filters"))
        unknown = sorted(set(self.verdicts) - set(VERDICTS))
        if unknown:
            raise ValueError(f"lead filters: unknown verdict(s) {unknown}; known: {list(VERDICTS)}")
        if not 0.0 <= self.has_min <= self.has_max <= 1.0:
            raise ValueError(
                f"lead filters: HAS range [{self.has_min}, {self.has_max}] must satisfy 0 <= min <= max <= 1"
            )
        if None not in (self.followers_min, self.followers_max) and self.followers_min > self.followers_max:
            raise ValueError(
                f"lead filters: followers range [{self.followers_min}, {self.followers_max}] has min above max"
            )
        unknown_states = sorted(set(self.states) - set(STATES))
        if unknown_states:
            raise ValueError(f"lead filters: unknown lead state(s) {unknown_states}; known: {list(STATES)}")
        if self.limit <= 0:
            raise ValueError(f"lead filters: limit must be positive, got {self.limit}")
        if self.offset < 0:
            raise ValueError(f"lead filters: offset must not be negative, got {self.offset}")


def _lead_where(filters: LeadFilters, bind: Binder) -> str:
    clauses = [  # the audience is already the source's (``_from_live``)
        bind.in_list("platform", filters.platforms),
        bind.in_list("verdict", filters.verdicts),
    ]
    if set(filters.states) != set(STATES):
        clauses.append(bind.in_list("lead_state", filters.states))
    if filters.new_since_export:
        clauses.append(f"not {exported_lead_sql('live_leads')}")
    # An account without a HAS is only kept while the range is the full [0, 1].
    has_range = f"has between {bind(filters.has_min)} and {bind(filters.has_max)}"
    if (filters.has_min, filters.has_max) == (0.0, 1.0):
        has_range = f"({has_range} or has is null)"
    clauses.append(has_range)
    if filters.followers_min is not None:
        clauses.append(f"followers >= {bind(filters.followers_min)}")
    if filters.followers_max is not None:
        clauses.append(f"followers <= {bind(filters.followers_max)}")
    if filters.keyword:
        # source_keywords is "a, b, c": match one whole keyword, not a substring of another.
        clauses.append(f"(', ' || source_keywords || ', ') like {bind(f'%, {filters.keyword}, %')}")
    if filters.search and filters.search.strip():
        pattern = bind(contains_pattern(filters.search.strip()))
        clauses.append(
            f"(handle ilike {pattern} escape '\\' or name ilike {pattern} escape '\\' "
            f"or bio ilike {pattern} escape '\\')"
        )
    return " and ".join(clauses)


# Best leads first: matches, then those a person confirmed, then the larger weighted share of
# true votes, more models saying true, HAS, followers.
LEAD_ORDER = (
    "case verdict when 'match' then 0 when 'uncertain' then 1 else 2 end, "
    "case verdict_source when 'review' then 0 else 1 end, "
    "match_weight_share desc nulls last, votes_true desc, has desc nulls last, followers desc nulls last, handle"
)


# Where the lead list reads a column when a person changed it since dbt built the mart: the latest
# lead event (``ev``) when there is one, else the mart's value (``m``).
_LIVE_EXPRESSIONS: dict[str, str] = {
    "lead_state": "coalesce(ev.state, m.lead_state)",
    "lead_state_at": "case when ev.state is null then m.lead_state_at else ev.set_at end",
    "lead_note": "case when ev.state is null then m.lead_note else ev.note end",
    "lead_state_by": "case when ev.state is null then m.lead_state_by else ev.set_by end",
}


def _from_live(schema: str, filters: LeadFilters, bind: Binder) -> str:
    """The mart's leads of the audience with the live lead state and without the excluded accounts."""
    audience = bind(filters.audience)
    columns = ", ".join(f"{_LIVE_EXPRESSIONS.get(c, f'm.{c}')} as {c}" for c in LEAD_COLUMNS)
    return (
        f"(select {columns} from {check_schema(schema)}.mart_audience_leads as m "
        "left join (select platform, platform_id, state, set_at, note, set_by, row_number() over "
        "(partition by platform, platform_id order by set_at desc, event_id desc) as nth "
        f"from lead_events where audience = {audience}) as ev "
        "on ev.nth = 1 and ev.platform = m.platform and ev.platform_id = m.platform_id "
        f"where m.audience = {audience} and not {excluded_account_sql('m')})"
    )


def leads(schema: str, filters: LeadFilters) -> Query:
    """One page of the lead list, best first (``LEAD_ORDER``); a person's verdict replaces the models'."""
    bind = Binder()
    source = _from_live(schema, filters, bind)
    where = _lead_where(filters, bind)
    sql = (
        f"select {', '.join(LEAD_COLUMNS)} from {source} as live_leads where {where} "
        f"order by {LEAD_ORDER} limit {bind(filters.limit)} offset {bind(filters.offset)}"
    )
    return Query(sql, tuple(bind.values))


def lead_count(schema: str, filters: LeadFilters) -> Query:
    """How many leads match the filters, over all pages."""
    bind = Binder()
    source = _from_live(schema, filters, bind)
    where = _lead_where(filters, bind)
    return Query(f"select count(*) as leads from {source} as live_leads where {where}", tuple(bind.values))
