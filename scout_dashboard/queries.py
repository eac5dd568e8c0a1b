"""Every query the dashboard runs, built from its filters as SQL with bound parameters.

The dashboard reads the dbt marts only (never the tables the assets write), so what people
see is what the docs site documents and the dbt tests check. Values typed into the UI never
become SQL text: each is bound as a ``$n`` parameter, a placeholder DuckDB and PostgreSQL
(ADBC) both understand, and the schema name is checked against a plain-identifier pattern.
The SQL is plain ANSI that both engines run: ``||``, ``ILIKE ... ESCAPE``, ``NULLS LAST``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

PLATFORMS: tuple[str, ...] = ("bluesky", "twitter")
VERDICTS: tuple[str, ...] = ("match", "uncertain", "no_match")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Query:
    """SQL with ``$1, $2 ...`` placeholders and the values to bind, in order. Hashable (cache key)."""

    sql: str
    params: tuple[Any, ...] = ()


class _Binder:
    """Collects parameter values and hands out their placeholders."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"

    def in_list(self, column: str, values: Sequence[Any]) -> str:
        """``column in ($i, $j ...)``; an empty selection matches nothing (not everything)."""
        if not values:
            return "1 = 0"
        return f"{column} in ({', '.join(self(v) for v in values)})"


def _schema(schema: str) -> str:
    if not _IDENTIFIER.match(schema):
        raise ValueError(f"marts schema {schema!r} is not a plain lower-case identifier")
    return schema


def _check_platforms(platforms: Sequence[str], what: str) -> tuple[str, ...]:
    unknown = sorted(set(platforms) - set(PLATFORMS))
    if unknown:
        raise ValueError(f"{what}: unknown platform(s) {unknown}; known: {list(PLATFORMS)}")
    return tuple(platforms)


