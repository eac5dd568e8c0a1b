"""``config_change_sensor`` and ``relabel_after_refresh_sensor``, tick by tick, on real config files.

Each test works on its own copy of the checked-in keyword file, audience files and labeling
settings (in ``tmp_path``), edits it like a user would, and evaluates ticks on it.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from resources.models.registry import load_model_registry
from resources.warehouse import Warehouse
from scout_assets.jobs import rederive_job
from scout_assets.labeling.settings import LABELING_FILE
from scout_assets.partitions import PLATFORMS
from scout_assets.resources_binding import build_model_roster, build_resources
from scout_contract.audience import AUDIENCES_DIR
from scout_contract.paths import KEYWORD_FILE
from sensors.config_changes import ConfigPaths, config_change_sensor, config_change_tick
from sensors.relabel import relabel_after_refresh_sensor
from sensors.settings import RELABEL_DAYS_ENV
from tests.pipeline_support import assets

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
ACTIVE = "thelai_customers.v3"
NEW = "thelai_customers.v4"


@pytest.fixture
def config(tmp_path: Path, monkeypatch) -> ConfigPaths:
    """A private copy of the watched config files."""
    monkeypatch.delenv(RELABEL_DAYS_ENV, raising=False)
    audiences = tmp_path / "audiences"
    shutil.copytree(AUDIENCES_DIR, audiences)
    keywords = tmp_path / "keywords.csv"
    shutil.copyfile(KEYWORD_FILE, keywords)
    labeling = tmp_path / "labeling.yaml"
    shutil.copyfile(LABELING_FILE, labeling)
    assert ACTIVE in labeling.read_text()
    return ConfigPaths(keyword_file=keywords, audiences_dir=audiences, labeling_file=labeling)


def tick(config: ConfigPaths, cursor: str | None, now: datetime = NOW) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), cursor=cursor)
    return config_change_tick(context, now, config)


def skip_text(result: dg.SensorResult) -> str:
    assert not result.run_requests, f"expected a skip, got {result.run_requests}"
    return result.skip_reason.skip_message


def add_keyword(config: ConfigPaths, line: str) -> None:
    with config.keyword_file.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def activate_new_version(config: ConfigPaths, wording: str = "Qualitative researchers, v4 wording") -> None:
    data = json.loads((config.audiences_dir / f"{ACTIVE}.json").read_text())
    data["targetProfile"] = wording
    (config.audiences_dir / f"{NEW}.json").write_text(json.dumps(data))
    text = config.labeling_file.read_text().replace(f"- {ACTIVE}", f"- {NEW}")
    config.labeling_file.write_text(text)


def test_first_tick_records_and_launches_nothing_then_nothing_changes(config):
    first = tick(config, None)
    assert skip_text(first).startswith("first tick: recorded")
    second = tick(config, first.cursor, NOW + timedelta(seconds=30))
    assert skip_text(second) == "no config change"
    assert second.cursor == first.cursor


def test_a_keyword_edit_refreshes_todays_keywords_on_every_platform(config):
    original = config.keyword_file.read_text()
    first = tick(config, None)
    add_keyword(config, "sensor test keyword one,*,#research,true")
    result = tick(config, first.cursor)
    assert sorted(r.partition_key for r in result.run_requests) == [f"{TODAY}|{p}" for p in sorted(PLATFORMS)]
    for request in result.run_requests:
        assert request.job_name == "scout_main"
        assert request.asset_selection == [dg.AssetKey("keywords")]
        assert request.tags["scout/reason"].startswith("keywords:")
    # the change is consumed: the next tick (a restart from the stored cursor) launches nothing
    assert skip_text(tick(config, result.cursor)) == "no config change"
    # reverting the edit is a change too, under new run keys (the daemon would drop reused ones)
    config.keyword_file.write_text(original)
    reverted = tick(config, result.cursor)
    assert len(reverted.run_requests) == len(PLATFORMS)
    assert not {r.run_key for r in reverted.run_requests} & {r.run_key for r in result.run_requests}


def test_a_broken_keyword_file_names_file_and_line_and_keeps_the_cursor(config):
    first = tick(config, None)
    lines = config.keyword_file.read_text().splitlines()
    add_keyword(config, "sensor test keyword two,mastodon,#research,true")  # unknown platform
    broken_line = len(lines) + 1
    result = tick(config, first.cursor)
    assert f"{config.keyword_file}:{broken_line}" in skip_text(result)
    assert "mastodon" in skip_text(result)
    assert json.loads(result.cursor)["keywords"] == json.loads(first.cursor)["keywords"]
    # fixing it is a change (relative to the last good state), so the keywords are refreshed
    config.keyword_file.write_text(
        "\n".join([*lines, "sensor test keyword two,bluesky,#research,true"]) + "\n"
    )
    fixed = tick(config, result.cursor)
    assert len(fixed.run_requests) == len(PLATFORMS)


def test_a_broken_keyword_file_at_the_first_tick_is_not_recorded(config):
    add_keyword(config, "x,*,notatag,true")
    first = tick(config, None)
    assert "not recorded" in skip_text(first) and str(config.keyword_file) in skip_text(first)
    config.keyword_file.write_text(
        config.keyword_file.read_text().replace("x,*,notatag,true", "x,*,#tag,true")
    )
    assert len(tick(config, first.cursor).run_requests) == len(PLATFORMS)


def test_a_new_active_audience_version_refreshes_the_recent_days_queue(config, monkeypatch):
    first = tick(config, None)
    activate_new_version(config)
    result = tick(config, first.cursor)
    days = [(TODAY - timedelta(days=i)).isoformat() for i in range(7)]
    assert sorted(r.partition_key for r in result.run_requests) == sorted(
        f"{d}|{p}" for d in days for p in PLATFORMS
    )
    for request in result.run_requests:
        assert request.job_name == "scout_rederive"
        assert request.asset_selection == [dg.AssetKey("profiles_to_score")]
        assert request.tags["scout/reason"] == f"audience:{NEW}"
        assert request.tags["scout/relabel_audience"] == NEW
    assert skip_text(tick(config, result.cursor)) == "no config change"

    monkeypatch.setenv(RELABEL_DAYS_ENV, "3")
    assert len(tick(config, first.cursor).run_requests) == 3 * len(PLATFORMS)


def test_a_new_file_not_yet_active_launches_nothing_until_activated(config):
    first = tick(config, None)
    data = json.loads((config.audiences_dir / f"{ACTIVE}.json").read_text())
    (config.audiences_dir / f"{NEW}.json").write_text(json.dumps(data))
    added = tick(config, first.cursor)
    assert skip_text(added) == "no config change"
    config.labeling_file.write_text(config.labeling_file.read_text().replace(f"- {ACTIVE}", f"- {NEW}"))
    assert tick(config, added.cursor).run_requests


def test_rewording_an_active_version_in_place_is_reported_not_relabeled(config):
    first = tick(config, None)
    path = config.audiences_dir / f"{ACTIVE}.json"
    data = json.loads(path.read_text())
    data["targetProfile"] = data["targetProfile"] + " (edited)"
    path.write_text(json.dumps(data))
    assert "without a version bump" in skip_text(tick(config, first.cursor))


def test_an_active_audience_without_a_file_is_reported(config):
    first = tick(config, None)
    config.labeling_file.write_text(config.labeling_file.read_text().replace(f"- {ACTIVE}", "- missing.v1"))
    assert "missing.v1 not usable" in skip_text(tick(config, first.cursor))


def test_an_unreadable_cursor_is_a_first_tick(config):
    assert skip_text(tick(config, "{broken")).startswith("first tick: recorded")


def test_the_registered_sensor_reads_the_live_config(tmp_path, monkeypatch):
    keywords = tmp_path / "keywords.csv"
    shutil.copyfile(KEYWORD_FILE, keywords)
    monkeypatch.setenv("SCOUT_KEYWORD_FILE", str(keywords))
    bound = {"config_files": build_resources()["config_files"]}  # SCOUT_KEYWORD_FILE, as the binding reads it
    context = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), resources=bound)
    first = config_change_sensor(context)
    assert skip_text(first).startswith("first tick: recorded")
    add_keyword(ConfigPaths(keyword_file=keywords), "sensor test keyword three,*,#research,true")
    context = dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(), cursor=first.cursor, resources=bound
    )
    assert len(config_change_sensor(context).run_requests) == len(PLATFORMS)


# --- relabel_after_refresh_sensor -------------------------------------------------------------


def refresh_run(warehouse: Warehouse, instance, tags: dict[str, str]) -> dg.ExecuteInProcessResult:
    """A real scout_rederive run of profiles_to_score (empty warehouse: it succeeds with 0 rows)."""
    defs = dg.Definitions(
        assets=assets(["profiles", "has_scores", "profiles_to_score"]),
        jobs=[rederive_job],
        resources={"warehouse": warehouse},
    )
    return defs.resolve_job_def("scout_rederive").execute_in_process(
        partition_key=f"{TODAY}|twitter",
        asset_selection=[dg.AssetKey("profiles_to_score")],
        instance=instance,
        tags=tags,
    )


def relabel_tick(result: dg.ExecuteInProcessResult, instance):
    context = dg.build_run_status_sensor_context(
        sensor_name="relabel_after_refresh_sensor",
        dagster_event=result.get_run_success_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
    )
    # The roster as the binding builds it from the environment (the test sets the key variables).
    return relabel_after_refresh_sensor(context, model_roster=build_model_roster())


def test_a_successful_refresh_labels_its_day_with_every_available_model(duckdb_warehouse, monkeypatch):
    registry = load_model_registry()
    for spec in registry.values():
        if spec.api_key_env:
            monkeypatch.delenv(spec.api_key_env, raising=False)
    monkeypatch.setenv(registry["meta-maverick-17b"].api_key_env, "gsk-test-not-a-real-key")
    instance = dg.DagsterInstance.ephemeral()
    result = refresh_run(
        duckdb_warehouse, instance, {"scout/relabel_audience": NEW, "scout/reason": f"audience:{NEW}"}
    )
    requests = relabel_tick(result, instance)
    assert sorted(r.partition_key for r in requests) == [
        f"{TODAY}|local-minilm",
        f"{TODAY}|meta-maverick-17b",
    ]
    for request in requests:
        assert request.tags["scout/reason"] == f"audience:{NEW}"
        assert request.run_key.endswith(result.run_id)


def test_an_ordinary_refresh_launches_nothing(duckdb_warehouse):
    instance = dg.DagsterInstance.ephemeral()
    assert relabel_tick(refresh_run(duckdb_warehouse, instance, {}), instance) is None
