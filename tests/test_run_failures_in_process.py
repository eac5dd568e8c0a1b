"""Runs that fail outside the daemon are recorded with the daemon's classification and writer.

Real in-process runs of stand-in jobs (``tests/sensors_fixtures.py``) on an ephemeral Dagster
instance; the rows land in a real warehouse. The end-to-end proof through ``scout run`` (a failed
and a stopped run, each leaving its row) is ``test_stopping.py``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import dagster as dg
import pytest

from resources.warehouse.errors import WarehouseLockedError
from sensors.run_failures import record_in_process_failure
from tests.sensors_fixtures import stand_in_run

KEY = "2026-03-10|twitter"
LOG = logging.getLogger(__name__)


def warehouse_locked():
    raise WarehouseLockedError("warehouse duckdb:///w.duckdb stayed locked by another process for 60s")


def bug():
    raise KeyError("handle")


@pytest.fixture
def instance():
    return dg.DagsterInstance.ephemeral()


def _record(instance, warehouse, raise_error, **options):
    result = stand_in_run(instance, "scout_main", KEY, raise_error)
    assert not result.success
    return record_in_process_failure(instance, result.run_id, warehouse, datetime.now(UTC), LOG, **options)


def test_a_transient_failure_outside_the_daemon_says_run_again(instance, warehouse):
    row = _record(instance, warehouse, warehouse_locked)
    assert (row["failure_kind"], row["action"], row["retry_at"]) == ("transient", "run_again", None)
    stored = warehouse.read("select job_name, partition_key, failure_kind, action from run_failures")
    assert stored.rows() == [("scout_main", KEY, "transient", "run_again")]


def test_a_poison_failure_outside_the_daemon_is_recorded_like_the_daemons(instance, warehouse):
    row = _record(instance, warehouse, bug)
    assert (row["failure_kind"], row["action"], row["error_class"]) == ("poison", "recorded", "KeyError")


def test_a_stopped_run_is_recorded_as_stopped_whatever_its_error(instance, warehouse):
    row = _record(instance, warehouse, warehouse_locked, stopped_by="SIGINT")
    assert (row["failure_kind"], row["action"], row["error_class"]) == ("stopped", "stopped", "SIGINT")
    assert row["error"].startswith("the program running it received SIGINT and stopped it during step ")


def test_recording_twice_keeps_one_row(instance, warehouse):
    result = stand_in_run(instance, "scout_main", KEY, bug)
    for _ in range(2):
        record_in_process_failure(instance, result.run_id, warehouse, datetime.now(UTC), LOG)
    assert warehouse.read("select count(*) as n from run_failures")["n"][0] == 1


def test_an_unknown_run_is_named(instance, warehouse):
    with pytest.raises(ValueError, match="run 'nope' is not in the Dagster instance"):
        record_in_process_failure(instance, "nope", warehouse, datetime.now(UTC), LOG)