def contains_pattern(text: str) -> str:
    """An ``ILIKE ... ESCAPE '\\'`` pattern matching ``text`` anywhere, wildcards in it taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# --- the window every page shares -------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """Days ``[start, end)`` (half-open, like the dbt partitions) on the chosen platforms."""

    start: date
    end: date
    platforms: tuple[str, ...] = PLATFORMS

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError(f"window: start {self.start} must be before end {self.end} (end is exclusive)")
        object.__setattr__(self, "platforms", _check_platforms(self.platforms, "window"))

    def where(self, bind: _Binder, day_column: str = "day") -> str:
        return (
            f"{day_column} >= {bind(self.start)} and {day_column} < {bind(self.end)} "
            f"and {bind.in_list('platform', self.platforms)}"
        )


def data_range(schema: str) -> Query:
    """First and last day any daily mart holds (to default the date picker)."""
    s = _schema(schema)
    return Query(
        f"select min(day) as first_day, max(day) as last_day from ("
        f"select day from {s}.mart_discovery_funnel union all select day from {s}.mart_pipeline_health"
        f") as days"
    )


# --- funnel ----------------------------------------------------------------------------------------

FUNNEL_STAGES: tuple[tuple[str, str], ...] = (
    ("pages_searched", "Pages searched"),
    ("profiles_returned", "Profiles returned"),
    ("profiles_seen", "Accounts seen"),
    ("new_profiles", "New accounts"),
    ("new_above_threshold", "Above HAS threshold"),
    ("new_labeled", "Labeled"),
    ("new_true", "Labeled true"),
)


def funnel_totals(schema: str, window: Window) -> Query:
    bind = _Binder()
    sums = ", ".join(f"cast(coalesce(sum({column}), 0) as bigint) as {column}" for column, _ in FUNNEL_STAGES)
    sql = f"select {sums} from {_schema(schema)}.mart_discovery_funnel where {window.where(bind)}"
    return Query(sql, tuple(bind.values))


def funnel_daily(schema: str, window: Window) -> Query:
    bind = _Binder()
    columns = ", ".join(column for column, _ in FUNNEL_STAGES)
    sql = (
        f"select day, platform, {columns}, new_per_page, true_rate "
        f"from {_schema(schema)}.mart_discovery_funnel where {window.where(bind)} order by day, platform"
    )
    return Query(sql, tuple(bind.values))


# --- leads -----------------------------------------------------------------------------------------

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
    limit: int = 5000

    def __post_init__(self) -> None:
        object.__setattr__(self, "platforms", _check_platforms(self.platforms, "lead filters"))
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
        if self.limit <= 0:
            raise ValueError(f"lead filters: limit must be positive, got {self.limit}")


def _lead_where(filters: LeadFilters, bind: _Binder) -> str:
    clauses = [
        f"audience = {bind(filters.audience)}",
        bind.in_list("platform", filters.platforms),
        bind.in_list("verdict", filters.verdicts),
    ]
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


def leads(schema: str, filters: LeadFilters) -> Query:
    """The lead list, best first (``LEAD_ORDER``); a person's verdict replaces the models' (``verdict``)."""
    bind = _Binder()
    where = _lead_where(filters, bind)
    sql = (
        f"select {', '.join(LEAD_COLUMNS)} from {_schema(schema)}.mart_audience_leads where {where} "
        f"order by {LEAD_ORDER} limit {bind(filters.limit)}"
    )
    return Query(sql, tuple(bind.values))


def lead_count(schema: str, filters: LeadFilters) -> Query:
    bind = _Binder()
    where = _lead_where(filters, bind)
    return Query(
        f"select count(*) as leads from {_schema(schema)}.mart_audience_leads where {where}",
        tuple(bind.values),
    )


def audiences(schema: str) -> Query:
    """Audiences with labels, the most labeled first (the pages' default choice)."""
    return Query(
        f"select audience, count(*) as accounts from {_schema(schema)}.mart_audience_leads "
        "group by audience order by accounts desc, audience"
    )


def keywords(schema: str) -> Query:
    return Query(f"select distinct keyword from {_schema(schema)}.mart_keyword_performance order by keyword")


# --- keywords --------------------------------------------------------------------------------------


def keyword_leaderboard(schema: str, window: Window) -> Query:
    """One row per keyword x platform over the window, cheapest true label first.

    Ratios are recomputed from the window's sums (a mean of daily ratios would weigh a
    one-profile day like a busy one); state and trend are those of the keyword's last day.
    """
    bind = _Binder()
    s = _schema(schema)
    sql = (
        f"with in_window as (select * from {s}.mart_keyword_performance where {window.where(bind)}), "
        "last_day as (select platform, keyword, max(day) as day from in_window group by platform, keyword), "
        "totals as (select platform, keyword, "
        "cast(sum(pages) as bigint) as pages, cast(sum(new_profiles) as bigint) as new_profiles, "
        "cast(sum(labels_true) as bigint) as labels_true, cast(sum(labels_false) as bigint) as labels_false, "
        "sum(cost_usd) as cost_usd from in_window group by platform, keyword) "
        "select totals.platform, totals.keyword, totals.pages, totals.new_profiles, totals.labels_true, "
        "totals.labels_false, totals.cost_usd, "
        "case when totals.new_profiles > 0 then totals.cost_usd / totals.new_profiles end as cost_per_new_profile, "
        "case when totals.labels_true > 0 then totals.cost_usd / totals.labels_true end as cost_per_true_label, "
        "case when totals.pages > 0 then cast(totals.new_profiles as double precision) / totals.pages end "
        "as new_per_page, "
        "latest.trend, latest.exhausted, latest.still_valid, latest.day as last_day "
        "from totals "
        "join last_day on last_day.platform = totals.platform and last_day.keyword = totals.keyword "
        "join in_window as latest on latest.platform = last_day.platform and latest.keyword = last_day.keyword "
        "and latest.day = last_day.day "
        "order by cost_per_true_label asc nulls last, totals.labels_true desc, totals.new_profiles desc, "
        "totals.keyword"
    )
    return Query(sql, tuple(bind.values))


# --- pipeline health ------------------------------------------------------------------------------


def health_daily(schema: str, window: Window) -> Query:
    bind = _Binder()
    sql = f"select * from {_schema(schema)}.mart_pipeline_health where {window.where(bind)} order by day, platform"
    return Query(sql, tuple(bind.values))


def health_totals(schema: str, window: Window) -> Query:
    bind = _Binder()
    sql = (
        "select cast(coalesce(sum(api_calls), 0) as bigint) as api_calls, "
        "cast(coalesce(sum(api_errors), 0) as bigint) as api_errors, "
        "cast(coalesce(sum(retries), 0) as bigint) as retries, "
        "cast(coalesce(sum(rate_limited), 0) as bigint) as rate_limited, "
        "max(latency_p95_ms) as worst_daily_p95_ms, "
        "cast(coalesce(sum(labels_written), 0) as bigint) as labels_written, "
        "cast(coalesce(sum(label_failures), 0) as bigint) as label_failures, "
        "cast(coalesce(sum(dead_letters), 0) as bigint) as dead_letters, "
        "coalesce(sum(api_cost_usd), 0) as api_cost_usd, coalesce(sum(label_cost_usd), 0) as label_cost_usd, "
        "coalesce(sum(cost_usd), 0) as cost_usd "
        f"from {_schema(schema)}.mart_pipeline_health where {window.where(bind)}"
    )
    return Query(sql, tuple(bind.values))


def quarantine_daily(schema: str, window: Window) -> Query:
    """Quarantine entries per day and platform: rows not stored (row or page) and values nulled or cleaned.

    Read from the ``stg_quarantined_rows`` view (dbt-built and tested like the marts): no mart
    aggregates it, and ``mart_pipeline_health`` keeps its columns fixed for incremental runs.
    """
    bind = _Binder()
    sql = (
        "select partition_date as day, platform, "
        "cast(sum(case when severity = 'row' then 1 else 0 end) as bigint) as rows_quarantined, "
        "cast(sum(case when severity = 'page' then 1 else 0 end) as bigint) as pages_quarantined, "
        "cast(sum(case when severity = 'field' then 1 else 0 end) as bigint) as field_notes "
        f"from {_schema(schema)}.stg_quarantined_rows where {window.where(bind, 'partition_date')} "
        "group by partition_date, platform order by day, platform"
    )
    return Query(sql, tuple(bind.values))


def circuit_breakers(schema: str) -> Query:
    """Every circuit breaker as it stands now, tripped ones first (not windowed: it is a state).

    Read from the ``stg_circuit_breakers`` view; a breaker that never saw a call has no row.
    """
    sql = (
        "select kind, name, state, consecutive_failures, error_rate, calls_in_window, opened_at, "
        "probe_after, times_opened, last_change, last_error, updated_at "
        f"from {_schema(schema)}.stg_circuit_breakers "
        "order by case when is_tripped then 0 else 1 end, kind, name"
    )
    return Query(sql)


# --- spend against budget (docs/operations.md, "Budgets and the cost ledger") --------------------


def _spend_where(bind: _Binder, window: Window, day_column: str) -> str:
    """The window's days; platform rows of the chosen platforms, and every model row."""
    return (
        f"{day_column} >= {bind(window.start)} and {day_column} < {bind(window.end)} "
        f"and (scope = 'model' or {bind.in_list('name', window.platforms)})"
    )


def spend_vs_budget(schema: str, window: Window) -> Query:
    """Each day's spend against each budget in the window, latest day first, fullest budget first."""
    bind = _Binder()
    sql = (
        "select day, scope, name, budget, period, unit, used, cap, share, status, stops, cap_source "
        f"from {_schema(schema)}.mart_spend_vs_budget where {_spend_where(bind, window, 'day')} "
        "order by day desc, share desc nulls last, scope, name, budget"
    )
    return Query(sql, tuple(bind.values))


def cost_per_outcome(schema: str, window: Window) -> Query:
    """Everything the window cost (every priced request, every LLM call attempt) and what it found."""
    bind = _Binder()
    sql = (
        "select coalesce(sum(api_cost_usd), 0) as api_cost_usd, coalesce(sum(llm_cost_usd), 0) as llm_cost_usd, "
        "coalesce(sum(cost_usd), 0) as cost_usd, "
        "cast(coalesce(sum(new_profiles), 0) as bigint) as new_profiles, "
        "cast(coalesce(sum(new_true), 0) as bigint) as new_true, "
        "cast(coalesce(sum(new_confirmed_true), 0) as bigint) as new_confirmed_true "
        f"from {_schema(schema)}.mart_discovery_funnel where {window.where(bind)}"
    )
    return Query(sql, tuple(bind.values))


def budget_stops(schema: str, window: Window) -> Query:
    """Runs that stopped at a cap in the window, newest first (read from the ``stg_budget_stops`` view)."""
    bind = _Binder()
    sql = (
        "select stopped_at, scope, name, cap_field, period, unit, used, cap, next_cost, left_count, not_done "
        f"from {_schema(schema)}.stg_budget_stops where {_spend_where(bind, window, 'stopped_on')} "
        "order by stopped_at desc"
    )
    return Query(sql, tuple(bind.values))


# --- models ----------------------------------------------------------------------------------------


def model_summary(schema: str, audience: str) -> Query:
    """Each model's own row (model = compared_with) for one audience."""
    bind = _Binder()
    sql = (
        "select model, labels, labels_true, labels_false, labels_uncertain, true_share, cost_usd, "
        "cost_per_label, cost_per_true_label, cost_per_confirmed_true_label, call_attempts, "
        "wasted_call_attempts, wasted_cost_usd, agreement_with_reference, shared_with_reference, "
        "label_failures, dead_letters "
        f"from {_schema(schema)}.mart_model_comparison where audience = {bind(audience)} "
        "and model = compared_with order by labels desc, model"
    )
    return Query(sql, tuple(bind.values))


def model_agreement(schema: str, audience: str) -> Query:
    """Each model's agreement with people's reviews for one audience, and its weight in the consensus.

    Most reviewed first. The local labeler's row also carries the fit in use and its
    cross-validated figures (``fit_id`` and ``cv_*``, null for the other models).
    """
    bind = _Binder()
    sql = (
        "select model, reviewed, agreements, agreement_rate, decided_agreement_rate, precision_true, recall_true, "
        "weight, validated, validated_min_reviews, labels, deferred_labels, people_true, model_true, both_true, "
        "fit_id, fit_reviews, cv_accuracy, cv_precision_true, cv_recall_true, defer_share, fitted_at "
        f"from {_schema(schema)}.mart_model_agreement where audience = {bind(audience)} "
        "order by reviewed desc, weight desc, model"
    )
    return Query(sql, tuple(bind.values))


def model_pairs(schema: str, audience: str) -> Query:
    """Every ordered pair of models for one audience (the agreement matrix)."""
    bind = _Binder()
    sql = (
        "select model, compared_with, shared_profiles, agreements, agreement_rate, decided_agreement_rate, "
        "only_model_true, only_compared_true "
        f"from {_schema(schema)}.mart_model_comparison where audience = {bind(audience)} "
        "order by model, compared_with"
    )
    return Query(sql, tuple(bind.values))
