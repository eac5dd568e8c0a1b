"""The weighted consensus of the models' labels, with people's reviews laid over it.

The rule the dbt models apply (``int_model_weights``, ``int_account_consensus``,
``mart_audience_leads``), for Python code that cannot wait for a dbt build (the
``keyword_stats`` asset). Pure polars; ``tests/test_consensus.py`` checks that both give the
same answers on the same rows.

- **Votes.** A label votes its trivalent value (true, false or null), except a label the local
  labeler deferred to the LLM cascade: its vote is null in the sense of a blank ballot, for no
  label at all. It asked the LLMs to decide; were it a vote for "uncertain", it would tie every
  lone LLM answer (both weigh 1/2 before any review) and every cascaded profile would end uncertain.
- **Weights.** Per (audience, model): over the accounts the model voted on that have a latest
  review for the audience, ``reviewed`` = how many and ``agreements`` = how many votes equal the
  person's label (null equals null); deferred labels cast no vote and are not counted. ``weight = (agreements + 1) / (reviewed + 2)`` (Laplace's
  rule: 1/2 for a model nobody checked). ``validated`` = ``reviewed >= VALIDATED_MIN_REVIEWS``.
- **Consensus.** Each vote adds its model's weight to its label; the label with the largest sum
  wins. Sums within ``TIE_TOLERANCE`` of each other tie, and a tie is null (so is a win of the
  null votes). The consensus is *backed* when a validated model, or at least two models, cast it.
- **Override.** An account with a review for the audience takes the person's label (source
  ``review``, always backed); otherwise the consensus (source ``consensus``).

Labels are compared as words (``match`` / ``no_match`` / ``uncertain``), as in dbt, so that null
equals null.
"""

from __future__ import annotations

import polars as pl

# The dbt var validated_min_reviews (dbt_project/dbt_project.yml) is the same number;
# tests/test_consensus.py fails when they differ.
VALIDATED_MIN_REVIEWS = 20
# The dbt var consensus_tie_tolerance, checked by the same test.
TIE_TOLERANCE = 1e-9

ACCOUNT: tuple[str, ...] = ("audience", "platform", "platform_id")
MATCH, NO_MATCH, UNCERTAIN = "match", "no_match", "uncertain"
SOURCE_REVIEW, SOURCE_CONSENSUS = "review", "consensus"

LABEL_COLUMNS: tuple[str, ...] = (*ACCOUNT, "model", "label", "deferred")
REVIEW_COLUMNS: tuple[str, ...] = (*ACCOUNT, "label")


