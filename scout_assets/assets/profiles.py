"""``profiles``: normalized, de-duplicated accounts, re-derived from stored raw pages.

For one partition (day x platform) it writes, in one transaction:
- ``profile_snapshots``: one row per account seen that day, its last state that day;
- ``profile_sightings``: one row per (account, keyword) that day;
- ``profiles``: the current row of every account the partition touches (latest snapshot,
  first/last seen, all keywords, previous handles), advanced from its stored row;
- ``quarantined_rows``: every row of the day's pages the parsers could not read, every value
  they nulled or cleaned, and every stored page that is not a page, with the reason and the
  raw row. One bad row costs that row, never the day.
It reads only ``raw_searches`` (and the rows parsed from its pages at fetch, ``page_profiles``),
never an API: re-running or backfilling a day gives the same rows, and a parser fix (or the
text sanitizer) can be replayed over history, so a day whose stored page holds a lone surrogate
or bad rows recovers on its next run. The derivation, in bounded memory, is in ``profiles_day.py``.
"""

import dagster as dg

from resources.warehouse import Warehouse
from scout_assets.assets.common import (
    DERIVED_BACKFILL_POLICY,
    FOLLOW_UPSTREAM,
    INGEST_FRESHNESS,
    INGEST_GROUP,
    OWNERS,
    partitions_of,
    summed,
)
from scout_assets.assets.profiles_day import QUARANTINE_SAMPLE, derive_partition
from scout_assets.partitions import daily_platform_partitions

DUPLICATE_CHECK = "no_duplicate_accounts"


@dg.asset(
    key="profiles",
    deps=["raw_searches"],
    partitions_def=daily_platform_partitions,
    group_name=INGEST_GROUP,
    owners=OWNERS,
    freshness_policy=INGEST_FRESHNESS,
    automation_condition=FOLLOW_UPSTREAM,
    kinds={"python", "polars"},
    backfill_policy=DERIVED_BACKFILL_POLICY,
    check_specs=[
        dg.AssetCheckSpec(
            DUPLICATE_CHECK,
            asset="profiles",
            blocking=True,
            description="One current row per (platform, platform_id).",
        )
    ],
    description=__doc__,
)
def profiles(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    warehouse.ensure_schema()
    partitions = partitions_of(context)
    derived = [derive_partition(warehouse, day, platform) for day, platform in partitions]
    counts = summed([partition_counts for partition_counts, _ in derived])
    sample = [entry for _, held in derived for entry in held][:QUARANTINE_SAMPLE]
    platforms = sorted({platform for _, platform in partitions})
    duplicates = sum(
        warehouse.read(
            "select count(*) - count(distinct platform_id) as n from profiles where platform = $1", [platform]
        )["n"][0]
        for platform in platforms
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": counts["rows_out"],
            "partitions": len(partitions),
            **counts,
            "quarantine_sample": dg.MetadataValue.json(sample),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=DUPLICATE_CHECK,
                passed=bool(duplicates == 0),
                metadata={"duplicate_rows": int(duplicates)},
            )
        ],
    )
