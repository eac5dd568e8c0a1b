"""``label_queue_sensor`` tick by tick against a real warehouse and a real (ephemeral) Dagster instance.

Ticks are evaluated at chosen times through ``label_queue_tick`` (the sensor body with ``now``
as a parameter); the last tests invoke the registered sensor itself at the real current time.
The cascade's routing as the sensor sees it (an LLM counts only deferred units) is here too;
the asset's side of it is in tests/test_cascade.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from resources.models.registry import load_model_registry
from resources.models.roster import ModelRoster
from resources.warehouse import Warehouse
from scout_assets.labeling.cascade import route_of
from scout_assets.labeling.draw import Cycle, draw_labeling_models
from scout_assets.labeling.queue import Route, pending_units
from scout_assets.labeling.settings import load_labeling_settings
from scout_assets.resources_binding import build_model_roster
from sensors.label_queue import label_queue_sensor, label_queue_tick
from sensors.queue_state import queue_states
from sensors.settings import LABEL_CYCLE_S, LABEL_MAX_WAIT_ENV
from tests.sensors_fixtures import add_dead_letter, add_label_failure, add_labels, seed_queue, stand_in_job

MODEL = "local-minilm"  # probability 1.0 and no key: always drawn
BATCH = load_model_registry()[MODEL].batch_size
SETTINGS = load_labeling_settings()
AUDIENCE = SETTINGS.audiences[0]
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
KEY = f"{TODAY.isoformat()}|{MODEL}"
ROUTE = Route(model=MODEL, local=MODEL)
LLM = SETTINGS.cascade.order[1]  # the cheapest LLM: the first one when its key is set


def minutes_ago(minutes: float) -> datetime:
    return (NOW - timedelta(minutes=minutes)).replace(tzinfo=None)


def ids(count: int, start: int = 0) -> list[str]:
    return [str(1000 + i) for i in range(start, start + count)]


@pytest.fixture
def instance():
    return dg.DagsterInstance.ephemeral()


@pytest.fixture(autouse=True)
def defaults(monkeypatch):
    monkeypatch.delenv(LABEL_MAX_WAIT_ENV, raising=False)


def local_only_draw(now: datetime, available: bool = True):
    """The real draw of ``now``'s cycle, with only the local model able to run (no provider key in tests)."""
    return draw_labeling_models(
        ModelRoster(available=[MODEL] if available else []), Cycle.at(now, LABEL_CYCLE_S)
    )


def tick(warehouse, instance, cursor=None, now=NOW, available=True) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    return label_queue_tick(context, warehouse, now, draw=local_only_draw(now, available))


def finish_runs(instance) -> None:
    """Mark every run the ephemeral instance holds as ended (a launched run that has completed)."""
    for run in instance.get_runs():
        if not run.is_finished:
            instance.report_run_canceled(run)


def launch(instance, result: dg.SensorResult) -> None:
    """Record the tick's requests as runs not started yet, as the daemon would submit them."""
    for request in result.run_requests:
        instance.create_run_for_job(
            stand_in_job("scout_label", None),
            status=dg.DagsterRunStatus.NOT_STARTED,
            tags={**request.tags, "dagster/partition": request.partition_key},
        )


def skip_text(result: dg.SensorResult) -> str:
    assert not result.run_requests, f"expected a skip, got {result.run_requests}"
    return result.skip_reason.skip_message


def test_aggregate_pending_matches_the_assets_pending_units(warehouse):
    """The sensor's per-day aggregate and the asset's row query agree on every kind of unit."""
    seed_queue(warehouse, TODAY, ids(10), queued_at=minutes_ago(30))
    seed_queue(warehouse, TODAY, ids(3, 10), queued_at=minutes_ago(20), bio="")  # no bio: never sent
    seed_queue(warehouse, TODAY, ids(4), queued_at=minutes_ago(10), platform="bluesky")
    add_labels(warehouse, TODAY, ids(2), MODEL, AUDIENCE)  # done by this model
    add_labels(warehouse, TODAY, ids(3, 2), "claude-haiku-4.5", AUDIENCE)  # done by another model only
    add_dead_letter(warehouse, ids(1, 5)[0], MODEL, AUDIENCE)  # dead: out of the queue
    add_dead_letter(warehouse, ids(1, 6)[0], MODEL, AUDIENCE, requeued_at=datetime(2026, 3, 1))  # back in

    expected = pending_units(warehouse, TODAY, ROUTE, AUDIENCE, relabel=False)
    [state] = queue_states(warehouse, ROUTE, (AUDIENCE,))
    assert state.pending == expected.height == 10 - 2 - 1 + 4
    assert state.oldest_queued_at == minutes_ago(30)
    assert expected["has"].to_list() == sorted(expected["has"].to_list(), reverse=True)


