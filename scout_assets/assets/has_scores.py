"""``has_scores``: the Human Authenticity Score of every account seen in a partition.

One row is one account of one day x platform, scored under one HAS config version, with
the per-signal breakdown, the HAS type and the inputs that were missing. HAS is a pure
function of the snapshot, the config and the end of the partition day (never the wall
clock), so re-running or backfilling a partition reproduces exactly the original scores.
Each row also says whether the account joins the labeling queue (``is_queued``, HAS strictly
above has.yaml's ``queue_threshold``): the rule is applied here once, and the queue, the keyword
statistics and the dbt marts read the column. The asset's code version is the config's hash:
after a config edit the UI marks every partition scored under the old version as changed, ready
to backfill.
"""

from datetime import date

import dagster as dg
import polars as pl

from resources.warehouse import Warehouse
from scout_assets.assets.common import (
    DERIVED_BACKFILL_POLICY,
    FOLLOW_UPSTREAM,
    INGEST_FRESHNESS,
    OWNERS,
    SCORING_GROUP,
    counts_table,
    distribution_metadata,
    partitions_of,
)
from scout_assets.domain.has import LIKELY_IS, HasConfig, has_config, queued, score_profiles
from scout_assets.partitions import daily_platform_partitions, day_end
from scout_contract.tables import HAS_SCORES, PROFILE_COLUMNS, polars_schema

RANGE_CHECK = "has_in_unit_interval"
SCORE_BATCH = 200_000  # snapshots scored per batch


@dg.asset(
    key="has_scores",
    deps=["profiles"],
    partitions_def=daily_platform_partitions,
    group_name=SCORING_GROUP,
    owners=OWNERS,
    freshness_policy=INGEST_FRESHNESS,
    automation_condition=FOLLOW_UPSTREAM,
    kinds={"python", "polars"},
    code_version=has_config().version,
    backfill_policy=DERIVED_BACKFILL_POLICY,
    check_specs=[
        dg.AssetCheckSpec(
            RANGE_CHECK,
            asset="has_scores",
            blocking=True,
            description="Every HAS is within [0, 1] and every type is known.",
        )
    ],
    description=__doc__,
)
def has_scores(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    warehouse.ensure_schema()
    config = has_config()
    partitions = partitions_of(context)
    frames = [_score_partition(warehouse, config, day, platform) for day, platform in partitions]
    frame = pl.concat(frames) if frames else pl.DataFrame(schema=polars_schema(HAS_SCORES.columns))
    in_range = bool(frame["has"].is_between(0, 1).all()) if frame.height else True
    known_types = bool(frame["likely_is"].is_in(list(LIKELY_IS)).all()) if frame.height else True
    above = int(frame["is_queued"].sum())
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": frame.height,
            "partitions": len(partitions),
            "has_version": config.version,
            "as_of": ", ".join(sorted({day_end(day).isoformat() for day, _ in partitions})),
            "above_queue_threshold": above,
            "share_above_threshold": round(above / frame.height, 4) if frame.height else 0.0,
            "rows_with_missing_inputs": int((frame["missing_inputs"] != "").sum()),
            "likely_is": counts_table(frame, "likely_is") if frame.height else "no rows",
            **distribution_metadata(frame["has"], "has"),
        },
        check_results=[dg.AssetCheckResult(check_name=RANGE_CHECK, passed=in_range and known_types)],
    )


def _score_partition(warehouse: Warehouse, config: HasConfig, day: date, platform: str) -> pl.DataFrame:
    """Score one day x platform as of the end of that day, decide its queue, and replace its rows.

    The day's snapshots stream in batches (a 1 M-profile day need not fit in memory twice over,
    with its bios); only the scores, the output, are held until the partition is replaced.
    """
    where = {"partition_date": day, "platform": platform}
    profile_schema = polars_schema(PROFILE_COLUMNS)
    chunks = []
    with warehouse.transaction() as tx:
        for snapshots in tx.read_batches(
            f"select {', '.join(profile_schema)} from profile_snapshots where partition_date = $1 and platform = $2",
            [day, platform],
            rows=SCORE_BATCH,
        ):
            scored = score_profiles(snapshots.cast(profile_schema), config, as_of=day_end(day))
            chunks.append(scored.with_columns(queued(config), pl.lit(day).alias("partition_date")))
        schema = polars_schema(HAS_SCORES.columns)
        frame = (
            pl.concat(chunks).select(HAS_SCORES.column_names).cast(schema)
            if chunks
            else pl.DataFrame(schema=schema)
        )
        tx.replace_partition("has_scores", frame, where)
    return frame
