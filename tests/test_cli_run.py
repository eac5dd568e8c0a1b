"""`scout run`, the README's run command, end to end on the embedded default.

Runs in-process against a temporary DAGSTER_HOME and data folder: searches on both platforms
against the built-in sandbox, labels with local-minilm, keyword stats, dbt marts and docs.
Run twice to prove the second run pages on without duplicating anything.
"""

from __future__ import annotations

import pytest

from scout_assets.resources_binding import open_warehouse
from scout_cli.main import main


@pytest.mark.slow
def test_scout_run_twice_on_the_embedded_default(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("SCOUT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SCOUT_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("TWITTERX_APIKEY", raising=False)

    assert main(["run", "--keywords", "3", "--seed", "7"]) == 0
    first = capsys.readouterr().out
    warehouse = open_warehouse()
    profiles = warehouse.read(
        "select platform, count(*) as n, count(distinct platform_id) as ids from profiles "
        "group by platform order by platform"
    )
    assert profiles["platform"].to_list() == ["bluesky", "twitter"]
    assert (profiles["n"] == profiles["ids"]).all() and (profiles["n"] > 20).all()
    assert warehouse.read("select count(*) as n from profiles_to_score")["n"][0] > 0
    assert set(warehouse.read("select distinct model from llm_labels")["model"]) == {"local-minilm"}
    assert warehouse.read("select count(*) as n from keyword_stats")["n"][0] == 6
    assert warehouse.read("select count(*) as n from analytics.mart_discovery_funnel")["n"][0] == 2
    assert (tmp_path / "data" / "scout.duckdb").exists()
    assert "Scout summary for" in first and "local-minilm" in first and "http://127.0.0.1:3000" in first

    assert main(["run", "--keywords", "3", "--seed", "7"]) == 0
    pages = warehouse.read(
        "select platform, count(*) as n, count(distinct keyword || '#' || page) as distinct_pages "
        "from raw_searches group by platform"
    )
    # three more pages per platform (never-searched keywords go first), none fetched twice
    assert (pages["n"] == 6).all() and (pages["distinct_pages"] == 6).all()
    again = warehouse.read(
        "select count(*) as n, count(distinct platform || platform_id) as ids from profiles"
    )
    assert again["n"][0] == again["ids"][0]
    labels = warehouse.read(
        "select count(*) as n, count(distinct platform || platform_id || model || audience) "
        "as units from llm_labels"
    )
    assert labels["n"][0] == labels["units"][0]  # nothing labeled twice
