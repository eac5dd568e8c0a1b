"""The automation lists load into the code location, and their requests fit the jobs they target."""

from __future__ import annotations

import shutil

import dagster as dg

from scout_contract.paths import KEYWORD_FILE
from scout_location.definitions import build_definitions, defs
from sensors import SCHEDULES, SENSORS


def test_schedules_and_sensors_load_with_the_code_location_and_start_running():
    dg.Definitions.validate_loadable(defs)
    repo = defs.get_repository_def()
    assert {s.name for s in SCHEDULES} <= {s.name for s in repo.schedule_defs}
    assert {s.name for s in SENSORS} <= {s.name for s in repo.sensor_defs}
    for definition in [*SCHEDULES, *SENSORS]:
        assert definition.default_status.value == "RUNNING", definition.name


def test_a_keyword_edit_request_resolves_in_the_repository(tmp_path, monkeypatch):
    """Evaluated as the daemon does (``evaluate_tick`` with the code location's resources), not by a bare call."""
    keywords = tmp_path / "keywords.csv"
    shutil.copyfile(KEYWORD_FILE, keywords)
    monkeypatch.setenv("SCOUT_KEYWORD_FILE", str(keywords))
    definitions = build_definitions()  # the code location as it loads with that environment
    repo = definitions.get_repository_def()
    sensor = repo.get_sensor_def("config_change_sensor")
    instance = dg.DagsterInstance.ephemeral()
    bound = {"config_files": definitions.resources["config_files"]}  # what the daemon hands the sensor
    with dg.build_sensor_context(instance=instance, definitions=definitions, resources=bound) as context:
        first = sensor.evaluate_tick(context)
    with keywords.open("a", encoding="utf-8") as handle:
        handle.write("sensor wiring test keyword,*,#research,true\n")
    with dg.build_sensor_context(
        instance=instance, definitions=definitions, resources=bound, cursor=first.cursor
    ) as context:
        data = sensor.evaluate_tick(context)
    assert len(data.run_requests) == 2
    for request in data.run_requests:
        job = repo.get_job(request.job_name)
        assert job.partitions_def.has_partition_key(request.partition_key)
        assert set(request.asset_selection) <= set(job.asset_layer.executable_asset_keys)
