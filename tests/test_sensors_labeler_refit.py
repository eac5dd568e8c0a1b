"""``labeler_refit_sensor`` tick by tick against a real warehouse and a real (ephemeral) instance.

The thresholds are pinned here (``min_reviews`` 10, ``refit_after_reviews`` 15) by replacing
``load_fit_settings`` in the sensor's module: the checked-in labeling.yaml values are tuned for
real use and may change, and the test is about the rule, not about today's numbers. Fits are
recorded with the real ``store_fit`` after a real fit, so the sensor reads what the asset writes.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from resources.archive import LocalArchive
from resources.warehouse import Warehouse
from scout_assets.jobs import labeler_fit_job
from scout_assets.labeling.fit import fit_labeler, load_fit_settings, reviews_digest
from scout_assets.labeling.labeler_store import latest_reviews, store_fit
from scout_assets.partitions import audience_partitions
from sensors import SENSORS
from sensors import labeler_refit as sensor_module
from sensors.labeler_refit import SENSOR_NAME, labeler_refit_sensor, labeler_refit_tick
from tests.labeler_fixtures import AUDIENCE_KEY, audience, mixed_records, seed_reviews

MIN_REVIEWS = 10
REFIT_AFTER = 15


@pytest.fixture
def instance() -> dg.DagsterInstance:
    return dg.DagsterInstance.ephemeral()


@pytest.fixture(autouse=True)
def pinned_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_fit_settings().model_copy(
        update={"min_reviews": MIN_REVIEWS, "refit_after_reviews": REFIT_AFTER}
    )
    monkeypatch.setattr(sensor_module, "load_fit_settings", lambda: settings)


def tick(warehouse: Warehouse, instance: dg.DagsterInstance, cursor: str | None = None) -> dg.SensorResult:
    return labeler_refit_tick(dg.build_sensor_context(instance=instance, cursor=cursor), warehouse)


def skip_text(result: dg.SensorResult) -> str:
    assert not result.run_requests, f"expected a skip, got {result.run_requests}"
    return result.skip_reason.skip_message


def fit_and_store(warehouse: Warehouse, tmp_path: Path) -> None:
    """A real fit of the current reviews, recorded as the asset records it."""
    reviews = latest_reviews(warehouse, AUDIENCE_KEY)
    outcome = fit_labeler(
        reviews, audience(), load_fit_settings().model_copy(update={"min_reviews": MIN_REVIEWS})
    )
    store_fit(warehouse, LocalArchive(root=str(tmp_path / "archive")), outcome, run_id="test")


def test_no_reviews_and_too_few_reviews_launch_nothing(duckdb_warehouse, instance) -> None:
    assert f"{AUDIENCE_KEY}: no reviews yet" in skip_text(tick(duckdb_warehouse, instance))
    seed_reviews(duckdb_warehouse, mixed_records()[: MIN_REVIEWS - 1])
    assert f"fewer than min_reviews={MIN_REVIEWS}" in skip_text(tick(duckdb_warehouse, instance))


def test_enough_reviews_launch_one_fit_per_state_of_the_reviews(duckdb_warehouse, instance, tmp_path) -> None:
    records = mixed_records()
    seed_reviews(duckdb_warehouse, records[:REFIT_AFTER])
    first = tick(duckdb_warehouse, instance)
    [request] = first.run_requests
    digest = reviews_digest(latest_reviews(duckdb_warehouse, AUDIENCE_KEY))
    assert request.partition_key == AUDIENCE_KEY
    assert request.run_key == f"{AUDIENCE_KEY}@{digest}"
    assert request.tags["scout/trigger"] == SENSOR_NAME and request.tags["scout/reviews"] == str(REFIT_AFTER)

    # The same state again (cursor kept) is not launched twice; a lost cursor gives the same run key.
    assert "already launched" in skip_text(tick(duckdb_warehouse, instance, first.cursor))
    assert tick(duckdb_warehouse, instance).run_requests[0].run_key == request.run_key

    # The fit ran: nothing new until refit_after_reviews more accounts are reviewed.
    fit_and_store(duckdb_warehouse, tmp_path)
    assert "nothing new since the latest fit" in skip_text(tick(duckdb_warehouse, instance, first.cursor))
    seed_reviews(duckdb_warehouse, records[REFIT_AFTER : 2 * REFIT_AFTER - 1])
    assert f"{REFIT_AFTER - 1} new, a refit waits" in skip_text(
        tick(duckdb_warehouse, instance, first.cursor)
    )
    seed_reviews(duckdb_warehouse, records[2 * REFIT_AFTER - 1 : 2 * REFIT_AFTER])
    [refit] = tick(duckdb_warehouse, instance, first.cursor).run_requests
    assert refit.run_key != request.run_key and refit.tags["scout/reviews"] == str(2 * REFIT_AFTER)
    assert refit.tags["scout/reason"] == f"reviews:{REFIT_AFTER}->{2 * REFIT_AFTER}"


def test_an_unfinished_fit_run_holds_the_next_one_back(duckdb_warehouse, instance) -> None:
    seed_reviews(duckdb_warehouse, mixed_records()[:REFIT_AFTER])

    @dg.op(name="work")
    def work() -> None: ...

    @dg.job(name=labeler_fit_job.name, partitions_def=audience_partitions)
    def stand_in() -> None:
        work()

    queued = instance.create_run_for_job(
        stand_in, status=dg.DagsterRunStatus.NOT_STARTED, tags={"dagster/partition": AUDIENCE_KEY}
    )
    assert f"fit run {queued.run_id} has not finished yet" in skip_text(tick(duckdb_warehouse, instance))
    instance.report_run_canceled(queued)
    assert len(tick(duckdb_warehouse, instance).run_requests) == 1


def test_a_warehouse_without_tables_is_a_skip_not_a_crash(tmp_path, instance) -> None:
    empty = Warehouse(url=f"duckdb:///{tmp_path}/empty.duckdb")
    assert skip_text(tick(empty, instance)).startswith("the warehouse has no Scout tables yet")


def test_the_registered_sensor_targets_the_fit_job(duckdb_warehouse, instance) -> None:
    seed_reviews(duckdb_warehouse, mixed_records()[:REFIT_AFTER])
    context = dg.build_sensor_context(instance=instance, resources={"warehouse": duckdb_warehouse})
    result = labeler_refit_sensor(context)
    assert [r.partition_key for r in result.run_requests] == [AUDIENCE_KEY]
    assert labeler_refit_sensor.job_name == labeler_fit_job.name == "scout_labeler_fit"
    assert labeler_refit_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert labeler_refit_sensor in SENSORS
