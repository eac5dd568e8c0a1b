"""``profiles``: normalized, de-duplicated accounts, re-derived from stored raw pages.

For one partition (day x platform) it writes, in one transaction:
- ``profile_snapshots``: one row per account seen that day, its last state that day;
- ``profile_sightings``: one row per (account, keyword) that day;
- ``profiles``: the current row of every account the partition touches (latest snapshot,
  first/last seen, all keywords, previous handles), rebuilt from all its snapshots;
- ``quarantined_rows``: every row of the day's pages the parsers could not read, every value
  they nulled or cleaned, and every stored page that is not a page, with the reason and the
  raw row. One bad row costs that row, never the day.
It reads only ``raw_searches``, never an API: re-running or backfilling a day gives the
same rows, and a parser fix (or the text sanitizer) can be replayed over history, so a day
whose stored page holds a lone surrogate or bad rows recovers on its next run.
"""

from datetime import date

import dagster as dg
import polars as pl

from resources.platforms.quarantine import FIELD, PAGE, PAGE_INDEX, ROW, ParsedRows, quarantine
from resources.platforms.raw_pages import profiles_from_page
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
from scout_assets.domain.profile_merge import (
    current_profiles,
    sightings_from_appearances,
    snapshots_from_sightings,
)
from scout_assets.partitions import daily_platform_partitions
from scout_contract.errors import PayloadError
from scout_contract.tables import PROFILE_COLUMNS, QUARANTINED_ROWS, polars_schema

DUPLICATE_CHECK = "no_duplicate_accounts"
QUARANTINE_SAMPLE = 5  # quarantine entries shown in the materialization's metadata


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
    derived = [_derive_partition(warehouse, day, platform) for day, platform in partitions]
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


def _derive_partition(warehouse: Warehouse, day: date, platform: str) -> tuple[dict[str, int], list[dict]]:
    """Rebuild one day x platform from its stored pages, in one transaction.

    Returns its counters and a few of its quarantine entries (for the metadata sample).
    """
    appearances, held = _appearances(warehouse, day, platform)
    snapshots = snapshots_from_sightings(appearances)
    sightings = sightings_from_appearances(appearances)
    where = {"partition_date": day, "platform": platform}

    with warehouse.transaction() as tx:
        before = tx.read(
            "select platform_id from profile_snapshots where partition_date = $1 and platform = $2",
            [day, platform],
        )
        tx.replace_partition("profile_snapshots", snapshots, where)
        tx.replace_partition("profile_sightings", sightings, where)
        tx.replace_partition(QUARANTINED_ROWS.name, held, where)
        touched = pl.concat([before, snapshots.select("platform_id")]).unique()
        history = _history_of(tx, platform, day)
        current = current_profiles(history["snapshots"], history["sightings"])
        tx.upsert("profiles", current)
        # Accounts a re-run no longer finds anywhere lose their current row.
        orphans = set(touched["platform_id"]) - set(current["platform_id"])
        for platform_id in sorted(orphans):
            tx.delete("profiles", {"platform": platform, "platform_id": platform_id})

    known_before = history["snapshots"].filter(pl.col("partition_date") < day)["platform_id"].unique()
    new_accounts = snapshots.filter(~pl.col("platform_id").is_in(known_before.implode()))
    severities = held["severity"]
    counts = {
        "pages_read": appearances["request_id"].n_unique() if appearances.height else 0,
        "rows_in": appearances.height,
        "rows_out": snapshots.height,
        "new_profiles": new_accounts.height,
        "already_known_profiles": snapshots.height - new_accounts.height,
        "sightings": sightings.height,
        "handle_changes": int((current["previous_handles"] != "").sum()),
        "quarantined_rows": int((severities == ROW).sum()),
        "quarantined_pages": int((severities == PAGE).sum()),
        "field_notes": int((severities == FIELD).sum()),
    }
    sample = held.head(QUARANTINE_SAMPLE).select(
        "platform", "keyword", "request_id", "row_index", "field", "severity", "reason"
    )
    return counts, sample.to_dicts()


def _appearances(warehouse: Warehouse, day: date, platform: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every profile appearance in the day's stored pages, with where and when it was seen,
    and the ``quarantined_rows`` of the partition (what could not be read, and why)."""
    pages = warehouse.read(
        "select request_id, keyword, page, payload, hydration_payload, fetched_at from raw_searches "
        "where partition_date = $1 and platform = $2 order by fetched_at, request_id",
        [day, platform],
    )
    rows: list[dict] = []
    held: list[dict] = []
    for page in pages.iter_rows(named=True):
        source = {
            "partition_date": day,
            "platform": platform,
            "keyword": page["keyword"],
            "request_id": page["request_id"],
            "page": page["page"],
        }
        try:
            parsed = profiles_from_page(platform, page["keyword"], page["payload"], page["hydration_payload"])
        except PayloadError as exc:  # a stored page that is not a page: it costs itself, not the day
            parsed = ParsedRows([], (quarantine(PAGE_INDEX, exc.field, exc.detail, page["payload"], PAGE),))
        held.extend(
            {
                **source,
                "row_index": entry.row_index,
                "field": entry.field,
                "severity": entry.severity,
                "reason": entry.reason,
                "raw_row": entry.raw_row,
            }
            for entry in parsed.quarantined
        )
        for position, profile in enumerate(parsed.rows):
            rows.append(
                {
                    **profile,
                    "keyword": page["keyword"],
                    "request_id": page["request_id"],
                    "fetched_at": page["fetched_at"],
                    "position": position,
                    "partition_date": day,
                }
            )
    schema = polars_schema(PROFILE_COLUMNS) | {
        "keyword": pl.String,
        "request_id": pl.String,
        "fetched_at": pl.Datetime("us"),
        "position": pl.Int64,
        "partition_date": pl.Date,
    }
    quarantined = pl.DataFrame(held, schema=polars_schema(QUARANTINED_ROWS.columns))
    return pl.DataFrame(rows, schema=schema), quarantined


def _history_of(tx, platform: str, day: date) -> dict[str, pl.DataFrame]:
    """All snapshots and sightings of the accounts in (or formerly in) this partition, across days."""
    in_partition = (
        "select platform_id from profile_snapshots where platform = $1 and partition_date = $2 "
        "union select platform_id from profiles where platform = $1 "
        "and (first_partition_date = $2 or last_partition_date = $2)"
    )
    return {
        "snapshots": tx.read(
            f"select * from profile_snapshots where platform = $1 and platform_id in ({in_partition})",
            [platform, day],
        ),
        "sightings": tx.read(
            f"select * from profile_sightings where platform = $1 and platform_id in ({in_partition})",
            [platform, day],
        ),
    }
