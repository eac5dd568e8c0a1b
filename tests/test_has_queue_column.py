"""``is_queued``: decided once by has_scores, and what a warehouse from before the column does."""

from __future__ import annotations

from datetime import date, datetime

import dagster as dg
import polars as pl
import pytest

import resources.warehouse.sql as sql
from resources.warehouse import Warehouse
from scout_assets.assets import has_scores as has_scores_asset
from scout_assets.assets.has_scores import _score_partition
from scout_assets.assets.profiles_to_score import _queue_partition
from scout_assets.domain.has import has_config
from scout_contract.tables import HAS_COLUMNS, HAS_SCORES, Table, polars_schema, table
from tests.has_fixtures import profile

DAY = date(2026, 3, 1)


def _snapshot(platform_id: str, followers: int) -> dict:
    """A labelable, fully described account seen on DAY: worked example A as a snapshot row."""
    row = {name: None for name in table("profile_snapshots").column_names}
    described = profile(platform_id=platform_id, handle=f"user{platform_id}", followers=followers)
    row.update({name: value for name, value in described.items() if name in row})
    row.update(
        partition_date=DAY,
        created_at=datetime(2018, 1, 1),
        first_seen_at=datetime(2026, 3, 1, 9),
        last_seen_at=datetime(2026, 3, 1, 9),
    )
    return row


def _seed_snapshots(warehouse: Warehouse) -> None:
    frame = pl.DataFrame(
        [_snapshot("1", 1200), _snapshot("2", 3)], schema=polars_schema(table("profile_snapshots").columns)
    )
    warehouse.replace_partition("profile_snapshots", frame, {"partition_date": DAY, "platform": "twitter"})


def test_has_scores_writes_is_queued_from_the_queue_rule(warehouse: Warehouse) -> None:
    _seed_snapshots(warehouse)
    config = has_config()
    scored = _score_partition(warehouse, config, DAY, "twitter")
    stored = warehouse.read("select platform_id, has, is_queued from has_scores order by platform_id")
    assert stored["is_queued"].to_list() == (stored["has"] > config.queue_threshold).to_list()
    assert stored["is_queued"].to_list() == [True, False]  # a complete profile vs 3 followers
    assert scored.columns == HAS_SCORES.column_names and scored.columns[-1] == "is_queued"

    counts = _queue_partition(warehouse, DAY, "twitter")
    assert counts["queued"] == 1
    assert warehouse.read("select platform_id from profiles_to_score")["platform_id"].to_list() == ["1"]


def test_snapshots_scored_in_batches_score_as_one_frame(warehouse: Warehouse, monkeypatch) -> None:
    """has_scores streams the day's snapshots: batches of one row give what one frame gives."""
    rows = [_snapshot(str(n), followers) for n, followers in enumerate((1200, 3, 40, 900, 15_000))]
    frame = pl.DataFrame(rows, schema=polars_schema(table("profile_snapshots").columns))
    warehouse.replace_partition("profile_snapshots", frame, {"partition_date": DAY, "platform": "twitter"})
    config = has_config()
    whole = _score_partition(warehouse, config, DAY, "twitter").sort("platform_id")
    monkeypatch.setattr(has_scores_asset, "SCORE_BATCH", 1)
    batched = _score_partition(warehouse, config, DAY, "twitter").sort("platform_id")
    assert whole.height == 5 and batched.equals(whole)
    stored = warehouse.read_table("has_scores", {"partition_date": DAY, "platform": "twitter"})
    assert stored.sort("platform_id").equals(whole)


def test_a_warehouse_from_before_is_queued_gains_the_column_and_old_days_must_be_rescored(
    bare_warehouse: Warehouse,
) -> None:
    dialect = sql.DUCKDB if bare_warehouse.kind == "duckdb" else sql.POSTGRES
    before = Table(
        name=HAS_SCORES.name,
        columns=HAS_COLUMNS,
        key=HAS_SCORES.key,
        partition_columns=HAS_SCORES.partition_columns,
    )
    bare_warehouse.execute(sql.create_table(dialect, before))
    bare_warehouse.execute(
        "INSERT INTO has_scores (platform, platform_id, partition_date, handle, has) VALUES ($1, $2, $3, $4, $5)",
        ["twitter", "1", DAY, "user1", 0.9],
    )

    changes = bare_warehouse.ensure_schema()

    assert any("ALTER TABLE" in s and '"has_scores"' in s and "is_queued" in s for s in changes)
    assert bare_warehouse.read("select is_queued from has_scores")["is_queued"].to_list() == [None]
    _seed_snapshots(bare_warehouse)
    # A null is_queued is not "not queued": rebuilding the queue from it would silently empty the day.
    with pytest.raises(dg.Failure, match=r"materialize has_scores for partition 2026-03-01\|twitter first"):
        _queue_partition(bare_warehouse, DAY, "twitter")

    _score_partition(bare_warehouse, has_config(), DAY, "twitter")  # what the named backfill does
    assert _queue_partition(bare_warehouse, DAY, "twitter")["queued"] == 1
