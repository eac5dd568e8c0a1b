"""Re-deriving one day x platform of ``profiles`` from its stored pages, in bounded memory.

The day is read once and split by account (``scout_assets/spill.py``): the typed rows parsed
at fetch (``page_profiles``) stream in batches, and the pages the current parser did not read
at fetch are parsed from their payload :data:`PAGE_BATCH` at a time. Every step after that is
per account (an account's snapshot, its sightings, its stored row and its new current row), so
each bucket of accounts is derived alone and written as a chunk of the partition. Memory holds
one bucket, not the day: a 1 M-profile day derives with the same peak as a 150 k one.

All writes happen in one transaction, as before: the partition's snapshots, sightings and
quarantine entries are replaced, and the current ``profiles`` row of every account the day
touches is advanced (or rebuilt from its whole history when the day is not its latest).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import polars as pl

from resources.platforms.columnar import columnar_appearances
from resources.platforms.parser_version import PARSER_VERSION
from resources.platforms.quarantine import FIELD, PAGE, ROW
from resources.platforms.stored_pages import APPEARANCE_SCHEMA, PAGE_COLUMNS, QUARANTINE_SCHEMA
from resources.warehouse import Warehouse
from resources.warehouse.sql import placeholders
from resources.warehouse.transaction import WarehouseTransaction
from scout_assets.domain.profile_merge import (
    advance_profiles,
    current_profiles,
    sightings_from_appearances,
    snapshots_from_sightings,
)
from scout_assets.spill import BUCKET_ROWS, AccountBuckets, bucket_count
from scout_contract.tables import (
    PROFILE_SIGHTINGS,
    PROFILE_SNAPSHOTS,
    PROFILES,
    QUARANTINED_ROWS,
    polars_schema,
)

QUARANTINE_SAMPLE = 5  # quarantine entries shown in the materialization's metadata
# Stored pages parsed per batch: about 20-25 profiles and 30-60 kB of JSON each on X and Bluesky.
PAGE_BATCH = 2_000
UNCOUNTED_PAGE_ROWS = 100  # more than a page of any platform holds
# (pages, day, platform) -> (appearances, quarantine entries), as stored_pages.rowwise_appearances.
PageParser = Callable[[pl.DataFrame, date, str], tuple[pl.DataFrame, pl.DataFrame]]


def derive_partition(
    warehouse: Warehouse, day: date, platform: str, parse: PageParser = columnar_appearances
) -> tuple[dict[str, int], list[dict]]:
    """Rebuild one day x platform from its stored pages, in one transaction.

    Returns its counters and a few of its quarantine entries (for the metadata sample).
    ``parse`` reads the pages not parsed at fetch (tests pass the per-row reference).
    """
    with tempfile.TemporaryDirectory(prefix="scout-profiles-") as spill:
        folder = Path(spill)
        count = bucket_count(_expected_rows(warehouse, day, platform))
        appearances, quarantined, pages = _split_appearances(warehouse, day, platform, parse, folder, count)
        snapshots = AccountBuckets(folder, "snapshots", count, polars_schema(PROFILE_SNAPSHOTS.columns))
        sightings = AccountBuckets(folder, "sightings", count, polars_schema(PROFILE_SIGHTINGS.columns))
        for bucket in range(count):
            seen = appearances.read(bucket)
            snapshots.add(snapshots_from_sightings(seen))
            sightings.add(sightings_from_appearances(seen))
        tally = _write_day(warehouse, day, platform, snapshots, sightings, quarantined, folder)

    severities = quarantined["severity"]
    counts = {
        "pages_read": pages,
        "rows_in": appearances.rows,
        "rows_out": snapshots.rows,
        "new_profiles": tally["new_profiles"],
        "already_known_profiles": snapshots.rows - tally["new_profiles"],
        "sightings": sightings.rows,
        "handle_changes": tally["handle_changes"],
        "quarantined_rows": int((severities == ROW).sum()),
        "quarantined_pages": int((severities == PAGE).sum()),
        "field_notes": int((severities == FIELD).sum()),
    }
    sample = quarantined.head(QUARANTINE_SAMPLE).select(
        "platform", "keyword", "request_id", "row_index", "field", "severity", "reason"
    )
    return counts, sample.to_dicts()


def _split_appearances(
    warehouse: Warehouse, day: date, platform: str, parse: PageParser, folder: Path, count: int
) -> tuple[AccountBuckets, pl.DataFrame, int]:
    """The day's appearances split into ``count`` account buckets, its quarantine entries, and
    how many pages gave rows."""
    appearances = AccountBuckets(folder, "appearances", count, APPEARANCE_SCHEMA)
    pages: set[str] = set()
    held: list[pl.DataFrame] = []
    for rows, entries in appearance_batches(warehouse, day, platform, parse):
        appearances.add(rows)
        pages.update(rows["request_id"].unique().to_list())
        held.append(entries)
    quarantined = pl.concat(held) if held else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    return appearances, quarantined, len(pages)


def _write_day(
    warehouse: Warehouse,
    day: date,
    platform: str,
    snapshots: AccountBuckets,
    sightings: AccountBuckets,
    quarantined: pl.DataFrame,
    folder: Path,
) -> Counter[str]:
    """In one transaction: replace the partition's snapshots, sightings and quarantine entries,
    then advance the current row of every account it touches, a bucket at a time."""
    where = {"partition_date": day, "platform": platform}
    count = snapshots.count
    tally: Counter[str] = Counter()
    with warehouse.transaction() as tx:
        before = tx.read(
            "select platform_id from profile_snapshots where partition_date = $1 and platform = $2",
            [day, platform],
        )
        tx.replace_partition("profile_snapshots", (snapshots.read(b) for b in range(count)), where)
        tx.replace_partition("profile_sightings", (sightings.read(b) for b in range(count)), where)
        tx.replace_partition(QUARANTINED_ROWS.name, quarantined, where)
        stored = AccountBuckets(folder, "stored", count, polars_schema(PROFILES.columns))
        for frame in tx.read_batches(
            f"select {', '.join(PROFILES.column_names)} from profiles where platform = $1 and platform_id in "
            "(select platform_id from profile_snapshots where platform = $1 and partition_date = $2)",
            [platform, day],
            rows=BUCKET_ROWS,
        ):
            stored.add(frame)
        day_ids = [pl.Series("platform_id", [], dtype=pl.String)]
        for bucket in range(count):
            day_snapshots = snapshots.read(bucket)
            tally.update(
                _advance(tx, day, platform, stored.read(bucket), day_snapshots, sightings.read(bucket))
            )
            day_ids.append(day_snapshots["platform_id"])
        _settle_dropped(tx, platform, before["platform_id"], pl.concat(day_ids))
    return tally


def _advance(
    tx: WarehouseTransaction,
    day: date,
    platform: str,
    stored: pl.DataFrame,
    snapshots: pl.DataFrame,
    sightings: pl.DataFrame,
) -> dict[str, int]:
    """Write the current rows of one bucket's accounts; return its counters.

    The day is the latest of most accounts (today, again and again): their rows advance from
    the stored row and the day alone. A backfilled earlier day, or a row stored before the
    prior_* columns existed, is rebuilt from the account's whole history.
    """
    needs_history = (pl.col("last_partition_date") > day) | (
        (pl.col("last_partition_date") == day)
        & (pl.col("first_partition_date") < day)
        & pl.col("prior_first_partition_date").is_null()
    )
    rebuilt = stored.filter(needs_history)["platform_id"]
    advancing = ~pl.col("platform_id").is_in(rebuilt.implode())
    current = pl.concat(
        [
            advance_profiles(
                stored.filter(~needs_history), snapshots.filter(advancing), sightings.filter(advancing)
            ),
            _current_of(tx, platform, rebuilt.to_list()),
        ]
    )
    tx.upsert("profiles", current)
    known_before = stored.filter(pl.col("first_partition_date") < day)["platform_id"]
    return {
        "new_profiles": snapshots.filter(~pl.col("platform_id").is_in(known_before.implode())).height,
        "handle_changes": int((current["previous_handles"] != "").sum()),
    }


def _settle_dropped(tx: WarehouseTransaction, platform: str, before: pl.Series, now: pl.Series) -> None:
    """Accounts this partition held before and no longer does: rebuilt from their other days
    (a re-run of a day between two others), and only those found on no day lose their row."""
    gone = sorted(before.filter(~before.is_in(now.implode())).unique().to_list())
    kept = _current_of(tx, platform, gone)
    tx.upsert("profiles", kept)
    for platform_id in sorted(set(gone) - set(kept["platform_id"])):
        tx.delete("profiles", {"platform": platform, "platform_id": platform_id})


def _expected_rows(warehouse: Warehouse, day: date, platform: str) -> int:
    """The day's appearances as the pages counted them when fetched (sizes the buckets); a page
    without a count is taken as :data:`UNCOUNTED_PAGE_ROWS` (too many buckets cost little)."""
    found = warehouse.read(
        "select coalesce(sum(coalesce(result_count, $3)), 0) as n from raw_searches "
        "where partition_date = $1 and platform = $2",
        [day, platform, UNCOUNTED_PAGE_ROWS],
    )
    return int(found["n"][0] or 0)


def appearance_batches(
    warehouse: Warehouse, day: date, platform: str, parse: PageParser = columnar_appearances
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """Every profile appearance of the day's stored pages, with where and when it was seen, and
    the ``quarantined_rows`` entries of what could not be read, a batch at a time.

    Pages the current parser read when they were fetched give their typed rows from
    ``page_profiles`` (``scout_assets/page_store.py``): no JSON is decoded again. The others
    (stored before, by another parser version, with a quarantine entry, or rewritten by an
    erasure) are parsed from their payload. The rows come in no particular order: snapshots
    and sightings order them by ``fetched_at, request_id, position`` themselves.
    """
    no_entries = pl.DataFrame(schema=QUARANTINE_SCHEMA)
    columns = ", ".join(f'"{name}"' for name in APPEARANCE_SCHEMA)
    with warehouse.transaction() as tx:
        for frame in tx.read_batches(
            f"select {columns} from page_profiles where partition_date = $1 and platform = $2 "
            "and parser_version = $3",
            [day, platform, PARSER_VERSION],
            rows=BUCKET_ROWS,
        ):
            yield frame.cast(APPEARANCE_SCHEMA), no_entries
    for pages in _page_batches(warehouse, day, platform):
        yield parse(pages, day, platform)


def _page_batches(warehouse: Warehouse, day: date, platform: str) -> Iterator[pl.DataFrame]:
    """The partition's stored pages to parse from their payload (every one the current parser
    did not read at fetch), in day order (keyset pagination on ``fetched_at, request_id``),
    :data:`PAGE_BATCH` pages per frame, so memory holds one batch of raw pages."""
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


def _current_of(
    tx: WarehouseTransaction, platform: str, platform_ids: list[str], chunk: int = 500
) -> pl.DataFrame:
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