def _require(frame: pl.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {missing}; it has {frame.columns}")


def _word(label: pl.Expr) -> pl.Expr:
    return (
        pl.when(label.is_null())
        .then(pl.lit(UNCERTAIN))
        .when(label)
        .then(pl.lit(MATCH))
        .otherwise(pl.lit(NO_MATCH))
    )


def _label_of(word: pl.Expr) -> pl.Expr:
    return pl.when(word == MATCH).then(pl.lit(True)).when(word == NO_MATCH).then(pl.lit(False))


def votes(labels: pl.DataFrame) -> pl.DataFrame:
    """``labels`` (audience, platform, platform_id, model, label, deferred) with ``vote``: a word, null when deferred."""
    _require(labels, LABEL_COLUMNS, "labels")
    duplicated = labels.select(*ACCOUNT, "model").is_duplicated()
    if duplicated.any():
        first = labels.filter(duplicated).row(0, named=True)
        raise ValueError(
            "labels: more than one label of one model for one account and audience "
            f"({first['model']} on {first['platform']}:{first['platform_id']} for {first['audience']})"
        )
    return labels.with_columns(
        pl.when(pl.col("deferred").fill_null(False))
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(_word(pl.col("label")))
        .alias("vote")
    )


def reviewed_accounts(reviews: pl.DataFrame) -> pl.DataFrame:
    """The latest reviews that name an account: (audience, platform, platform_id, verdict), one per account.

    ``reviews`` holds the latest review of each account, as ``LATEST_REVIEWS_SQL``
    (``scout_contract/reviews.py``) returns them; a review with no ``platform_id`` matched no
    profile and is left out.
    """
    _require(reviews, REVIEW_COLUMNS, "reviews")
    known = reviews.filter(pl.col("platform_id").is_not_null())
    duplicated = known.select(ACCOUNT).is_duplicated()
    if duplicated.any():
        first = known.filter(duplicated).row(0, named=True)
        raise ValueError(
            "reviews: more than one latest review of one account and audience "
            f"({first['platform']}:{first['platform_id']} for {first['audience']}); pass the latest only"
        )
    return known.select(*ACCOUNT, _word(pl.col("label")).alias("verdict"))


def model_weights(
    labels: pl.DataFrame, reviews: pl.DataFrame, validated_min_reviews: int = VALIDATED_MIN_REVIEWS
) -> pl.DataFrame:
    """Per (audience, model): labels, reviewed, agreements, weight and validated.

    ``labels`` need not be every label: every label of the reviewed accounts is enough for the
    weights, and the models without one weigh 1/2 (``labels`` counts only the labels given).
    """
    voted = votes(labels)
    people = reviewed_accounts(reviews)
    per_model = voted.group_by("audience", "model").agg(pl.len().cast(pl.Int64).alias("labels"))
    overlaps = (
        voted.filter(pl.col("vote").is_not_null())
        .join(people, on=list(ACCOUNT), how="inner")
        .group_by("audience", "model")
        .agg(
            pl.len().cast(pl.Int64).alias("reviewed"),
            (pl.col("vote") == pl.col("verdict")).sum().cast(pl.Int64).alias("agreements"),
        )
    )
    return (
        per_model.join(overlaps, on=["audience", "model"], how="left")
        .with_columns(pl.col("reviewed").fill_null(0), pl.col("agreements").fill_null(0))
        .with_columns(
            ((pl.col("agreements") + 1) / (pl.col("reviewed") + 2)).cast(pl.Float64).alias("weight"),
            (pl.col("reviewed") >= validated_min_reviews).alias("validated"),
        )
        .sort("audience", "model")
    )


def weighted_verdict(weight_true: pl.Expr, weight_false: pl.Expr, weight_uncertain: pl.Expr) -> pl.Expr:
    """The word with the largest summed weight; a tie (within ``TIE_TOLERANCE``) is uncertain."""
    return (
        pl.when(
            (weight_true > weight_false + TIE_TOLERANCE) & (weight_true > weight_uncertain + TIE_TOLERANCE)
        )
        .then(pl.lit(MATCH))
        .when(
            (weight_false > weight_true + TIE_TOLERANCE) & (weight_false > weight_uncertain + TIE_TOLERANCE)
        )
        .then(pl.lit(NO_MATCH))
        .otherwise(pl.lit(UNCERTAIN))
    )


def account_verdicts(labels: pl.DataFrame, reviews: pl.DataFrame, weights: pl.DataFrame) -> pl.DataFrame:
    """One row per account and audience that a model labeled or a person reviewed.

    Columns: audience, platform, platform_id, models_labeled, weight_true, weight_false,
    weight_uncertain, consensus_verdict, consensus_backed, verdict, verdict_source,
    verdict_backed, label (the verdict as true / false / null). ``weights`` is
    :func:`model_weights`' answer; a model missing from it weighs 1/2 and is unvalidated.
    """
    voted = (
        votes(labels)
        .join(
            weights.select("audience", "model", "weight", "validated"), on=["audience", "model"], how="left"
        )
        .with_columns(pl.col("weight").fill_null(0.5), pl.col("validated").fill_null(False))
    )
    sums = (
        voted.group_by(ACCOUNT)
        .agg(
            pl.len().cast(pl.Int64).alias("models_labeled"),
            *[
                pl.col("weight").filter(pl.col("vote") == word).sum().alias(f"weight_{name}")
                for word, name in ((MATCH, "true"), (NO_MATCH, "false"), (UNCERTAIN, "uncertain"))
            ],
        )
        .with_columns(
            weighted_verdict(pl.col("weight_true"), pl.col("weight_false"), pl.col("weight_uncertain")).alias(
                "consensus_verdict"
            )
        )
    )
    support = (
        voted.join(sums.select(*ACCOUNT, "consensus_verdict"), on=list(ACCOUNT))
        .filter(pl.col("vote") == pl.col("consensus_verdict"))
        .group_by(ACCOUNT)
        .agg(
            pl.len().alias("consensus_models"),
            pl.col("validated").any().alias("consensus_validated"),
        )
    )
    consensus = sums.join(support, on=list(ACCOUNT), how="left").with_columns(
        (
            pl.col("consensus_validated").fill_null(False) | (pl.col("consensus_models").fill_null(0) >= 2)
        ).alias("consensus_backed")
    )
    people = reviewed_accounts(reviews)
    accounts = pl.concat([consensus.select(ACCOUNT), people.select(ACCOUNT)]).unique()
    reviewed = pl.col("verdict").is_not_null()
    return (
        accounts.join(consensus, on=list(ACCOUNT), how="left")
        .join(people, on=list(ACCOUNT), how="left")
        .with_columns(
            pl.col("models_labeled").fill_null(0),
            *[pl.col(f"weight_{name}").fill_null(0.0) for name in ("true", "false", "uncertain")],
            pl.when(reviewed).then(pl.col("verdict")).otherwise(pl.col("consensus_verdict")).alias("verdict"),
            pl.when(reviewed)
            .then(pl.lit(SOURCE_REVIEW))
            .otherwise(pl.lit(SOURCE_CONSENSUS))
            .alias("verdict_source"),
            (reviewed | pl.col("consensus_backed").fill_null(False)).alias("verdict_backed"),
        )
        .with_columns(_label_of(pl.col("verdict")).alias("label"))
        .select(
            *ACCOUNT,
            "models_labeled",
            "weight_true",
            "weight_false",
            "weight_uncertain",
            "consensus_verdict",
            "consensus_backed",
            "verdict",
            "verdict_source",
            "verdict_backed",
            "label",
        )
        .sort(ACCOUNT)
    )


def verdicts_of(
    labels: pl.DataFrame, reviews: pl.DataFrame, validated_min_reviews: int = VALIDATED_MIN_REVIEWS
) -> pl.DataFrame:
    """:func:`account_verdicts` with the weights learned from the same labels and reviews."""
    return account_verdicts(labels, reviews, model_weights(labels, reviews, validated_min_reviews))
