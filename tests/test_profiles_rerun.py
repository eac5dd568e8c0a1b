"""Re-deriving days: the accounts a day no longer holds, and the incremental current rows.

An account seen on days 1, 2 and 3 and then no longer found on a re-run of day 2 (a parser fix
quarantined its row, say) keeps its current row, rebuilt from days 1 and 3: day 2's keyword leaves
it. An account seen only on day 2 loses its row. On DuckDB and PostgreSQL, through the asset's own
``profiles_day.derive_partition`` with a stand-in parser (the parsers have their own tests), so each day's
appearances are exactly the ones given.
"""

from __future__ import annotations

import random
from datetime import date, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from resources.warehouse import Warehouse
from scout_assets import spill
from scout_assets.assets import profiles_day
from scout_assets.domain.profile_merge import current_profiles
from tests.dbt_fixtures import rows
from tests.test_profile_merge import frame, seen

DAYS = (date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7))
HELD = pl.DataFrame(
    schema={
        "partition_date": pl.Date,
        "platform": pl.String,
        "keyword": pl.String,
        "request_id": pl.String,
        "page": pl.Int64,
        "row_index": pl.Int64,
        "field": pl.String,
        "severity": pl.String,
        "reason": pl.String,
        "raw_row": pl.String,
    }
)


@pytest.fixture(autouse=True)
def small_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Accounts split over several buckets, as a large day's are."""
    monkeypatch.setattr(spill, "BUCKET_ROWS", 2)


def _derive(warehouse: Warehouse, day: date, appearances: list[dict]) -> None:
    def parse(pages: pl.DataFrame, _day: date, _platform: str) -> tuple[pl.DataFrame, pl.DataFrame]:
        return frame(appearances), HELD.clone()

    profiles_day.derive_partition(warehouse, day, "twitter", parse=parse)


def _store_a_page(warehouse: Warehouse, day: date) -> None:
    """One stored page per day, so the asset has a batch to hand to the parser."""
    warehouse.append(
        "raw_searches",
        rows(
            "raw_searches",
            {
                "request_id": f"req-{day}",
                "platform": "twitter",
                "keyword": "k",
                "partition_date": day,
                "page": 1,
                "payload": "{}",
                "result_count": 6,  # with BUCKET_ROWS 2 below: the day is derived in 3 account buckets
                "fetched_at": datetime(day.year, day.month, day.day, 1),
            },
        ),
    )


def test_a_rerun_of_a_middle_day_rebuilds_what_it_no_longer_holds(warehouse: Warehouse) -> None:
    first, middle, last = DAYS
    for day in DAYS:
        _store_a_page(warehouse, day)
    _derive(warehouse, first, [seen("x", "ada", 10, "ux research", "r1", 9, day=first)])
    _derive(
        warehouse,
        middle,
        [
            seen("x", "ada", 11, "design ops", "r2", 9, day=middle),
            seen("z", "zed", 5, "design ops", "r2", 9, day=middle, position=1),
        ],
    )
    _derive(warehouse, last, [seen("x", "ada", 12, "ux research", "r3", 9, day=last)])
    before = warehouse.read("select platform_id, keywords from profiles order by platform_id").rows()
    assert before == [("x", "design ops, ux research"), ("z", "design ops")]

    _derive(warehouse, middle, [])  # the re-run finds neither account that day

    after = warehouse.read(
        "select platform_id, keywords, keyword_count, first_partition_date, last_partition_date, followers "
        "from profiles order by platform_id"
    ).rows()
    assert after == [("x", "ux research", 1, first, last, 12)]


def _full_history(warehouse: Warehouse) -> pl.DataFrame:
    snapshots = warehouse.read_table("profile_snapshots")
    sightings = warehouse.read_table("profile_sightings")
    return current_profiles(snapshots, sightings)


def _stored(warehouse: Warehouse) -> pl.DataFrame:
    frame = warehouse.read_table("profiles")
    return frame.select(sorted(frame.columns)).sort("platform_id")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_profiles_equal_a_rebuild_from_the_whole_history(warehouse: Warehouse, seed: int) -> None:
    """Days derived in a random order, re-runs and backfills included, accounts changing handles,
    keywords and followers and dropping out: after every derivation the stored ``profiles`` equal
    ``current_profiles`` over every stored snapshot and sighting (the rebuild the asset used to do)."""
    rng = random.Random(seed)
    days = [date(2026, 2, 1 + n) for n in range(6)]
    for day in days:
        _store_a_page(warehouse, day)
    accounts = [f"a{n}" for n in range(12)]
    for step in range(18):
        day = rng.choice(days[: 2 + step // 3])  # mostly recent days, now and then an old one
        seen_today = []
        for position, pid in enumerate(sorted(rng.sample(accounts, rng.randint(0, 8)))):
            handle = f"{pid}_{rng.choice('xyz')}"  # a handle that changes now and then
            for hour, keyword in enumerate(
                rng.sample(["ux", "ops", "research", "design"], rng.randint(1, 2))
            ):
                seen_today.append(
                    seen(
                        pid,
                        handle,
                        rng.randint(0, 999),
                        keyword,
                        f"r{step}",
                        8 + hour,
                        day=day,
                        position=position,
                    )
                )
        _derive(warehouse, day, seen_today)
        expected = _full_history(warehouse)
        expected = expected.select(sorted(expected.columns)).sort("platform_id")
        assert_frame_equal(_stored(warehouse), expected, check_dtypes=False)
