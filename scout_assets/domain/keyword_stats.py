"""Daily keyword statistics and the feedback rules that steer the next searches.

``daily_stats`` is what one keyword yielded on one platform on one day; ``feedback`` reads a
trailing window of those rows and decides which keywords are exhausted (their pages stop
bringing new profiles), which stopped being valid (their profiles are rarely labeled true)
and how good each one's yield per API call is. Both are pure polars over frames the asset
reads, so the rules are unit-tested without a warehouse.

Definitions (docs/keywords.md):
- new_profiles: profiles the keyword returned that day that had never been seen on an
  earlier day (a new profile found by two keywords counts for both);
- labels: one verdict per profile of the day and active audience, whenever it was given (labels
  arrive after searches): the person's label when the profile was reviewed, else the models'
  weighted consensus (``scout_assets/domain/consensus.py``). A true or false verdict counts
  as ``labels_true`` / ``labels_false`` only when it is *backed*: a review, a validated model or
  at least two models cast it. Every other verdict (null, or resting on one unvalidated model)
  counts as ``labels_null``, so one unvalidated model can never make a keyword invalid;
- cost: the priced API calls (``api_calls.cost_usd``; a call stored before prices were recorded
  at the platform's ``api_cost_per_call_usd``), plus what LLM calls cost those profiles, every
  attempt counted (each batch's attempts shared by the profiles it carried:
  ``scout_assets/spend/ledger.py`` ``PROFILE_COST_SQL``).
"""

from __future__ import annotations

import polars as pl

from scout_assets.domain.keyword_rules import KeywordRules

KEY = ["platform", "keyword"]


def daily_stats(
    *,
    pages: pl.DataFrame,  # platform, keyword, result_count   (raw_searches of the day)
    calls: pl.DataFrame,  # platform, keyword, error[, cost_usd] (api_calls of the day)
    sightings: pl.DataFrame,  # platform, platform_id, keyword (profile_sightings of the day)
    first_seen: pl.DataFrame,  # platform, platform_id, first_day (earliest snapshot day)
    scores: pl.DataFrame,  # platform, platform_id, has, is_queued (has_scores of the day)
    labels: pl.DataFrame,  # platform, platform_id, cost_usd  (LLM cost per profile: the ledger)
    verdicts: pl.DataFrame,  # platform, platform_id, label, verdict_backed (consensus.account_verdicts)
    day,
    rules: KeywordRules,
) -> pl.DataFrame:
    page_stats = pages.group_by(KEY).agg(
        pl.len().cast(pl.Int64).alias("searches"),
        pl.col("result_count").sum().cast(pl.Int64).alias("profiles_returned"),
    )
    if "cost_usd" not in calls.columns:
        calls = calls.with_columns(pl.lit(None, pl.Float64).alias("cost_usd"))
    call_stats = calls.group_by(KEY).agg(
        pl.len().cast(pl.Int64).alias("api_calls"),
        pl.col("error").is_not_null().sum().cast(pl.Int64).alias("api_errors"),
        pl.col("cost_usd").sum().cast(pl.Float64).alias("priced_usd"),
        pl.col("cost_usd").is_null().sum().cast(pl.Int64).alias("unpriced_calls"),
    )
    backed = pl.col("verdict_backed").fill_null(False)
    verdict_per_profile = verdicts.group_by(["platform", "platform_id"]).agg(
        (backed & (pl.col("label") == True)).sum().alias("labels_true"),  # noqa: E712 - polars comparison, nulls stay out
        (backed & (pl.col("label") == False)).sum().alias("labels_false"),  # noqa: E712
        (~backed | pl.col("label").is_null()).sum().alias("labels_null"),
    )
    cost_per_profile = labels.group_by(["platform", "platform_id"]).agg(
        pl.col("cost_usd").sum().alias("label_cost_usd")
    )
    label_per_profile = verdict_per_profile.join(
        cost_per_profile, on=["platform", "platform_id"], how="full", coalesce=True
    )
    profile_stats = (
        sightings.select([*KEY, "platform_id"])
        .unique()
        .join(first_seen, on=["platform", "platform_id"], how="left")
        .join(scores, on=["platform", "platform_id"], how="left")
        .join(label_per_profile, on=["platform", "platform_id"], how="left")
        .group_by(KEY)
        .agg(
            pl.len().cast(pl.Int64).alias("unique_profiles"),
            (pl.col("first_day") >= day).sum().cast(pl.Int64).alias("new_profiles"),
            pl.col("has").mean().alias("mean_has"),
            # The queue decision has_scores stored (HAS above has.yaml's queue_threshold).
            pl.col("is_queued").cast(pl.Float64).mean().alias("share_above_threshold"),
            *[
                pl.col(c).fill_null(0).sum().cast(pl.Int64).alias(c)
                for c in ("labels_true", "labels_false", "labels_null")
            ],
            pl.col("label_cost_usd").fill_null(0).sum().alias("label_cost_usd"),
        )
    )
    prices = pl.DataFrame(
        {"platform": list(rules.api_cost_per_call_usd), "price": list(rules.api_cost_per_call_usd.values())},
        schema={"platform": pl.String, "price": pl.Float64},
    )
    stats = (
        page_stats.join(call_stats, on=KEY, how="full", coalesce=True)
        .join(profile_stats, on=KEY, how="full", coalesce=True)
        .join(prices, on="platform", how="left")
        .with_columns(
            *[
                pl.col(c).fill_null(0)
                for c in (
                    "searches",
                    "profiles_returned",
                    "api_calls",
                    "api_errors",
                    "unique_profiles",
                    "new_profiles",
                    "labels_true",
                    "labels_false",
                    "labels_null",
                )
            ],
            pl.col("label_cost_usd").fill_null(0.0),
        )
        .with_columns(
            (
                pl.col("priced_usd").fill_null(0.0)
                + pl.col("unpriced_calls").fill_null(0) * pl.col("price").fill_null(0.0)
            ).alias("api_cost_usd"),
            pl.when(pl.col("profiles_returned") > 0)
            .then(1 - pl.col("unique_profiles") / pl.col("profiles_returned"))
            .alias("duplicate_rate"),
        )
        .with_columns((pl.col("api_cost_usd") + pl.col("label_cost_usd")).alias("cost_usd"))
        .with_columns(
            _per("cost_usd", "new_profiles").alias("cost_per_new_profile"),
            _per("cost_usd", "labels_true").alias("cost_per_true_label"),
            pl.lit(day).alias("day"),
            pl.col("searches").alias("pages"),
        )
    )
    return stats.sort(KEY)