def test_an_llm_counts_only_what_the_local_labeler_deferred(warehouse):
    """The sensor's aggregate follows the cascade: nothing for an LLM until the local labeler has
    labeled a unit, and then only the deferred ones (a zero-shot label, deferred null, counts as unsure)."""
    seed_queue(warehouse, TODAY, ids(8), queued_at=minutes_ago(30))
    route = route_of(LLM, SETTINGS.cascade.order, [MODEL, LLM])
    assert route == Route(model=LLM, local=MODEL)
    assert queue_states(warehouse, route, (AUDIENCE,)) == []  # not labeled locally yet: not routed
    add_labels(warehouse, TODAY, ids(3), MODEL, AUDIENCE, deferred=False)
    add_labels(warehouse, TODAY, ids(3, 3), MODEL, AUDIENCE, deferred=True)
    add_labels(warehouse, TODAY, ids(2, 6), MODEL, AUDIENCE, deferred=None)
    [state] = queue_states(warehouse, route, (AUDIENCE,))
    expected = pending_units(warehouse, TODAY, route, AUDIENCE, relabel=False)
    assert state.pending == expected.height == 5
    assert set(expected["platform_id"]) == set(ids(5, 3))


def test_below_batch_skips_and_says_what_it_saw(duckdb_warehouse, instance):
    seed_queue(duckdb_warehouse, TODAY, ids(12), queued_at=minutes_ago(5))
    text = skip_text(tick(duckdb_warehouse, instance))
    assert f"12 pending for {MODEL} on {TODAY}, batch {BATCH}, best HAS 0.90, oldest 5 min" in text


def test_a_full_batch_launches_the_partition_with_the_draw_in_its_tags(duckdb_warehouse, instance):
    seed_queue(duckdb_warehouse, TODAY, ids(BATCH), queued_at=minutes_ago(5))
    result = tick(duckdb_warehouse, instance)
    [request] = result.run_requests
    assert request.partition_key == KEY
    draw = local_only_draw(NOW)
    assert {k: request.tags[k] for k in draw.tags(MODEL)} == draw.tags(MODEL)
    assert request.tags["scout/draw_seed"] == str(int(NOW.timestamp()))  # 12:00 starts a cycle
    assert request.tags["scout/draw_cycle"] == "2026-03-10T12:00Z"
    assert request.run_config == {}  # the local labeler is free: not held to one batch
    assert request.tags["scout/reason"] == "batch"
    assert request.tags["scout/pending"] == str(BATCH)
    assert request.run_key.startswith(f"{KEY}@")


def test_cursor_survives_a_restart_same_state_never_twice_new_content_again(duckdb_warehouse, instance):
    seed_queue(duckdb_warehouse, TODAY, ids(BATCH), queued_at=minutes_ago(5))
    first = tick(duckdb_warehouse, instance)
    assert len(first.run_requests) == 1

    # "restart": a fresh context that knows only the stored cursor, a minute later
    again = tick(duckdb_warehouse, instance, cursor=first.cursor, now=NOW + timedelta(minutes=1))
    assert "already launched for this queue state" in skip_text(again)

    seed_queue(duckdb_warehouse, TODAY, ids(1, BATCH), queued_at=minutes_ago(1))
    after_new = tick(duckdb_warehouse, instance, cursor=again.cursor, now=NOW + timedelta(minutes=2))
    [request] = after_new.run_requests
    assert request.run_key != first.run_requests[0].run_key
    assert request.tags["scout/pending"] == str(BATCH + 1)


def test_a_lost_cursor_still_gives_the_same_run_key_for_the_same_state(duckdb_warehouse, instance):
    seed_queue(duckdb_warehouse, TODAY, ids(BATCH), queued_at=minutes_ago(5))
    first = tick(duckdb_warehouse, instance)
    lost = tick(duckdb_warehouse, instance, cursor="not json", now=NOW + timedelta(minutes=3))
    assert [r.run_key for r in lost.run_requests] == [r.run_key for r in first.run_requests]


def test_a_label_failure_is_a_new_state(duckdb_warehouse, instance):
    """A run that could not label some units leaves them pending; the failure makes a retry possible."""
    seed_queue(duckdb_warehouse, TODAY, ids(BATCH), queued_at=minutes_ago(5))
    first = tick(duckdb_warehouse, instance)
    add_label_failure(duckdb_warehouse, TODAY, ids(1)[0], MODEL, AUDIENCE)
    second = tick(duckdb_warehouse, instance, cursor=first.cursor)
    assert len(second.run_requests) == 1
    assert second.run_requests[0].run_key != first.run_requests[0].run_key


def test_max_wait_launches_a_partial_batch(duckdb_warehouse, instance, monkeypatch):
    monkeypatch.setenv(LABEL_MAX_WAIT_ENV, "45")
    seed_queue(duckdb_warehouse, TODAY, ids(3), queued_at=minutes_ago(44))
    assert "3 pending" in skip_text(tick(duckdb_warehouse, instance))
    [request] = tick(duckdb_warehouse, instance, now=NOW + timedelta(minutes=1)).run_requests
    assert request.partition_key == KEY and request.tags["scout/reason"] == "max_wait"


