"""``profiles``: normalized, de-duplicated accounts, re-derived from stored raw pages.

For one partition (day x platform) it writes, in one transaction:
- ``profile_snapshots``: one row per account seen that day, its last state that day;
- ``profile_sightings``: one row per (account, keyword) that day;
- ``profiles``: the current row of every account the partition touches (latest snapshot,
  first/last seen, all keywords, previous handles), rebuilt from all its snapshots;
- ``quarantined_rows``: every row of the day's pages the parsers could not read, every value
  they nulled or cleaned, and every stored page that is not a page, with the reason and the
  raw row. One bad row costs that row, never the day.
It reads only ``raw_searches`` (and the rows parsed from its pages at fetch, ``page_profiles``),
never an API: re-running or backfilling a day gives the
same rows, and a parser fix (or the text sanitizer) can be replayed over history, so a day
whose stored page holds a lone surrogate or bad rows recovers on its next run.
"""

from collections.abc import Callable, Iterator
from datetime import date

import dagster as dg
import polars as pl

from resources.platforms.columnar import columnar_appearances
from resources.platforms.parser_version import PARSER_VERSION
from resources.platforms.quarantine import FIELD, PAGE, ROW
from resources.platforms.stored_pages import APPEARANCE_SCHEMA, PAGE_COLUMNS, empty_results
from resources.warehouse import Warehouse
from resources.warehouse.sql import placeholders
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
    advance_profiles,
    current_profiles,
    sightings_from_appearances,
    snapshots_from_sightings,
)
from scout_assets.partitions import daily_platform_partitions
from scout_contract.tables import PROFILE_SIGHTINGS, PROFILE_SNAPSHOTS, QUARANTINED_ROWS, polars_schema

DUPLICATE_CHECK = "no_duplicate_accounts"
QUARANTINE_SAMPLE = 5  # quarantine entries shown in the materialization's metadata
# Stored pages parsed per batch: about 20-25 profiles and 30-60 kB of JSON each on X and Bluesky.
PAGE_BATCH = 2_000
# (pages, day, platform) -> (appearances, quarantine entries), as stored_pages.rowwise_appearances.
PageParser = Callable[[pl.DataFrame, date, str], tuple[pl.DataFrame, pl.DataFrame]]


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


def _derive_partition(
    warehouse: Warehouse, day: date, platform: str, parse: PageParser = columnar_appearances
) -> tuple[dict[str, int], list[dict]]:
    """Rebuild one day x platform from its stored pages, in one transaction.

    Returns its counters and a few of its quarantine entries (for the metadata sample).
    """
    appearances, held = _appearances(warehouse, day, platform, parse)
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
        stored = tx.read(
            "select * from profiles where platform = $1 and platform_id in "
            "(select platform_id from profile_snapshots where platform = $1 and partition_date = $2)",
            [platform, day],
        )
        # The day is the latest of most accounts (today, again and again): their rows advance from
        # the stored row and the day alone. A backfilled earlier day, or a row stored before the
        # prior_* columns existed, is rebuilt from the account's whole history.
        needs_history = (pl.col("last_partition_date") > day) | (
            (pl.col("last_partition_date") == day)
            & (pl.col("first_partition_date") < day)
            & pl.col("prior_first_partition_date").is_null()
        )
        rebuilt = stored.filter(needs_history)["platform_id"].to_list()
        current = pl.concat(
            [
                advance_profiles(
                    stored.filter(~needs_history),
                    snapshots.filter(~pl.col("platform_id").is_in(rebuilt)),
                    sightings.filter(~pl.col("platform_id").is_in(rebuilt)),
                ),
                _current_of(tx, platform, rebuilt),
            ]
        )
        tx.upsert("profiles", current)
        # Accounts this partition held before and no longer does: rebuilt from their other days
        # (a re-run of a day between two others), and only those found on no day lose their row.
        gone = sorted(set(before["platform_id"]) - set(snapshots["platform_id"]))
        kept = _current_of(tx, platform, gone)
        tx.upsert("profiles", kept)
        for platform_id in sorted(set(gone) - set(kept["platform_id"])):
            tx.delete("profiles", {"platform": platform, "platform_id": platform_id})

    known_before = stored.filter(pl.col("first_partition_date") < day)["platform_id"]
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