def _per(numerator: str, denominator: str) -> pl.Expr:
    return pl.when(pl.col(denominator) > 0).then(pl.col(numerator) / pl.col(denominator))


def feedback(history: pl.DataFrame, rules: KeywordRules) -> pl.DataFrame:
    """Per (platform, keyword): the rules' verdict over the window of daily stats in ``history``.

    Columns: platform, keyword, yield_exhausted, label_invalid, yield_per_call, feedback_reason.
    """
    window = history.group_by(KEY).agg(
        pl.col("pages").sum().alias("w_pages"),
        pl.col("new_profiles").sum().alias("w_new"),
        pl.col("api_calls").sum().alias("w_calls"),
        pl.col("labels_true").sum().alias("w_true"),
        pl.col("labels_false").sum().alias("w_false"),
    )
    true_rate = pl.col("w_true") / (pl.col("w_true") + pl.col("w_false"))
    new_per_page = pl.col("w_new") / pl.col("w_pages")
    return (
        window.with_columns(
            ((pl.col("w_pages") >= rules.min_pages) & (new_per_page < rules.min_new_per_page)).alias(
                "yield_exhausted"
            ),
            (
                ((pl.col("w_true") + pl.col("w_false")) >= rules.min_labels)
                & (true_rate < rules.min_true_rate)
            ).alias("label_invalid"),
            pl.when(pl.col("w_calls") > 0)
            .then((pl.col("w_new") + rules.true_label_weight * pl.col("w_true")) / pl.col("w_calls"))
            .alias("yield_per_call"),
        )
        .with_columns(
            pl.when(pl.col("yield_exhausted"))
            .then(
                pl.format(
                    "exhausted: {} new profiles over {} pages in the window",
                    pl.col("w_new"),
                    pl.col("w_pages"),
                )
            )
            .when(pl.col("label_invalid"))
            .then(
                pl.format(
                    "invalid: {} true of {} true/false verdicts in the window (reviews and backed consensus)",
                    pl.col("w_true"),
                    pl.col("w_true") + pl.col("w_false"),
                )
            )
            .alias("feedback_reason")
        )
        .select([*KEY, "yield_exhausted", "label_invalid", "yield_per_call", "feedback_reason"])
    )
