"""``profiles_to_score``: the labeling queue of one partition.

One row is an account seen that day whose HAS is above the queue threshold (0.65 by
default, strict as in the predecessor) and that no model has labeled yet. The same account
seen on several days sits in each day's partition; consumers take distinct accounts.
Recomputed wholly from ``has_scores`` (and the labels table, once labeling runs), so a
re-run gives the same rows.
"""

import dagster as dg
import polars as pl

from resources.warehouse import Warehouse
from resources.warehouse.schema import PROFILES_TO_SCORE, TABLES, polars_schema
from scout_assets.assets.common import OWNERS, SCORING_GROUP, partition_of
from scout_assets.assets.has_scores import HAS_CONFIG
from scout_assets.partitions import daily_platform_partitions


@dg.asset(
    key="profiles_to_score",
    deps=["has_scores"],
    partitions_def=daily_platform_partitions,
    group_name=SCORING_GROUP,
    owners=OWNERS,
    kinds={"python", "polars"},
    description=__doc__,
)
def profiles_to_score(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    day, platform = partition_of(context)
    warehouse.ensure_schema()
    where = {"partition_date": day, "platform": platform}
    scores = warehouse.read(
        "select s.platform, s.platform_id, s.partition_date, s.handle, s.has, s.likely_is, s.has_version, "
        "p.first_seen_at as queued_at "
        "from has_scores s join profile_snapshots p "
        "on p.platform = s.platform and p.platform_id = s.platform_id and p.partition_date = s.partition_date "
        "where s.partition_date = $1 and s.platform = $2 and s.has > $3",
        [day, platform, HAS_CONFIG.queue_threshold],
    )
    labeled = _labeled_ids(warehouse, platform)
    queue = scores.filter(~pl.col("platform_id").is_in(labeled.implode()))
    frame = queue.select(PROFILES_TO_SCORE.column_names).cast(polars_schema(PROFILES_TO_SCORE.columns))
    written = warehouse.replace_partition("profiles_to_score", frame.sort("platform_id"), where)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": written,
            "above_threshold": scores.height,
            "already_labeled": scores.height - queue.height,
            "queue_threshold": HAS_CONFIG.queue_threshold,
        }
    )


def _labeled_ids(warehouse: Warehouse, platform: str) -> pl.Series:
    """Accounts any model has labeled; empty while the warehouse has no labels table."""
    if "llm_labels" not in TABLES:
        return pl.Series("platform_id", [], dtype=pl.String)
    return warehouse.read("select distinct platform_id from llm_labels where platform = $1", [platform])[
        "platform_id"
    ]
