"""PostgreSQL stores the large per-day tables partitioned by day: a replace truncates one leaf.

``Table.stored_by_day`` tables are created ``PARTITION BY RANGE (partition_date)``; the first write
of a day and platform creates ``<table>__dYYYYMMDD`` (listed by platform) and its leaf
``<table>__dYYYYMMDD__<platform>``. Replacing that partition again truncates the leaf (it gets a
new file: no row is deleted, none is left dead) and touches no other leaf. A warehouse whose table
was created plain, before, keeps working through the DELETE path. (The crash test in
test_warehouse_crash.py kills a writer mid-COPY on the same path.)
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from resources.warehouse import Warehouse
from resources.warehouse.sql import POSTGRES, create_table, day_partition_tables
from scout_contract.tables import table
from tests.dbt_fixtures import rows

DAY = date(2026, 3, 1)


def _scores(platform: str, day: date, *ids: str):
    return rows(
        "has_scores",
        *({"platform": platform, "platform_id": i, "partition_date": day, "has": 0.5} for i in ids),
    )


def _relation(warehouse: Warehouse, name: str) -> dict | None:
    frame = warehouse.read(
        "select relkind, relfilenode from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = current_schema() and c.relname = $1",
        [name],
    )
    return frame.row(0, named=True) if frame.height else None


def test_partition_names_and_bounds_are_built_from_checked_values() -> None:
    spec = table("has_scores")
    levels = day_partition_tables(spec, {"partition_date": DAY, "platform": "twitter"})
    assert [name for name, _ in levels] == ["has_scores__d20260301", "has_scores__d20260301__twitter"]
    assert "FOR VALUES FROM ('2026-03-01') TO ('2026-03-02') PARTITION BY LIST (\"platform\")" in levels[0][1]
    assert levels[1][1].endswith("PARTITION OF \"has_scores__d20260301\" FOR VALUES IN ('twitter')")
    with pytest.raises(ValueError, match=r"platform=\"x'; drop table has_scores; --\""):
        day_partition_tables(spec, {"partition_date": DAY, "platform": "x'; drop table has_scores; --"})


@pytest.mark.postgres
def test_a_replace_truncates_its_own_leaf_and_no_other(postgres_warehouse: Warehouse) -> None:
    warehouse = postgres_warehouse
    warehouse.ensure_schema()
    assert _relation(warehouse, "has_scores")["relkind"] == "p"
    warehouse.replace_partition(
        "has_scores", _scores("twitter", DAY, "a", "b"), {"partition_date": DAY, "platform": "twitter"}
    )
    warehouse.replace_partition(
        "has_scores", _scores("bluesky", DAY, "c"), {"partition_date": DAY, "platform": "bluesky"}
    )
    leaf = _relation(warehouse, "has_scores__d20260301__twitter")
    other = _relation(warehouse, "has_scores__d20260301__bluesky")
    assert leaf["relkind"] == "r" and other["relkind"] == "r"

    warehouse.replace_partition(
        "has_scores", _scores("twitter", DAY, "d"), {"partition_date": DAY, "platform": "twitter"}
    )
    assert (
        _relation(warehouse, "has_scores__d20260301__twitter")["relfilenode"] != leaf["relfilenode"]
    )  # truncated
    assert _relation(warehouse, "has_scores__d20260301__bluesky")["relfilenode"] == other["relfilenode"]
    assert warehouse.read("select platform, platform_id from has_scores order by 1, 2").rows() == [
        ("bluesky", "c"),
        ("twitter", "d"),
    ]
    # the leaf holds the rows: reads through the parent and the key constraint still apply
    assert warehouse.read("select count(*) as n from has_scores__d20260301__twitter")["n"][0] == 1
    # the key still holds across the partitions: an append of a stored key adds nothing
    assert warehouse.append("has_scores", _scores("twitter", DAY, "d", "e")) == 1


@pytest.mark.postgres
def test_a_table_created_plain_before_keeps_working_through_delete(postgres_warehouse: Warehouse) -> None:
    warehouse = postgres_warehouse
    # An older Scout created the table plain; ensure_schema never converts data.
    plain = dataclasses.replace(table("has_scores"), stored_by_day=False)
    warehouse.execute("drop table if exists has_scores")
    warehouse.execute(create_table(POSTGRES, plain))
    warehouse.ensure_schema()
    assert _relation(warehouse, "has_scores")["relkind"] == "r"
    address = {"partition_date": DAY, "platform": "twitter"}
    warehouse.replace_partition("has_scores", _scores("twitter", DAY, "a", "b"), address)
    warehouse.replace_partition("has_scores", _scores("twitter", DAY, "c"), address)
    assert warehouse.read("select platform_id from has_scores")["platform_id"].to_list() == ["c"]
    assert _relation(warehouse, "has_scores__d20260301__twitter") is None
