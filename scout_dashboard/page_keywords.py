"""Keyword leaderboard: which searches find true leads, and at what cost."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from scout_dashboard import formatting, queries, ui
from scout_dashboard.targets import MartsTarget


def render(target: MartsTarget) -> None:
    window = ui.sidebar_window(target)
    st.title("Keyword leaderboard")
    st.caption(
        f"{ui.describe_window(window)}. Cost is API plus labeling cost attributed to the keyword; ratios "
        "are over the whole period. State and trend are those of the keyword's last day in the period."
    )
    board = ui.read(target, queries.keyword_leaderboard(target.schema, window))
    if board.is_empty():
        st.info("No keyword was searched in these days.")
        return
    cost = board["cost_usd"].sum()
    true_labels = board["labels_true"].sum()
    first, second, third, fourth = st.columns(4)
    first.metric("Keywords searched", formatting.count(board.height))
    second.metric("Exhausted", formatting.count(board["exhausted"].fill_null(False).sum()))
    third.metric("Cost", formatting.usd(cost))
    fourth.metric("Cost per true label", formatting.usd(cost / true_labels if true_labels else None))
    st.dataframe(
        board,
        hide_index=True,
        column_config={
            **ui.DAY_COLUMNS,
            "cost_usd": st.column_config.NumberColumn("cost", format="$%.4f"),
            "cost_per_new_profile": st.column_config.NumberColumn("cost / new", format="$%.4f"),
            "cost_per_true_label": st.column_config.NumberColumn("cost / true label", format="$%.4f"),
            "new_per_page": st.column_config.NumberColumn("new / page", format="%.2f"),
        },
    )
    ranked = board.filter(pl.col("cost_per_true_label").is_not_null()).head(15)
    if ranked.height:
        st.subheader("Cheapest true labels")
        chart = (
            alt.Chart(
                ranked.with_columns(label=pl.col("keyword") + " (" + pl.col("platform") + ")").to_pandas()
            )
            .mark_bar()
            .encode(
                x=alt.X("cost_per_true_label:Q", title="USD per true label"),
                y=alt.Y("label:N", sort="x", title=None, axis=alt.Axis(labelLimit=240)),
                tooltip=["keyword", "platform", "labels_true", "cost_usd", "cost_per_true_label"],
            )
        )
        st.altair_chart(chart, use_container_width=True)
