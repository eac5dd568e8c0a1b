"""Every query the dashboard runs, built from its filters as SQL with bound parameters.

The dashboard reads the dbt marts only (never the tables the assets write), so what people
see is what the docs site documents and the dbt tests check. Values typed into the UI never
become SQL text: each is bound as a ``$n`` parameter, a placeholder DuckDB and PostgreSQL
(ADBC) both understand (``scout_leads/sql.py``); the lead list itself is ``scout_leads/lead_list.py``,
shared with the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from scout_contract.platforms import PLATFORMS
from scout_leads.sql import Binder, Query, check_platforms, check_schema

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
        object.__setattr__(self, "platforms", check_platforms(self.platforms, "window"))

    def where(self, bind: Binder, day_column: str = "day") -> str:
        return (
            f"{day_column} >= {bind(self.start)} and {day_column} < {bind(self.end)} "
            f"and {bind.in_list('platform', self.platforms)}"
        )


def data_range(schema: str) -> Query:
    """First and last day any daily mart holds (to default the date picker)."""
    s = check_schema(schema)
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
    bind = Binder()
    sums = ", ".join(f"cast(coalesce(sum({column}), 0) as bigint) as {column}" for column, _ in FUNNEL_STAGES)
    sql = f"select {sums} from {check_schema(schema)}.mart_discovery_funnel where {window.where(bind)}"
    return Query(sql, tuple(bind.values))


def funnel_daily(schema: str, window: Window) -> Query:
    bind = Binder()
    columns = ", ".join(column for column, _ in FUNNEL_STAGES)
    sql = (
        f"select day, platform, {columns}, new_per_page, true_rate "
        f"from {check_schema(schema)}.mart_discovery_funnel where {window.where(bind)} order by day, platform"
    )
    return Query(sql, tuple(bind.values))


OUTREACH_STAGES: tuple[tuple[str, str], ...] = (
    ("leads", "Leads"),
    ("reviewed", "Reviewed"),
    ("contacted", "Contacted"),
    ("replied", "Replied"),
    ("converted", "Converted"),
    ("rejected", "Rejected"),
    ("excluded", "Excluded"),
)


def outreach_funnel(schema: str, window: Window) -> Query:
    """Per audience, the leads first seen in the window's days and how far the outreach took them.

    ``mart_outreach_funnel`` counts accounts, not platforms, so the window's platforms do not apply.
    """
    bind = Binder()
    sums = ", ".join(
        f"cast(coalesce(sum({column}), 0) as bigint) as {column}" for column, _ in OUTREACH_STAGES
    )
    sql = (
        f"select audience, {sums} from {check_schema(schema)}.mart_outreach_funnel "
        f"where day >= {bind(window.start)} and day < {bind(window.end)} group by audience order by leads desc, audience"
    )
    return Query(sql, tuple(bind.values))


def audiences(schema: str) -> Query:
    """Audiences with labels, the most labeled first (the pages' default choice)."""
    return Query(
        f"select audience, count(*) as accounts from {check_schema(schema)}.mart_audience_leads "
        "group by audience order by accounts desc, audience"
    )


def keywords(schema: str) -> Query:
    return Query(
        f"select distinct keyword from {check_schema(schema)}.mart_keyword_performance order by keyword"
    )


# --- keywords --------------------------------------------------------------------------------------


def keyword_leaderboard(schema: str, window: Window) -> Query:
    """One row per keyword x platform over the window, cheapest true label first.

    Ratios are recomputed from the window's sums (a mean of daily ratios would weigh a
    one-profile day like a busy one); state and trend are those of the keyword's last day.
    """
    bind = Binder()
    s = check_schema(schema)
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
    bind = Binder()
    sql = f"select * from {check_schema(schema)}.mart_pipeline_health where {window.where(bind)} order by day, platform"
    return Query(sql, tuple(bind.values))


def health_totals(schema: str, window: Window) -> Query:
    bind = Binder()
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
        f"from {check_schema(schema)}.mart_pipeline_health where {window.where(bind)}"
    )
    return Query(sql, tuple(bind.values))


def quarantine_daily(schema: str, window: Window) -> Query:
    """Quarantine entries per day and platform: rows not stored (row or page) and values nulled or cleaned.

    Read from the ``stg_quarantined_rows`` view (dbt-built and tested like the marts): no mart
    aggregates it, and ``mart_pipeline_health`` keeps its columns fixed for incremental runs.
    """
    bind = Binder()
    sql = (
        "select partition_date as day, platform, "
        "cast(sum(case when severity = 'row' then 1 else 0 end) as bigint) as rows_quarantined, "
        "cast(sum(case when severity = 'page' then 1 else 0 end) as bigint) as pages_quarantined, "
        "cast(sum(case when severity = 'field' then 1 else 0 end) as bigint) as field_notes "
        f"from {check_schema(schema)}.stg_quarantined_rows where {window.where(bind, 'partition_date')} "
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
        f"from {check_schema(schema)}.stg_circuit_breakers "
        "order by case when is_tripped then 0 else 1 end, kind, name"
    )
    return Query(sql)


