"""Model agreement: how often models label an account alike, and what each label costs."""

from __future__ import annotations

import altair as alt
import streamlit as st

from scout_dashboard import formatting, queries, ui
from scout_dashboard.targets import MartsTarget

REFERENCE_MODEL = "local-minilm"  # dbt var reference_model


def render(target: MartsTarget) -> None:
    ui.sidebar_window(target)
    st.title("Model agreement")
    audiences = ui.read(target, queries.audiences(target.schema))["audience"].to_list()
    if not audiences:
        st.info("No account has been labeled yet.")
        return
    audience = st.selectbox("Audience", audiences, key="models_audience")
    st.caption(
        "All labels so far. Agreement counts the accounts both models labeled; uncertain agrees with "
        f"uncertain. Reference: {REFERENCE_MODEL}, the free local model every account gets."
    )
    summary = ui.read(target, queries.model_summary(target.schema, audience))
    columns = st.columns(max(len(summary), 1))
    for column, row in zip(columns, summary.iter_rows(named=True), strict=False):
        column.metric(
            row["model"],
            formatting.percent(row["agreement_with_reference"]),
            help=f"agreement with {REFERENCE_MODEL}; {formatting.count(row['labels'])} labels, "
            f"{formatting.usd(row['cost_per_label'])} per label",
        )
    st.dataframe(
        summary,
        hide_index=True,
        column_config={
            "true_share": st.column_config.NumberColumn("true share", format="percent"),
            "agreement_with_reference": st.column_config.NumberColumn(
                f"agrees with {REFERENCE_MODEL}", format="percent"
            ),
            "cost_usd": st.column_config.NumberColumn("cost", format="$%.4f"),
            "cost_per_label": st.column_config.NumberColumn("cost / label", format="$%.6f"),
            "cost_per_true_label": st.column_config.NumberColumn("cost / true label", format="$%.6f"),
        },
    )
    pairs = ui.read(target, queries.model_pairs(target.schema, audience))
    st.subheader("Agreement matrix")
    base = alt.Chart(pairs.to_pandas()).encode(
        x=alt.X("compared_with:N", title=None), y=alt.Y("model:N", title=None)
    )
    heat = base.mark_rect().encode(
        color=alt.Color(
            "agreement_rate:Q", scale=alt.Scale(domain=[0, 1], scheme="blues"), title="agreement"
        ),
        tooltip=["model", "compared_with", "shared_profiles", "agreements", "agreement_rate"],
    )
    text = base.mark_text(fontSize=14).encode(
        text=alt.Text("agreement_rate:Q", format=".0%"),
        color=alt.condition("datum.agreement_rate > 0.6", alt.value("white"), alt.value("black")),
    )
    st.altair_chart((heat + text).properties(height=80 * max(summary.height, 1)), use_container_width=True)
    st.dataframe(pairs, hide_index=True)
