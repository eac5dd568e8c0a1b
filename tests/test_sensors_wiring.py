"""The automation lists load into the code location, and their requests fit the jobs they target."""

from __future__ import annotations

import shutil

import dagster as dg

from scout_assets.assets.keywords import keyword_file_path
from scout_location.definitions import defs
from sensors import SCHEDULES, SENSORS


def with_automation() -> dg.Definitions:
    names = {d.name for d in [*(defs.schedules or []), *(defs.sensors or [])]}
    ours = [d for d in [*SCHEDULES, *SENSORS] if d.name not in names]  # once the lead wires them in
    return dg.Definitions.merge(
        defs,
        dg.Definitions(
            schedules=[s for s in ours if isinstance(s, dg.ScheduleDefinition)],
            sensors=[s for s in ours if isinstance(s, dg.SensorDefinition)],
        ),
    )


def test_schedules_and_sensors_load_with_the_code_location_and_start_running():
    merged = with_automation()
    dg.Definitions.validate_loadable(merged)
    repo = merged.get_repository_def()
    assert {s.name for s in SCHEDULES} <= {s.name for s in repo.schedule_defs}
    assert {s.name for s in SENSORS} <= {s.name for s in repo.sensor_defs}
    for definition in [*SCHEDULES, *SENSORS]:
        assert definition.default_status.value == "RUNNING", definition.name


def test_a_keyword_edit_request_resolves_in_the_repository(tmp_path, monkeypatch):
    """Evaluated as the daemon does (``evaluate_tick`` with the repository), not by a bare call."""
    keywords = tmp_path / "keywords.csv"
    shutil.copyfile(keyword_file_path(), keywords)
    monkeypatch.setenv("SCOUT_KEYWORD_FILE", str(keywords))
    repo = with_automation().get_repository_def()
    sensor = repo.get_sensor_def("config_change_sensor")
    instance = dg.DagsterInstance.ephemeral()
    first = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, repository_def=repo))
    with keywords.open("a", encoding="utf-8") as handle:
        handle.write("sensor wiring test keyword,*,#research,true\n")
    data = sensor.evaluate_tick(
        dg.build_sensor_context(instance=instance, repository_def=repo, cursor=first.cursor)
    )
    assert len(data.run_requests) == 2
    for request in data.run_requests:
        job = repo.get_job(request.job_name)
        assert job.partitions_def.has_partition_key(request.partition_key)
        assert set(request.asset_selection) <= set(job.asset_layer.executable_asset_keys)
