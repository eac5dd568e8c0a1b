"""The asset graph end to end: real Dagster materializations, real HTTP to the sandbox, both warehouses.

Each test gets its own sandbox server and its own warehouse (DuckDB file or a fresh
PostgreSQL database, from tests/conftest.py), so runs never see each other's data.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import polars as pl
import pytest

from scout_assets.assets.raw_searches import RawSearchConfig
from scout_assets.assets.raw_searches import raw_searches as raw_searches_asset
from scout_assets.partitions import partition_key, today_utc
from scout_sandbox import Fault
from tests.pipeline_support import (
    DERIVED,
    MAIN_ASSETS,
    archive_for,
    assets,
    materialize,
    resources_for,
    table,
)


@pytest.mark.parametrize("platform", ["twitter", "bluesky"])
def test_main_job_fills_every_table(warehouse, sandbox, platform):
    result = materialize(MAIN_ASSETS, warehouse, sandbox, platform)
    assert result.success

    pages = table(warehouse, "raw_searches", ["request_id"])
    assert pages.height == 4 and set(pages["platform"]) == {platform}
    assert pages["payload"].str.len_chars().min() > 10  # verbatim bodies kept
    archive = archive_for(warehouse)
    for row in pages.iter_rows(named=True):  # and archived byte for byte
        (uri,) = [
            u for u in archive.list_day(platform, row["partition_date"]) if row["request_id"] + ".json" in u
        ]
        assert archive.get_page(uri).decode() == row["payload"]
    calls = table(warehouse, "api_calls", ["call_id"])
    # Bluesky: one search plus one getProfiles per 25 actors of the page.
    expected_calls = 4 if platform == "twitter" else 4 + (-(-pages["result_count"] // 25)).sum()
    assert calls.height == expected_calls

    profiles = table(warehouse, "profiles", ["platform_id"])
    snapshots = table(warehouse, "profile_snapshots", ["platform_id"])
    scores = table(warehouse, "has_scores", ["platform_id"])
    queue = table(warehouse, "profiles_to_score", ["platform_id"])
    assert profiles.height > 20
    assert profiles["platform_id"].n_unique() == profiles.height
    assert snapshots.height == profiles.height == scores.height
    assert scores["has"].is_between(0, 1).all()
    assert queue.height > 0
    assert (queue["has"] > 0.65).all()
    # is_queued is decided by has_scores, and the queue reads it.
    assert (scores["is_queued"] == (scores["has"] > 0.65)).all()
    assert set(queue["platform_id"]) <= set(scores.filter(pl.col("is_queued"))["platform_id"])
    # every stored page's result count matches the appearances it produced
    assert (
        pages["result_count"].sum()
        == table(warehouse, "profile_sightings", ["platform_id"])["times_seen"].sum()
    )

    profile_meta = result.asset_materializations_for_node("profiles")[0].metadata
    assert profile_meta["new_profiles"].value == profiles.height
    assert profile_meta["already_known_profiles"].value == 0


def test_second_run_pages_on_and_adds_no_duplicates(warehouse, sandbox, tmp_path, monkeypatch):
    # Four keywords and four per run: the second run must continue each keyword at page 1.
    keyword_file = tmp_path / "keywords.csv"
    keyword_file.write_text(
        "keyword,platforms,tags,enabled\nethnography,*,,\npostdoc,*,,\nsociologist,*,,\ngrounded theory,*,,\n"
    )
    monkeypatch.setenv("SCOUT_KEYWORD_FILE", str(keyword_file))
    assert materialize(MAIN_ASSETS, warehouse, sandbox, "twitter").success
    first_pages = table(warehouse, "raw_searches", ["request_id"])
    first_profiles = table(warehouse, "profiles", ["platform_id"])

    assert materialize(MAIN_ASSETS, warehouse, sandbox, "twitter").success
    pages = table(warehouse, "raw_searches", ["request_id"])
    profiles = table(warehouse, "profiles", ["platform_id"])

    assert pages.height == 2 * first_pages.height  # the next page of each keyword, appended
    assert set(first_pages["request_id"]) <= set(pages["request_id"])  # nothing rewritten
    second_pages = pages.filter(~pl.col("request_id").is_in(first_pages["request_id"].implode()))
    assert set(second_pages["page"]) == {1}
    assert set(second_pages["cursor_in"]) == set(first_pages["cursor_out"])
    assert profiles["platform_id"].n_unique() == profiles.height
    assert profiles.height >= first_profiles.height


def test_rederiving_a_partition_is_idempotent_and_calls_no_api(warehouse, sandbox):
    assert materialize(MAIN_ASSETS, warehouse, sandbox, "bluesky").success
    before = {
        name: table(warehouse, name, ["platform_id"])
        for name in ("profiles", "profile_snapshots", "has_scores", "profiles_to_score")
    }
    served = len(sandbox.requests)

    assert materialize(DERIVED, warehouse, sandbox, "bluesky").success
    after = {name: table(warehouse, name, ["platform_id"]) for name in before}

    assert len(sandbox.requests) == served
    for name in before:
        assert after[name].equals(before[name]), name


def test_past_day_raw_partition_calls_nothing(warehouse, sandbox):
    yesterday = today_utc() - timedelta(days=1)
    result = dg.materialize(
        assets(["raw_searches"]),
        partition_key=partition_key(yesterday, "twitter"),
        resources=resources_for(warehouse, sandbox),
    )
    assert result.success
    assert sandbox.requests == []
    meta = result.asset_materializations_for_node("raw_searches")[0].metadata
    assert meta["api_calls"].value == 0


def test_platform_outage_costs_one_keyword_and_the_next_run_continues(warehouse, sandbox):
    # The first keyword meets 503 on every attempt of the client (the one layer that retries).
    # The step goes on with the other keywords, stores their pages and every attempt in the
    # usage ledger, and succeeds with the failure in its metadata: nothing retries it again.
    assert materialize(["keywords"], warehouse, sandbox, "twitter").success
    sandbox.inject("/api/search/people", Fault("server_error", status=503), Fault("server_error", status=503))
    with dg.build_asset_context(
        partition_key=partition_key(today_utc(), "twitter"), resources=resources_for(warehouse, sandbox)
    ) as context:
        _fail_one_then_continue(context, warehouse)


def _fail_one_then_continue(context, warehouse) -> None:
    result = raw_searches_asset(context, RawSearchConfig(keywords_per_run=3))
    assert result.metadata["search_failures"] == 1
    assert result.metadata["failures_by_kind"].value == {"transient": 1}

    pages = table(warehouse, "raw_searches", ["request_id"])
    calls = table(warehouse, "api_calls", ["call_id"])
    assert pages.height == 2 and "qualitative researcher" not in set(pages["keyword"])
    failed = calls.filter(pl.col("status") == 503)
    assert failed.height == 2 and (failed["keyword"] == "qualitative researcher").all()
    assert failed["error"].str.contains("503").all() and (failed["error_kind"] == "transient").all()
    assert calls.height == 4

    # The next run continues from the stored state: nothing fetched twice, nothing lost.
    raw_searches_asset(context, RawSearchConfig(keywords_per_run=3))
    pages = table(warehouse, "raw_searches", ["request_id"])
    assert pages.height == 5
    assert pages.select("keyword", "page").n_unique() == 5