# --- spend against budget (docs/operations.md, "Budgets and the cost ledger") --------------------


def _spend_where(bind: Binder, window: Window, day_column: str) -> str:
    """The window's days; platform rows of the chosen platforms, and every model row."""
    return (
        f"{day_column} >= {bind(window.start)} and {day_column} < {bind(window.end)} "
        f"and (scope = 'model' or {bind.in_list('name', window.platforms)})"
    )


def spend_vs_budget(schema: str, window: Window) -> Query:
    """Each day's spend against each budget in the window, latest day first, fullest budget first."""
    bind = Binder()
    sql = (
        "select day, scope, name, budget, period, unit, used, cap, share, status, stops, cap_source "
        f"from {check_schema(schema)}.mart_spend_vs_budget where {_spend_where(bind, window, 'day')} "
        "order by day desc, share desc nulls last, scope, name, budget"
    )
    return Query(sql, tuple(bind.values))


def cost_per_outcome(schema: str, window: Window) -> Query:
    """Everything the window cost (every priced request, every LLM call attempt) and what it found."""
    bind = Binder()
    sql = (
        "select coalesce(sum(api_cost_usd), 0) as api_cost_usd, coalesce(sum(llm_cost_usd), 0) as llm_cost_usd, "
        "coalesce(sum(cost_usd), 0) as cost_usd, "
        "cast(coalesce(sum(new_profiles), 0) as bigint) as new_profiles, "
        "cast(coalesce(sum(new_true), 0) as bigint) as new_true, "
        "cast(coalesce(sum(new_confirmed_true), 0) as bigint) as new_confirmed_true "
        f"from {check_schema(schema)}.mart_discovery_funnel where {window.where(bind)}"
    )
    return Query(sql, tuple(bind.values))


def budget_stops(schema: str, window: Window) -> Query:
    """Runs that stopped at a cap in the window, newest first (read from the ``stg_budget_stops`` view)."""
    bind = Binder()
    sql = (
        "select stopped_at, scope, name, cap_field, period, unit, used, cap, next_cost, left_count, not_done "
        f"from {check_schema(schema)}.stg_budget_stops where {_spend_where(bind, window, 'stopped_on')} "
        "order by stopped_at desc"
    )
    return Query(sql, tuple(bind.values))


# --- models ----------------------------------------------------------------------------------------


def model_summary(schema: str, audience: str) -> Query:
    """Each model's own row (model = compared_with) for one audience."""
    bind = Binder()
    sql = (
        "select model, labels, labels_true, labels_false, labels_uncertain, true_share, cost_usd, "
        "cost_per_label, cost_per_true_label, cost_per_confirmed_true_label, call_attempts, "
        "wasted_call_attempts, wasted_cost_usd, agreement_with_reference, shared_with_reference, "
        "label_failures, dead_letters "
        f"from {check_schema(schema)}.mart_model_comparison where audience = {bind(audience)} "
        "and model = compared_with order by labels desc, model"
    )
    return Query(sql, tuple(bind.values))


def model_agreement(schema: str, audience: str) -> Query:
    """Each model's agreement with people's reviews for one audience, and its weight in the consensus.

    Most reviewed first. The local labeler's row also carries the fit in use and its
    cross-validated figures (``fit_id`` and ``cv_*``, null for the other models).
    """
    bind = Binder()
    sql = (
        "select model, reviewed, agreements, agreement_rate, decided_agreement_rate, precision_true, recall_true, "
        "weight, validated, validated_min_reviews, labels, deferred_labels, people_true, model_true, both_true, "
        "fit_id, fit_reviews, cv_accuracy, cv_precision_true, cv_recall_true, defer_share, fitted_at "
        f"from {check_schema(schema)}.mart_model_agreement where audience = {bind(audience)} "
        "order by reviewed desc, weight desc, model"
    )
    return Query(sql, tuple(bind.values))


def model_pairs(schema: str, audience: str) -> Query:
    """Every ordered pair of models for one audience (the agreement matrix)."""
    bind = Binder()
    sql = (
        "select model, compared_with, shared_profiles, agreements, agreement_rate, decided_agreement_rate, "
        "only_model_true, only_compared_true "
        f"from {check_schema(schema)}.mart_model_comparison where audience = {bind(audience)} "
        "order by model, compared_with"
    )
    return Query(sql, tuple(bind.values))
