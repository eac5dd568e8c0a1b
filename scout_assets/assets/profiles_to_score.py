"""``profiles_to_score``: the labeling queue of one partition.

One row is an account seen that day that ``has_scores`` marked ``is_queued`` (HAS strictly
above has.yaml's ``queue_threshold``, decided there once) and that some registered model has
not labeled yet for an active audience (each model's own pending set is decided by
``llm_labels``). The same account seen on several days sits in each day's partition; consumers
take distinct accounts.
Recomputed wholly from ``has_scores`` and the labels, so a re-run gives the same rows.
"""

from datetime import date

import dagster as dg
import polars as pl

from resources.models.registry import model_aliases
from resources.warehouse import Warehouse
from resources.warehouse.sql import placeholders
from scout_assets.assets.common import (
    DERIVED_BACKFILL_POLICY,
    FOLLOW_UPSTREAM,
    INGEST_FRESHNESS,
    OWNERS,
    SCORING_GROUP,
    partitions_of,
    summed,
)
from scout_assets.labeling.settings import load_labeling_settings
from scout_assets.partitions import daily_platform_partitions
from scout_contract.tables import PROFILES_TO_SCORE, polars_schema


@dg.asset(
    key="profiles_to_score",
    deps=["has_scores"],
    partitions_def=daily_platform_partitions,
    group_name=SCORING_GROUP,
    owners=OWNERS,
    freshness_policy=INGEST_FRESHNESS,
    automation_condition=FOLLOW_UPSTREAM,
    kinds={"python", "polars"},
    backfill_policy=DERIVED_BACKFILL_POLICY,
    description=__doc__,
)
def profiles_to_score(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    warehouse.ensure_schema()
    partitions = partitions_of(context)
    counts = summed([_queue_partition(warehouse, day, platform) for day, platform in partitions])
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": counts["queued"],
            "partitions": len(partitions),
            **counts,
        }
    )


def _queue_partition(warehouse: Warehouse, day: date, platform: str) -> dict[str, int]:
    """Rebuild one day x platform of the queue; return its counters."""
    scores = warehouse.read(
        "select s.platform, s.platform_id, s.partition_date, s.handle, s.has, s.likely_is, s.has_version, "
        "s.is_queued, p.first_seen_at as queued_at "
        "from has_scores s join profile_snapshots p "
        "on p.platform = s.platform and p.platform_id = s.platform_id and p.partition_date = s.partition_date "
        "where s.partition_date = $1 and s.platform = $2 and (s.is_queued or s.is_queued is null)",
        [day, platform],
    )
    _require_queue_decided(scores, day, platform)
    labeled = _labeled_ids(warehouse, platform)
    queue = scores.filter(~pl.col("platform_id").is_in(labeled.implode()))
    frame = queue.select(PROFILES_TO_SCORE.column_names).cast(polars_schema(PROFILES_TO_SCORE.columns))
    written = warehouse.replace_partition(
        "profiles_to_score", frame.sort("platform_id"), {"partition_date": day, "platform": platform}
    )
    return {
        "queued": written,
        "above_threshold": scores.height,
        "already_labeled": scores.height - queue.height,
    }


def _require_queue_decided(scores: pl.DataFrame, day: date, platform: str) -> None:
    """Refuse to rebuild a queue from rows scored before has_scores wrote ``is_queued``.

    A warehouse created before the column existed has it null in older rows (schema sync adds
    columns, it never converts data). Read as "not queued", they would silently empty that day's
    queue; re-materializing has_scores for the day fills the column from the same scores.
    """
    undecided = scores["is_queued"].null_count()
    if undecided:
        raise dg.Failure(
            f"has_scores of {day} {platform} has {undecided} row(s) scored before is_queued existed; "
            f"materialize has_scores for partition {day.isoformat()}|{platform} first, then this queue"
        )


def _labeled_ids(warehouse: Warehouse, platform: str) -> pl.Series:
    """Accounts with nothing left to do: every registered model labeled (or dead-lettered) them
    for every active audience. Until then some model still has them pending."""
    audiences = load_labeling_settings().audiences
    units_needed = len(model_aliases()) * len(audiences)
    in_audiences = placeholders(len(audiences), first=2)
    done = warehouse.read(
        "select platform_id, count(distinct model || '|' || audience) as units from ("
        f" select platform_id, model, audience from llm_labels where platform = $1 and audience in ({in_audiences})"
        " union all"
        f" select platform_id, model, audience from dead_letters where platform = $1 and audience in ({in_audiences})"
        " and requeued_at is null) u group by platform_id",
        [platform, *audiences],
    )
    return done.filter(pl.col("units") >= units_needed)["platform_id"]
