"""Model agreement: how often each model agrees with people, what its vote weighs, and how models agree with each other."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from scout_dashboard import formatting, queries, ui
from scout_dashboard.targets import MartsTarget

REFERENCE_MODEL = "local-minilm"  # dbt var reference_model
# Not in the table: the threshold is in the caption, and the local labeler's fit is a sentence
# rather than columns empty for every other model.
SENTENCE_COLUMNS = (
    "validated_min_reviews",
    "fit_id",
    "fit_reviews",
    "cv_accuracy",
    "cv_precision_true",
    "cv_recall_true",
    "defer_share",
    "fitted_at",
)


def render(target: MartsTarget) -> None:
    ui.sidebar_window(target)
    st.title("Model agreement")
    audiences = ui.read(target, queries.audiences(target.schema))["audience"].to_list()
    if not audiences:
        st.info("No account has been labeled yet.")
        return
    audience = st.selectbox("Audience", audiences, key="models_audience")
    _with_people(target, audience)
    _between_models(target, audience)


def _with_people(target: MartsTarget, audience: str) -> None:
    """Agreement with people's reviews per model: the numbers the consensus weights come from."""
    st.subheader("Agreement with people")
    people = ui.read(target, queries.model_agreement(target.schema, audience))
    if people.is_empty():
        st.info("No model has labeled an account of this audience yet.")
        return
    needed = int(people["validated_min_reviews"][0])
    st.caption(
        "Over the accounts each model labeled that a person reviewed for this audience (the latest "
        "review of each). A model's vote weighs (agreements + 1) / (reviewed + 2) in the consensus: 50% "
        f"before any review. It is validated from {needed} reviewed accounts; a keyword is never judged "
        "invalid on one unvalidated model. Reviews are the accounts people chose to review, not a random "
        "sample: read each rate with its count."
    )
    columns = st.columns(max(people.height, 1))
    for column, row in zip(columns, people.iter_rows(named=True), strict=False):
        column.metric(
            row["model"],
            formatting.percent(row["agreement_rate"]),
            help=f"agreement with people on {formatting.count(row['reviewed'])} reviewed accounts; "
            f"weight {formatting.percent(row['weight'])}; "
            + ("validated" if row["validated"] else f"unvalidated (fewer than {needed} reviewed)"),
        )
    if people["reviewed"].sum() == 0:
        st.info(
            "Nobody has reviewed an account of this audience yet: every model weighs 50%. "
            "Review on the Review page, or import reviews with `scout review import FILE`."
        )
    st.dataframe(
        people.drop(SENTENCE_COLUMNS),
        hide_index=True,
        column_config={
            "agreement_rate": st.column_config.NumberColumn("agrees with people", format="percent"),
            "decided_agreement_rate": st.column_config.NumberColumn(
                "agrees when both decided", format="percent"
            ),
            "precision_true": st.column_config.NumberColumn("precision (true)", format="percent"),
            "recall_true": st.column_config.NumberColumn("recall (true)", format="percent"),
            "weight": st.column_config.NumberColumn("weight", format="%.3f"),
        },
    )
    _local_fit(people.filter(pl.col("fit_id").is_not_null()))


def _local_fit(fits: pl.DataFrame) -> None:
    """The fitted local labeler in use, with its cross-validated figures on the reviews it learned from."""
    for row in fits.iter_rows(named=True):
        st.caption(
            f"{row['model']} runs fit `{row['fit_id'][:12]}`, trained on {formatting.count(row['fit_reviews'])} "
            f"reviews: cross-validated accuracy {formatting.percent(row['cv_accuracy'])}, precision (true) "
            f"{formatting.percent(row['cv_precision_true'])}, recall (true) "
            f"{formatting.percent(row['cv_recall_true'])}; it defers {formatting.percent(row['defer_share'])} "
            "of profiles to the LLMs."
        )


def _between_models(target: MartsTarget, audience: str) -> None:
    """How often models agree with each other, and what each label costs."""
    st.subheader("Between models")
    st.caption(
        "All labels so far. Agreement counts the accounts both models labeled; uncertain agrees with "
        f"uncertain. Reference: {REFERENCE_MODEL}, the free local model every account gets. Agreeing with "
        "another model is not being right: the section above measures that."
    )
    summary = ui.read(target, queries.model_summary(target.schema, audience))
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
    st.markdown("**Agreement matrix**")
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
