"""Pipeline health over time: API calls, errors, latency, retries, labeling failures, cost, quarantine;
the circuit breakers as they stand now; and spend against the budgets, with the cost per outcome."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from scout_dashboard import formatting, queries, ui
from scout_dashboard.targets import MartsTarget


def render(target: MartsTarget) -> None:
    window = ui.sidebar_window(target)
    st.title("Pipeline health")
    st.caption(ui.describe_window(window))
    totals = ui.read(target, queries.health_totals(target.schema, window)).row(0, named=True)
    error_rate = totals["api_errors"] / totals["api_calls"] if totals["api_calls"] else None
    row_one = st.columns(4)
    row_one[0].metric("API calls", formatting.count(totals["api_calls"]))
    row_one[1].metric(
        "API errors",
        formatting.count(totals["api_errors"]),
        help=f"{formatting.percent(error_rate)} of calls",
    )
    row_one[2].metric("Retries", formatting.count(totals["retries"]))
    row_one[3].metric("Rate limited (429)", formatting.count(totals["rate_limited"]))
    row_two = st.columns(4)
    row_two[0].metric("Worst daily p95 latency", formatting.millis(totals["worst_daily_p95_ms"]))
    row_two[1].metric("Label failures", formatting.count(totals["label_failures"]))
    row_two[2].metric("Dead letters", formatting.count(totals["dead_letters"]))
    row_two[3].metric(
        "Cost",
        formatting.usd(totals["cost_usd"]),
        help=f"API {formatting.usd(totals['api_cost_usd'])} + labels {formatting.usd(totals['label_cost_usd'])}",
    )

    daily = ui.read(target, queries.health_daily(target.schema, window))
    if daily.is_empty():
        st.info("Nothing ran in these days.")
        return
    per_day = (
        daily.group_by("day")
        .agg(
            pl.col("api_calls").sum().alias("API calls"),
            pl.col("api_errors").sum().alias("errors"),
            pl.col("retries").sum().alias("retries"),
            pl.col("api_cost_usd").sum().alias("API cost"),
            pl.col("label_cost_usd").sum().alias("labeling cost"),
        )
        .sort("day")
    )
    left, right = st.columns(2)
    left.subheader("Calls, errors and retries")
    left.altair_chart(
        ui.daily_chart(per_day, ["API calls", "errors", "retries"], "calls"), use_container_width=True
    )
    right.subheader("Cost per day")
    right.altair_chart(
        ui.daily_chart(per_day, ["API cost", "labeling cost"], "USD", mark="bar"), use_container_width=True
    )
    st.subheader("Latency per platform")
    latency = (
        daily.select("day", "platform", "latency_p50_ms", "latency_p95_ms")
        .unpivot(index=["day", "platform"], variable_name="measure", value_name="ms")
        .drop_nulls("ms")
        .with_columns(series=pl.col("platform") + " " + pl.col("measure").str.replace_all("latency_|_ms", ""))
    )
    chart = (
        alt.Chart(latency.to_pandas())
        .mark_line(point=True)
        .encode(
            x=alt.X("yearmonthdate(day):T", title=None, axis=ui.DAY_AXIS),
            y=alt.Y("ms:Q", title="ms"),
            color=alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom")),
            tooltip=["series", "ms"],
        )
        .properties(height=280)
    )
    st.altair_chart(chart, use_container_width=True)
    st.dataframe(daily, hide_index=True, column_config=ui.DAY_COLUMNS)
    _quarantine(target, window)
    _breakers(target)
    _spend(target, window)


def _quarantine(target: MartsTarget, window: queries.Window) -> None:
    """What the parsers could not read: rows and pages not stored, values stored as null or cleaned.

    Last on the page: on a warehouse whose dbt build predates the view, only this part is missing.
    """
    st.subheader("Quarantine")
    per_day = ui.read(target, queries.quarantine_daily(target.schema, window))
    cells = st.columns(3)
    cells[0].metric(
        "Quarantined rows",
        formatting.count(int(per_day["rows_quarantined"].sum())),
        help="Rows of stored pages the parsers could not read; the rest of each page was kept.",
    )
    cells[1].metric(
        "Quarantined pages",
        formatting.count(int(per_day["pages_quarantined"].sum())),
        help="Stored pages that are not a page at all (e.g. not JSON).",
    )
    cells[2].metric(
        "Field notes",
        formatting.count(int(per_day["field_notes"].sum())),
        help="Values stored as null because they could not be read, or text cleaned or cut.",
    )
    if per_day.height:
        st.caption("Reasons and raw rows: the `quarantined_rows` table (docs/operations.md).")
        st.dataframe(per_day, hide_index=True, column_config=ui.DAY_COLUMNS)


def _breakers(target: MartsTarget) -> None:
    """The circuit breakers as they stand now: which platform or provider runs skip, and until when.

    After the quarantine panel, for the same reason: a dbt build older than the view hides only this.
    """
    st.subheader("Circuit breakers")
    breakers = ui.read(target, queries.circuit_breakers(target.schema))
    tripped = breakers.filter(pl.col("state") != "closed")
    if breakers.is_empty():
        st.caption("No platform or model provider has been called yet.")
        return
    if tripped.is_empty():
        st.caption("All closed: every platform and model provider is called normally.")
    else:
        names = ", ".join(f"{r['kind']} {r['name']} ({r['state']})" for r in tripped.iter_rows(named=True))
        st.warning(f"Skipped while open, probed after the cool-down: {names}", icon=":material/power_off:")
    st.dataframe(
        breakers.with_columns(pl.col("error_rate").map_elements(formatting.percent, return_dtype=pl.String)),
        hide_index=True,
        column_config={
            "opened_at": st.column_config.DatetimeColumn("opened (UTC)", format="YYYY-MM-DD HH:mm"),
            "probe_after": st.column_config.DatetimeColumn("next probe (UTC)", format="YYYY-MM-DD HH:mm"),
            "updated_at": st.column_config.DatetimeColumn("last call (UTC)", format="YYYY-MM-DD HH:mm"),
        },
    )


def _spend(target: MartsTarget, window: queries.Window) -> None:
    """Spend against each budget, what a lead costs with everything counted, and the runs a cap stopped.

    Last on the page, for the same reason as the panels above it: a dbt build older than
    ``mart_spend_vs_budget`` hides only this part.
    """
    st.subheader("Spend against budget")
    outcome = ui.read(target, queries.cost_per_outcome(target.schema, window)).row(0, named=True)

    def per(count: int) -> float | None:
        return outcome["cost_usd"] / count if count else None

    cells = st.columns(4)
    everything = (
        f"API {formatting.usd(outcome['api_cost_usd'])} + every LLM call attempt "
        f"{formatting.usd(outcome['llm_cost_usd'])} (failed and malformed calls included)"
    )
    cells[0].metric("Spent", formatting.usd(outcome["cost_usd"]), help=everything)
    cells[1].metric("Cost per new profile", formatting.usd(per(outcome["new_profiles"])))
    cells[2].metric("Cost per true label", formatting.usd(per(outcome["new_true"])))
    cells[3].metric(
        "Cost per confirmed true label",
        formatting.usd(per(outcome["new_confirmed_true"])),
        help="Per new account a reviewer confirmed as a match.",
    )
    spend = ui.read(target, queries.spend_vs_budget(target.schema, window))
    if spend.is_empty():
        st.caption("No spend recorded in these days.")
        return
    latest = spend.filter(pl.col("day") == spend["day"].max())
    over = latest.filter(pl.col("status").is_in(["warning", "reached"]))
    if over.height:
        names = ", ".join(
            f"{r['name']} {r['budget']} {formatting.percent(r['share'])}" for r in over.iter_rows(named=True)
        )
        st.warning(f"Budgets at 80% or more on {latest['day'][0]}: {names}", icon=":material/savings:")
    else:
        st.caption(f"On {latest['day'][0]} every capped budget is under 80%.")
    st.dataframe(
        spend.with_columns(pl.col("share").map_elements(formatting.percent, return_dtype=pl.String)),
        hide_index=True,
        column_config=ui.DAY_COLUMNS,
    )
    stops = ui.read(target, queries.budget_stops(target.schema, window))
    if stops.height:
        st.caption(
            f"{stops.height} run(s) stopped at a cap; what each left undone is resumed by the next run."
        )
        st.dataframe(
            stops,
            hide_index=True,
            column_config={
                "stopped_at": st.column_config.DatetimeColumn("stopped (UTC)", format="YYYY-MM-DD HH:mm")
            },
        )