def test_a_stranded_day_gets_a_run_request(duckdb_warehouse, instance):
    """No look-back window: units queued ten days ago and never labeled are picked up."""
    stranded = TODAY - timedelta(days=10)
    seed_queue(duckdb_warehouse, stranded, ids(3), queued_at=minutes_ago(60 * 24 * 10))
    [request] = tick(duckdb_warehouse, instance).run_requests
    assert request.partition_key == f"{stranded}|{MODEL}"
    assert request.tags["scout/reason"] == "max_wait" and request.tags["scout/pending"] == "3"


def test_the_best_partition_goes_first_one_per_model_and_the_next_when_it_ends(duckdb_warehouse, instance):
    """Best first: the day whose pending units hold the highest HAS, whatever its age; one run of
    a model at a time, and when it has ended the next best partition goes."""
    old_good, new_poor = TODAY - timedelta(days=4), TODAY - timedelta(days=1)
    seed_queue(duckdb_warehouse, TODAY, ids(BATCH), queued_at=minutes_ago(5), has=0.7)
    seed_queue(duckdb_warehouse, new_poor, ids(BATCH, 100), queued_at=minutes_ago(60 * 20), has=0.6)
    seed_queue(duckdb_warehouse, old_good, ids(BATCH, 200), queued_at=minutes_ago(60 * 90), has=0.95)
    first = tick(duckdb_warehouse, instance)
    assert [r.partition_key for r in first.run_requests] == [f"{old_good}|{MODEL}"]
    launch(instance, first)
    held = tick(duckdb_warehouse, instance, cursor=first.cursor, now=NOW + timedelta(minutes=1))
    assert "has not finished yet" in skip_text(held)
    finish_runs(instance)
    # The first run labeled its day; with it ended, the next best (today, HAS 0.7) goes.
    add_labels(duckdb_warehouse, old_good, ids(BATCH, 200), MODEL, AUDIENCE)
    second = tick(duckdb_warehouse, instance, cursor=held.cursor, now=NOW + timedelta(minutes=2))
    assert [r.partition_key for r in second.run_requests] == [KEY]
    launch(instance, second)
    finish_runs(instance)
    # A run that made no progress does not block the others: its state was launched, the next goes.
    third = tick(duckdb_warehouse, instance, cursor=second.cursor, now=NOW + timedelta(minutes=3))
    assert [r.partition_key for r in third.run_requests] == [f"{new_poor}|{MODEL}"]


def test_an_unfinished_run_of_the_partition_holds_the_next_one_back(duckdb_warehouse, instance):
    seed_queue(duckdb_warehouse, TODAY, ids(BATCH), queued_at=minutes_ago(5))
    queued = instance.create_run_for_job(
        stand_in_job("scout_label", None),
        status=dg.DagsterRunStatus.NOT_STARTED,
        tags={"dagster/partition": KEY},
    )
    assert f"run {queued.run_id} of {MODEL} has not finished yet" in skip_text(
        tick(duckdb_warehouse, instance)
    )
    instance.report_run_canceled(queued)
    assert len(tick(duckdb_warehouse, instance).run_requests) == 1


def test_no_model_drawn_launches_nothing(duckdb_warehouse, instance):
    seed_queue(duckdb_warehouse, TODAY, ids(BATCH), queued_at=minutes_ago(5))
    text = skip_text(tick(duckdb_warehouse, instance, available=False))
    assert "no model drawn this cycle" in text and "no key" in text


def test_a_warehouse_without_tables_is_a_skip_not_a_crash(tmp_path, instance):
    empty = Warehouse(url=f"duckdb:///{tmp_path}/empty.duckdb")
    assert skip_text(tick(empty, instance)).startswith("the warehouse has no Scout tables yet")
    unreachable = Warehouse(url="postgresql://scout@127.0.0.1:9/nowhere")  # nothing listens on port 9
    assert skip_text(tick(unreachable, instance)).startswith("cannot read the labeling queue")


def test_the_registered_sensor_runs_at_the_current_time(duckdb_warehouse, instance, monkeypatch):
    """The sensor itself (real clock, real seeded draw), with provider keys cleared."""
    for spec in load_model_registry().values():
        if spec.api_key_env:
            monkeypatch.delenv(spec.api_key_env, raising=False)
    now = datetime.now(UTC)
    seed_queue(duckdb_warehouse, now.date(), ids(BATCH), queued_at=now.replace(tzinfo=None))
    roster = build_model_roster()  # as the code location binds it, with no provider key set
    context = dg.build_sensor_context(
        instance=instance, resources={"warehouse": duckdb_warehouse, "model_roster": roster}
    )
    result = label_queue_sensor(context)
    assert [r.partition_key for r in result.run_requests] == [f"{now.date()}|{MODEL}"]
    seed = int(result.run_requests[0].tags["scout/draw_seed"])
    assert seed % LABEL_CYCLE_S == 0 and 0 <= now.timestamp() - seed < LABEL_CYCLE_S  # the cycle's start
    assert label_queue_sensor.job_name == "scout_label"
    assert label_queue_sensor.default_status == dg.DefaultSensorStatus.RUNNING
