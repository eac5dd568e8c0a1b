"""Backfills re-derive past partitions from stored raw pages only: no API call, same rows.

Cases users meet: a changed HAS config rescored over past days, a parser fix replayed over
history; both are a range of the derived assets, run as one run per batch of partitions.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import polars as pl

from scout_assets.partitions import partition_key, today_utc
from tests.pipeline_support import DERIVED, MAIN_ASSETS, assets, materialize, resources_for

DAYS = [today_utc() - timedelta(days=n) for n in (3, 2, 1)]


def seed_history(warehouse, sandbox) -> None:
    """Three past days of searches on both platforms, as if the schedule had run then."""
    for day in DAYS:
        for platform in ("bluesky", "twitter"):
            assert materialize(MAIN_ASSETS, warehouse, sandbox, platform, day=day, keywords_per_run=2).success


def snapshot(warehouse) -> dict[str, pl.DataFrame]:
    keys = {
        "profiles": ["platform", "platform_id"],
        "has_scores": ["platform", "platform_id", "partition_date"],
        "profiles_to_score": ["platform", "platform_id", "partition_date"],
        "profile_snapshots": ["platform", "platform_id", "partition_date"],
    }
    return {name: warehouse.read(f"select * from {name}").sort(key) for name, key in keys.items()}


def backfill(warehouse, sandbox, start, end):
    return dg.materialize(
        assets(DERIVED),
        resources=resources_for(warehouse, sandbox),
        tags={
            "dagster/asset_partition_range_start": str(start),
            "dagster/asset_partition_range_end": str(end),
        },
    )


def test_range_backfill_rederives_without_api_calls_and_reproduces_rows(warehouse, sandbox):
    seed_history(warehouse, sandbox)
    original = snapshot(warehouse)
    served = len(sandbox.requests)
    with warehouse.transaction() as tx:  # lose every derived row of the period
        for table in (
            "has_scores",
            "profiles_to_score",
            "profile_snapshots",
            "profile_sightings",
            "profiles",
        ):
            tx.execute(f"delete from {table}")

    result = backfill(
        warehouse, sandbox, partition_key(DAYS[0], "bluesky"), partition_key(DAYS[-1], "twitter")
    )

    assert result.success
    assert len(sandbox.requests) == served  # re-derived from raw_searches alone
    rebuilt = snapshot(warehouse)
    for name, frame in original.items():
        assert rebuilt[name].equals(frame), name
    # one run carried all six partitions
    meta = result.asset_materializations_for_node("has_scores")[0].metadata
    assert meta["partitions"].value == 6


def test_changed_has_config_is_visible_and_backfilled(warehouse, sandbox, monkeypatch):
    from scout_assets.assets import has_scores as has_module
    from scout_assets.domain.has import load_has_config

    seed_history(warehouse, sandbox)
    before = warehouse.read("select platform, platform_id, partition_date, has, has_version from has_scores")
    config = load_has_config()
    data = config.to_dict()
    data["queue_threshold"] = 0.7
    data["penalties"]["few_followers"] = 0.5
    changed = type(config).model_validate(data)
    assert changed.version != config.version
    monkeypatch.setattr(has_module, "has_config", lambda: changed)

    assert backfill(
        warehouse, sandbox, partition_key(DAYS[0], "bluesky"), partition_key(DAYS[-1], "twitter")
    ).success
    after = warehouse.read("select platform, platform_id, partition_date, has, has_version from has_scores")
    assert set(after["has_version"]) == {changed.version}
    assert set(before["has_version"]) == {config.version}
    joined = before.join(after, on=["platform", "platform_id", "partition_date"], suffix="_new")
    assert joined.height == before.height
    assert (joined["has_new"] <= joined["has"]).all() and (joined["has_new"] < joined["has"]).any()
    # The queue follows the new threshold: has_scores decides is_queued, profiles_to_score reads it.
    flags = warehouse.read("select has, is_queued from has_scores")
    assert flags["is_queued"].to_list() == (flags["has"] > 0.7).to_list()
    queue = warehouse.read("select has from profiles_to_score")
    assert queue.height and (queue["has"] > 0.7).all()


def test_backfill_keys_for_the_cli():
    from datetime import date

    from scout_cli.backfill_keys import last_days

    assert last_days(2, until=date(2026, 3, 2)) == (
        "2026-03-01|bluesky,2026-03-01|twitter,2026-03-02|bluesky,2026-03-02|twitter"
    )
    assert last_days(2, model="local-minilm", until=date(2026, 3, 2)) == (
        "2026-03-01|local-minilm,2026-03-02|local-minilm"
    )
