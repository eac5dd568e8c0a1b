"""``keyword_stats``: what each keyword yielded per platform per day, and the feedback verdict.

One row is one keyword on one platform on one day: searches, profiles returned, new unique
profiles, duplicate rate, mean HAS, share above the HAS threshold, verdicts true/false/null
(a person's review, else the models' weighted consensus; only a verdict backed by a review, a
validated model or two models counts as true or false: ``domain/consensus.py``), API calls
and cost, cost per new profile and per true label, plus the keyword engine's verdict over
the trailing window (exhausted, still valid, why). The next searches read the
latest verdicts: that read closes the loop, and it is deliberately not a graph edge, since an
asset graph cannot have cycles (docs/keywords.md).
"""

from datetime import timedelta

import dagster as dg
import polars as pl

from resources.warehouse import Warehouse
from resources.warehouse.sql import placeholders
from scout_assets.assets.common import DAILY_FRESHNESS, LABELING_GROUP, OWNERS, distribution_metadata
from scout_assets.domain.consensus import (
    LABEL_COLUMNS,
    VALIDATED_MIN_REVIEWS,
    account_verdicts,
    model_weights,
)
from scout_assets.domain.keyword_rules import load_keyword_rules
from scout_assets.domain.keyword_stats import daily_stats, feedback
from scout_assets.labeling.settings import load_labeling_settings
from scout_assets.partitions import daily_partitions
from scout_assets.spend.ledger import PROFILE_COST_SQL
from scout_contract.reviews import LATEST_REVIEWS_SQL
from scout_contract.tables import KEYWORD_STATS, polars_schema


def _labels_sql(audiences: tuple[str, ...]) -> str:
    return (
        "select l.audience, l.platform, l.platform_id, l.model, l.label, l.deferred, l.cost_usd from llm_labels l "
        f"where l.audience in ({placeholders(len(audiences), first=2)}) and exists (select 1 from profile_sightings s "
        "where s.platform = l.platform and s.platform_id = l.platform_id and s.partition_date = $1)"
    )


# Every label of the accounts with a latest review for one audience ($1): what the weights learn from.
REVIEWED_LABELS_SQL = (
    "select l.audience, l.platform, l.platform_id, l.model, l.label, l.deferred from llm_labels l "
    f"join ({LATEST_REVIEWS_SQL}) r "
    "on r.audience = l.audience and r.platform = l.platform and r.platform_id = l.platform_id"
)


def audience_verdicts(
    warehouse: Warehouse,
    audiences: tuple[str, ...],
    labels: pl.DataFrame | None = None,
    validated_min_reviews: int = VALIDATED_MIN_REVIEWS,
) -> pl.DataFrame:
    """One verdict per account and audience: the person's latest label, else the weighted consensus.

    The weights come from every label of the reviewed accounts and their latest reviews
    (``scout_contract/reviews.py`` ``LATEST_REVIEWS_SQL``); the consensus is taken over ``labels``
    (audience, platform, platform_id, model, label, deferred), every label of ``audiences``
    when not given. The same rule as dbt's ``mart_audience_leads`` (``consensus.py``).
    """
    reviews = pl.concat(
        [warehouse.read(LATEST_REVIEWS_SQL, [audience]) for audience in audiences], how="vertical_relaxed"
    )
    reviewed_labels = pl.concat(
        [warehouse.read(REVIEWED_LABELS_SQL, [audience]) for audience in audiences], how="vertical_relaxed"
    )
    if labels is None:
        labels = warehouse.read(
            "select audience, platform, platform_id, model, label, deferred from llm_labels "
            f"where audience in ({placeholders(len(audiences))})",
            list(audiences),
        )
    weights = model_weights(reviewed_labels, reviews, validated_min_reviews)
    return account_verdicts(labels, reviews, weights)


@dg.asset(
    key="keyword_stats",
    deps=["raw_searches", "profiles", "has_scores", "llm_labels"],
    partitions_def=daily_partitions,
    group_name=LABELING_GROUP,
    owners=OWNERS,
    freshness_policy=DAILY_FRESHNESS,
    kinds={"python", "polars"},
    description=__doc__,
)
def keyword_stats(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    day = context.partition_time_window.start.date()
    warehouse.ensure_schema()
    rules = load_keyword_rules()
    audiences = load_labeling_settings().audiences
    sightings = warehouse.read(
        "select platform, platform_id, keyword from profile_sightings where partition_date = $1", [day]
    )
    labels = warehouse.read(_labels_sql(audiences), [day, *audiences])
    day_verdicts = audience_verdicts(warehouse, audiences, labels.select(LABEL_COLUMNS)).join(
        sightings.select("platform", "platform_id").unique(), on=["platform", "platform_id"], how="semi"
    )
    stats = daily_stats(
        pages=warehouse.read(
            "select platform, keyword, result_count from raw_searches where partition_date = $1", [day]
        ),
        calls=warehouse.read(
            "select platform, keyword, error, cost_usd from api_calls where partition_date = $1", [day]
        ),
        sightings=sightings,
        first_seen=warehouse.read(
            "select platform, platform_id, min(partition_date) as first_day from profile_snapshots "
            "where platform_id in (select platform_id from profile_sightings where partition_date = $1) "
            "group by platform, platform_id",
            [day],
        ),
        scores=warehouse.read(
            "select platform, platform_id, has, is_queued from has_scores where partition_date = $1", [day]
        ),
        labels=warehouse.read(
            PROFILE_COST_SQL.format(audiences=placeholders(len(audiences), first=2)), [day, *audiences]
        ),
        verdicts=day_verdicts,
        day=day,
        rules=rules,
    )
    earlier = warehouse.read(
        "select * from keyword_stats where day >= $1 and day < $2",
        [day - timedelta(days=rules.window_days - 1), day],
    )
    window = pl.concat([earlier.select(stats.columns).cast(stats.schema), stats]) if earlier.height else stats
    verdicts = feedback(window, rules)
    frame = (
        stats.join(verdicts, on=["platform", "keyword"], how="left")
        .with_columns(
            pl.col("yield_exhausted").fill_null(False).alias("exhausted"),
            (~pl.col("yield_exhausted").fill_null(False) & ~pl.col("label_invalid").fill_null(False)).alias(
                "still_valid"
            ),
            pl.col("feedback_reason").fill_null("ok").alias("state_reason"),
        )
        .select(KEYWORD_STATS.column_names)
        .cast(polars_schema(KEYWORD_STATS.columns))
    )
    written = warehouse.replace_partition("keyword_stats", frame, {"day": day})
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": written,
            "keywords": frame.height,
            "new_profiles": int(frame["new_profiles"].sum()),
            "labels_true": int(frame["labels_true"].sum()),
            # Verdicts of the day's accounts: how many a person gave, how many rest on the models.
            "reviewed_verdicts": int((day_verdicts["verdict_source"] == "review").sum()),
            "unbacked_verdicts": int((~day_verdicts["verdict_backed"]).sum()),
            "exhausted_by_yield": int(frame["exhausted"].sum()),
            "no_longer_valid": int((~frame["still_valid"]).sum()),
            "api_cost_usd": round(float(frame["api_cost_usd"].sum()), 6),
            "label_cost_usd": round(float(frame["label_cost_usd"].sum()), 6),
            **distribution_metadata(frame["mean_has"], "keyword_mean_has"),
        }
    )
