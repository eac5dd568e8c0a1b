"""De-duplication within a day and into one current row per account (handle changes included)."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from scout_assets.domain.profile_merge import (
    current_profiles,
    sightings_from_appearances,
    snapshots_from_sightings,
)
from scout_contract.tables import PROFILE_COLUMNS, polars_schema

APPEARANCE_SCHEMA = polars_schema(PROFILE_COLUMNS) | {
    "keyword": pl.String,
    "request_id": pl.String,
    "fetched_at": pl.Datetime("us"),
    "position": pl.Int64,
    "partition_date": pl.Date,
}


def seen(pid, handle, followers, keyword, request_id, hour, day=date(2026, 1, 5), position=0):
    row = dict.fromkeys(APPEARANCE_SCHEMA.names())
    row.update(
        platform="twitter",
        platform_id=pid,
        handle=handle,
        name=handle.title(),
        followers=followers,
        keyword=keyword,
        request_id=request_id,
        fetched_at=datetime(day.year, day.month, day.day, hour),
        position=position,
        partition_date=day,
    )
    return row


def frame(rows):
    return pl.DataFrame(rows, schema=APPEARANCE_SCHEMA)


def test_one_snapshot_per_account_with_the_last_state_of_the_day():
    appearances = frame(
        [
            seen("1", "ann", 10, "ethnography", "r1", 1),
            seen("2", "bob", 5, "ethnography", "r1", 1, position=1),
            seen("1", "ann", 12, "postdoc", "r2", 3),
            seen("1", "ann", 11, "postdoc", "r3", 2),
        ]
    )
    snaps = snapshots_from_sightings(appearances)
    assert snaps.height == 2
    ann = snaps.filter(pl.col("platform_id") == "1").row(0, named=True)
    assert ann["followers"] == 12  # fetched last (03:00), not stored last
    assert ann["first_seen_at"] == datetime(2026, 1, 5, 1)
    assert ann["last_seen_at"] == datetime(2026, 1, 5, 3)
    assert ann["last_request_id"] == "r2"


def test_sightings_one_row_per_account_and_keyword():
    appearances = frame(
        [
            seen("1", "ann", 10, "ethnography", "r1", 1),
            seen("1", "ann", 10, "ethnography", "r4", 4),
            seen("1", "ann", 10, "postdoc", "r2", 2),
        ]
    )
    sightings = sightings_from_appearances(appearances)
    assert sightings.select("keyword", "times_seen", "first_request_id").rows() == [
        ("ethnography", 2, "r1"),
        ("postdoc", 1, "r2"),
    ]


def test_current_row_survives_a_handle_change_and_unions_keywords():
    day1 = snapshots_from_sightings(
        frame([seen("1", "ann_phd", 10, "ethnography", "r1", 1, day=date(2026, 1, 5))])
    )
    day2 = snapshots_from_sightings(
        frame([seen("1", "dr_ann", 40, "postdoc", "r9", 1, day=date(2026, 1, 7))])
    )
    sight = pl.concat(
        [
            sightings_from_appearances(
                frame([seen("1", "ann_phd", 10, "ethnography", "r1", 1, day=date(2026, 1, 5))])
            ),
            sightings_from_appearances(
                frame([seen("1", "dr_ann", 40, "postdoc", "r9", 1, day=date(2026, 1, 7))])
            ),
        ]
    )
    # Order of the inputs must not matter: the latest partition wins.
    current = current_profiles(pl.concat([day2, day1]), sight)
    assert current.height == 1
    row = current.row(0, named=True)
    assert (row["handle"], row["followers"], row["previous_handles"]) == ("dr_ann", 40, "ann_phd")
    assert (row["first_partition_date"], row["last_partition_date"]) == (date(2026, 1, 5), date(2026, 1, 7))
    assert (row["keywords"], row["keyword_count"]) == ("ethnography, postdoc", 2)


def test_merging_is_deterministic():
    rows = [seen(str(i % 7), f"h{i % 7}", i, f"k{i % 3}", f"r{i}", i % 20, position=i) for i in range(50)]
    first = snapshots_from_sightings(frame(rows))
    second = snapshots_from_sightings(frame(list(reversed(rows))))
    assert first.equals(second)
