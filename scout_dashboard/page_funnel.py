"""The discovery funnel (pages searched to accounts labeled true) and the outreach funnel after it."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from scout_dashboard import formatting, queries, ui
from scout_dashboard.targets import MartsTarget


def render(target: MartsTarget) -> None:
    window = ui.sidebar_window(target)
    st.title("Discovery funnel")
    st.caption(
        f"{ui.describe_window(window)}. The last three stages follow the accounts that were new in these "
        "days, wherever their labels arrived later."
    )
    totals = ui.read(target, queries.funnel_totals(target.schema, window)).row(0, named=True)
    columns = st.columns(len(queries.FUNNEL_STAGES))
    for column, (key, label) in zip(columns, queries.FUNNEL_STAGES, strict=True):
        column.metric(label, formatting.count(totals[key]))

    stages = pl.DataFrame(
        {
            "stage": [label for _, label in queries.FUNNEL_STAGES],
            "order": list(range(len(queries.FUNNEL_STAGES))),
            "count": [totals[key] for key, _ in queries.FUNNEL_STAGES],
        }
    )
    chart = (
        alt.Chart(stages.to_pandas())
        .mark_bar()
        .encode(
            x=alt.X("count:Q", title="count"),
            y=alt.Y("stage:N", sort=alt.SortField("order"), title=None, axis=alt.Axis(labelLimit=200)),
            tooltip=["stage", "count"],
        )
        .properties(height=260)
    )
    st.altair_chart(chart, use_container_width=True)

    _outreach(target, window)

    daily = ui.read(target, queries.funnel_daily(target.schema, window))
    if daily.is_empty():
        st.info("No searches in these days.")
        return
    st.subheader("New accounts and true labels per day")
    per_day = (
        daily.group_by("day")
        .agg(
            pl.col("new_profiles").sum().alias("new accounts"), pl.col("new_true").sum().alias("labeled true")
        )
        .sort("day")
    )
    st.altair_chart(
        ui.daily_chart(per_day, ["new accounts", "labeled true"], "accounts"), use_container_width=True
    )
    st.dataframe(
        daily,
        hide_index=True,
        column_config={
            **ui.DAY_COLUMNS,
            "new_per_page": st.column_config.NumberColumn("new / page", format="%.2f"),
            "true_rate": st.column_config.NumberColumn("true rate", format="percent"),
        },
    )


def _outreach(target: MartsTarget, window: queries.Window) -> None:
    """Where the leads first seen in these days stand: reviewed, contacted, replied, converted, rejected."""
    st.subheader("Outreach funnel")
    outreach = ui.read(target, queries.outreach_funnel(target.schema, window))
    if outreach.is_empty():
        st.info("No leads were first seen in these days.")
        return
    st.caption(
        "Leads first seen in these days, per audience, on every platform. Excluded accounts are counted "
        "apart and nowhere else; the states are as of the last dbt build."
    )
    # A plain table (a few rows, one per audience): its numbers are text on the page.
    st.table(outreach.rename(dict(queries.OUTREACH_STAGES)))