def _appearances(
    warehouse: Warehouse, day: date, platform: str, parse: PageParser = columnar_appearances
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every profile appearance in the day's stored pages, with where and when it was seen,
    and the ``quarantined_rows`` of the partition (what could not be read, and why).

    Pages the current parser read when they were fetched give their typed rows from
    ``page_profiles`` (``scout_assets/page_store.py``): no JSON is decoded again. The others
    (stored before, by another parser version, with a quarantine entry, or rewritten by an
    erasure) are read :data:`PAGE_BATCH` at a time (keyset pagination in the day's order,
    ``fetched_at, request_id``) and parsed from their payload, so memory holds one batch of raw
    pages plus the output, however large the day. ``parse`` is the columnar parser, which hands
    the pages it cannot vouch for to the per-row reference (``stored_pages.rowwise_appearances``);
    tests pass the reference itself. The rows come in no particular order: snapshots and
    sightings order them by ``fetched_at, request_id, position`` themselves.
    """
    rows, held = [_parsed_at_fetch(warehouse, day, platform)], []
    for pages in _page_batches(warehouse, day, platform):
        batch_rows, batch_held = parse(pages, day, platform)
        rows.append(batch_rows)
        held.append(batch_held)
    if not held:
        return rows[0], empty_results()[1]
    return pl.concat(rows), pl.concat(held)


def _parsed_at_fetch(warehouse: Warehouse, day: date, platform: str) -> pl.DataFrame:
    """The typed rows of the day's pages that the current parser read when they were fetched."""
    columns = ", ".join(f'"{name}"' for name in APPEARANCE_SCHEMA)
    frame = warehouse.read(
        f"select {columns} from page_profiles where partition_date = $1 and platform = $2 and request_id in "
        "(select request_id from raw_searches where partition_date = $1 and platform = $2 "
        "and parser_version = $3)",
        [day, platform, PARSER_VERSION],
    )
    return frame.cast(APPEARANCE_SCHEMA) if frame.height else pl.DataFrame(schema=APPEARANCE_SCHEMA)


def _page_batches(warehouse: Warehouse, day: date, platform: str) -> Iterator[pl.DataFrame]:
    """The partition's stored pages to parse from their payload (every one the current parser
    did not read at fetch), in day order, :data:`PAGE_BATCH` pages per frame."""
    columns = ", ".join(PAGE_COLUMNS)
    base = (
        f"select {columns} from raw_searches where partition_date = $1 and platform = $2 "
        "and (parser_version is null or parser_version <> $3)"
    )
    order = f"order by fetched_at, request_id limit {PAGE_BATCH}"
    pages = warehouse.read(f"{base} {order}", [day, platform, PARSER_VERSION])
    while pages.height:
        yield pages
        if pages.height < PAGE_BATCH:
            return
        last_at, last_id = pages["fetched_at"][-1], pages["request_id"][-1]
        if last_at is None:  # NULLs sort last: only NULL-time pages remain after this one
            pages = warehouse.read(
                f"{base} and fetched_at is null and request_id > $4 {order}",
                [day, platform, PARSER_VERSION, last_id],
            )
        else:
            pages = warehouse.read(
                f"{base} and (fetched_at > $4 or (fetched_at = $4 and request_id > $5) "
                f"or fetched_at is null) {order}",
                [day, platform, PARSER_VERSION, last_at, last_id],
            )


def _current_of(tx, platform: str, platform_ids: list[str], chunk: int = 500) -> pl.DataFrame:
    """The current rows of these accounts from every snapshot and sighting they still have."""
    snapshots, sightings = [], []
    for start in range(0, len(platform_ids), chunk):
        ids = platform_ids[start : start + chunk]
        where = f"where platform = $1 and platform_id in ({placeholders(len(ids), first=2)})"
        snapshots.append(tx.read(f"select * from profile_snapshots {where}", [platform, *ids]))
        sightings.append(tx.read(f"select * from profile_sightings {where}", [platform, *ids]))
    if not snapshots or not sum(frame.height for frame in snapshots):
        return current_profiles(
            pl.DataFrame(schema=polars_schema(PROFILE_SNAPSHOTS.columns)),
            pl.DataFrame(schema=polars_schema(PROFILE_SIGHTINGS.columns)),
        )
    return current_profiles(
        pl.concat([f for f in snapshots if f.height], how="vertical_relaxed"),
        pl.concat([f for f in sightings if f.height], how="vertical_relaxed"),
    )
