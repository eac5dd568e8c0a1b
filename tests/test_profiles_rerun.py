"""Re-deriving a day between two others keeps the accounts that day no longer holds.

An account seen on days 1, 2 and 3 and then no longer found on a re-run of day 2 (a parser fix
quarantined its row, say) keeps its current row, rebuilt from days 1 and 3: day 2's keyword leaves
it. An account seen only on day 2 loses its row. On DuckDB and PostgreSQL, through the asset's own
``_derive_partition`` with a stand-in parser (the parsers have their own tests), so each day's
appearances are exactly the ones given.
"""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from resources.warehouse import Warehouse
from scout_assets.assets import profiles as profiles_asset
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


def _derive(warehouse: Warehouse, day: date, appearances: list[dict]) -> None:
    def parse(pages: pl.DataFrame, _day: date, _platform: str) -> tuple[pl.DataFrame, pl.DataFrame]:
        return frame(appearances), HELD.clone()

    profiles_asset._derive_partition(warehouse, day, "twitter", parse=parse)


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
