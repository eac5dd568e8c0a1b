"""Run failures: classification, ``run_failure_sensor`` (record, dead letters) and ``run_retry_sensor``.

Failed runs are real runs of stand-in jobs carrying the Scout job names and partitions
(``tests/sensors_fixtures.py`` says why); the errors they raise are the project's own error
types and texts. The warehouse is a real DuckDB file (and PostgreSQL for the re-queue SQL).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from resources.models.litellm_labeler import TransientModelError
from resources.platforms.search_page import PlatformError
from resources.warehouse.errors import WarehouseError, WarehouseLockedError
from scout_assets.labeling.queue import Route, pending_units
from scout_assets.labeling.settings import load_labeling_settings
from scout_contract.tables import TABLES
from sensors.failure_kinds import FailureKind, classify_run
from sensors.run_failures import RUN_FAILURES_TABLE, handle_run_failure, run_failure_sensor
from sensors.run_retries import run_retry_tick
from sensors.settings import MAX_RUN_ATTEMPTS
from tests.sensors_fixtures import add_dead_letter, add_labels, seed_queue, stand_in_run

DAY = datetime(2026, 3, 10).date()
MODEL = "local-minilm"
LABEL_KEY = f"{DAY}|{MODEL}"
LOCAL_ROUTE = Route(model=MODEL, local=MODEL)  # the local labeler's units: every queued profile
MAIN_KEY = f"{DAY}|twitter"
SETTINGS = load_labeling_settings()
AUDIENCE = SETTINGS.audiences[0]
NO_KEY = "model 'claude-haiku-4.5' has no API key configured (ANTHROPIC_API_KEY is not set)"


def model_overloaded():
    try:
        raise TransientModelError(MODEL, "ServiceUnavailableError: the server is overloaded", status_code=503)
    except TransientModelError as exc:  # what llm_labels does with it: ask Dagster to retry
        raise dg.RetryRequested(max_retries=0) from exc


def platform_gave_up():
    error = PlatformError(
        platform="twitter", keyword="ux research", cursor=None, endpoint="/search", status=429,
        attempts=4, reason="gave up: HTTP 429 (server asked to wait 30s)",
    )  # fmt: skip
    raise dg.Failure(description=f"1 of 4 keyword searches on twitter failed: {error}")


def platform_refused():
    error = PlatformError(
        platform="twitter", keyword="ux research", cursor=None, endpoint="/search", status=401,
        attempts=1, reason="HTTP 401 is not retryable: invalid key",
    )  # fmt: skip
    raise dg.Failure(description=f"1 of 4 keyword searches on twitter failed: {error}")


def no_api_key():
    raise dg.Failure(NO_KEY)


def read_timeout():
    raise TimeoutError("read timed out after 60s")


def warehouse_locked():
    raise WarehouseLockedError("warehouse duckdb:///w.duckdb stayed locked by another process for 60s")


def warehouse_unreachable():
    raise WarehouseError(
        "cannot connect to warehouse postgresql://scout@127.0.0.1:1/scout: connection refused"
    )


def bug():
    raise KeyError("handle")


POLICY = dg.RetryPolicy(max_retries=1, delay=0)  # like the assets' policies, without the wait


@pytest.fixture
def instance():
    return dg.DagsterInstance.ephemeral()


def run(instance, raise_error, *, job="scout_label", key=LABEL_KEY, tags=None, policy=None) -> dg.DagsterRun:
    result = stand_in_run(instance, job, key, raise_error, tags=tags, retry_policy=policy)
    return instance.get_run_by_id(result.run_id)


def ended(instance, dagster_run) -> datetime:
    return datetime.fromtimestamp(instance.get_run_record_by_id(dagster_run.run_id).end_time, UTC)


@pytest.mark.parametrize(
    ("raise_error", "policy", "kind"),
    [
        # A model or platform that stayed unavailable through its client's retries: never re-run.
        (model_overloaded, None, FailureKind.UNAVAILABLE),  # judged by the cause, not RetryRequested
        (platform_gave_up, None, FailureKind.UNAVAILABLE),  # HTTP 429 after the client's retries
        (read_timeout, POLICY, FailureKind.TRANSIENT),  # a policy retried a timeout and ran out
        (warehouse_locked, None, FailureKind.TRANSIENT),
        (warehouse_unreachable, None, FailureKind.TRANSIENT),
        (platform_refused, None, FailureKind.POISON),  # HTTP 401: not retryable
        (no_api_key, POLICY, FailureKind.POISON),  # exhausting a policy does not make it transient
        (bug, None, FailureKind.POISON),
    ],
)
def test_failures_are_classified_from_the_recorded_errors(instance, raise_error, policy, kind):
    summary = classify_run(instance, run(instance, raise_error, policy=policy).run_id)
    assert summary.kind is kind, summary
    assert summary.message and summary.evidence


def test_secrets_never_reach_the_recorded_error(instance, duckdb_warehouse, monkeypatch):
    secret = "gsk-live-0123456789abcdef"
    monkeypatch.setenv("GROQ_API_KEY", secret)

    def leaky():
        raise RuntimeError(f"provider rejected key {secret}")

    row = handle_run_failure(instance, run(instance, leaky), duckdb_warehouse, datetime.now(UTC), _Log())
    assert secret not in row["error"] and "<GROQ_API_KEY>" in row["error"]


def test_a_transient_failure_schedules_a_retry_after_the_backoff(instance, duckdb_warehouse):
    failed = run(instance, warehouse_locked)
    row = handle_run_failure(instance, failed, duckdb_warehouse, datetime.now(UTC), _Log())
    assert row["failure_kind"] == "transient" and row["action"] == "retry_scheduled" and row["attempt"] == 1
    assert row["retry_at"] - row["failed_at"] == timedelta(minutes=2)


def test_the_last_attempt_is_not_retried(instance, duckdb_warehouse):
    failed = run(instance, warehouse_locked, tags={"scout/attempt": str(MAX_RUN_ATTEMPTS)})
    row = handle_run_failure(instance, failed, duckdb_warehouse, datetime.now(UTC), _Log())
    assert row["action"] == "gave_up" and row["retry_at"] is None


# --- run_retry_sensor -------------------------------------------------------------------------


def retry_tick(instance, now, cursor=None) -> dg.SensorResult:
    return run_retry_tick(dg.build_sensor_context(instance=instance, cursor=cursor), now)


def test_retry_waits_for_the_backoff_then_relaunches_the_partition_once(instance):
    draw_tags = {
        "scout/draw_seed": "1773144000",
        "scout/draw_u": "0.100000",
        "scout/trigger": "label_queue_sensor",
    }
    failed = run(instance, warehouse_locked, tags=draw_tags)
    at = ended(instance, failed)

    early = retry_tick(instance, at + timedelta(minutes=1))
    assert not early.run_requests
    assert "attempt 2 due" in early.skip_reason.skip_message

    due = retry_tick(instance, at + timedelta(minutes=2, seconds=1), early.cursor)
    [request] = due.run_requests
    assert request.job_name == "scout_label" and request.partition_key == LABEL_KEY
    assert request.run_key == f"retry:{failed.run_id}"
    assert request.tags["scout/retry_of"] == failed.run_id and request.tags["scout/attempt"] == "2"
    assert request.tags["scout/draw_seed"] == draw_tags["scout/draw_seed"]  # the draw stays traceable
    assert request.tags["scout/trigger"] == "run_retry_sensor"

    # a restart from the stored cursor does not retry the same failure again
    later = retry_tick(instance, at + timedelta(minutes=30), due.cursor)
    assert not later.run_requests


def test_the_backoff_doubles_with_each_attempt(instance):
    failed = run(instance, warehouse_locked, job="scout_main", key=MAIN_KEY, tags={"scout/attempt": "2"})
    at = ended(instance, failed)
    assert not retry_tick(instance, at + timedelta(minutes=3, seconds=59)).run_requests
    [request] = retry_tick(instance, at + timedelta(minutes=4)).run_requests
    assert request.tags["scout/attempt"] == "3" and request.job_name == "scout_main"


def test_poison_unavailable_last_attempts_and_other_jobs_are_not_retried(instance):
    poison = run(instance, bug)
    last = run(instance, warehouse_locked, tags={"scout/attempt": str(MAX_RUN_ATTEMPTS)})
    # A model or platform outage: its client already retried; a run retry would multiply that.
    outage = run(instance, model_overloaded)
    platform_down = run(instance, platform_gave_up, job="scout_main", key=MAIN_KEY)
    other = stand_in_run(instance, "not_a_scout_job", MAIN_KEY, read_timeout)
    at = max(ended(instance, r) for r in (poison, last, outage, platform_down))
    result = retry_tick(instance, at + timedelta(hours=1))
    assert not result.run_requests
    text = result.skip_reason.skip_message
    assert f"run {poison.run_id}: poison" in text
    assert f"run {last.run_id}: transient, but attempt {MAX_RUN_ATTEMPTS} was the last" in text
    assert f"run {outage.run_id}: unavailable" in text and f"run {platform_down.run_id}: unavailable" in text
    assert other.run_id not in text


# --- poison labeling partitions -> dead letters -------------------------------------------------


@pytest.fixture
def queue(duckdb_warehouse):
    """Five units pending for the model; one already labeled; one already dead."""
    ids = [str(2000 + i) for i in range(7)]
    seed_queue(duckdb_warehouse, DAY, ids, queued_at=datetime(2026, 3, 10, 8))
    add_labels(duckdb_warehouse, DAY, ids[5:6], MODEL, AUDIENCE)
    add_dead_letter(duckdb_warehouse, ids[6], MODEL, AUDIENCE)
    return duckdb_warehouse, ids[:5]


def sensor_context(instance, failed: dg.DagsterRun, warehouse):
    event = next(
        e.dagster_event for e in instance.all_logs(failed.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    )
    return dg.build_run_status_sensor_context(
        sensor_name="run_failure_sensor",
        dagster_event=event,
        dagster_instance=instance,
        dagster_run=failed,
        resources={"warehouse": warehouse},
    ).for_run_failure()


def dead(warehouse):
    return warehouse.read("select * from dead_letters where model = $1 and audience = $2", [MODEL, AUDIENCE])


def test_two_poison_failures_in_a_row_dead_letter_the_still_pending_units(instance, queue):
    warehouse, pending_ids = queue
    first = run(instance, no_api_key, policy=POLICY)
    run_failure_sensor(sensor_context(instance, first, warehouse))
    assert dead(warehouse).height == 1  # only the unit that was dead before

    second = run(instance, no_api_key, policy=POLICY)
    run_failure_sensor(sensor_context(instance, second, warehouse))
    letters = dead(warehouse).filter(dead(warehouse)["platform_id"].is_in(pending_ids))
    assert sorted(letters["platform_id"]) == pending_ids
    assert (letters["failures"] == 2).all() and letters["requeued_at"].is_null().all()
    assert letters["last_error"].str.contains("has no API key configured").all()
    assert pending_units(warehouse, DAY, LOCAL_ROUTE, AUDIENCE, relabel=False).is_empty()


def test_a_success_in_between_resets_the_poison_count(instance, queue):
    warehouse, _ = queue
    run(instance, no_api_key)
    run(instance, None)  # the partition succeeded once
    again = run(instance, no_api_key)
    row = handle_run_failure(instance, again, warehouse, datetime.now(UTC), _Log())
    assert row["action"] == "recorded" and dead(warehouse).height == 1


def test_transient_failures_never_dead_letter(instance, queue):
    warehouse, _ = queue
    for _ in range(3):
        row = handle_run_failure(
            instance, run(instance, warehouse_locked), warehouse, datetime.now(UTC), _Log()
        )
        assert row["action"] == "retry_scheduled"
    assert dead(warehouse).height == 1


def test_model_outages_are_recorded_never_retried_nor_dead_lettered(instance, queue):
    warehouse, _ = queue
    for _ in range(3):
        row = handle_run_failure(
            instance, run(instance, model_overloaded), warehouse, datetime.now(UTC), _Log()
        )
        assert (row["failure_kind"], row["action"], row["retry_at"]) == ("unavailable", "recorded", None)
    assert dead(warehouse).height == 1


def test_the_documented_requeue_sql_puts_dead_letters_back_in_the_queue(warehouse):
    """docs/operations.md's one-liner, on both backends."""
    ids = ["3000", "3001"]
    seed_queue(warehouse, DAY, ids, queued_at=datetime(2026, 3, 10, 8))
    for pid in ids:
        add_dead_letter(warehouse, pid, MODEL, AUDIENCE)
    assert pending_units(warehouse, DAY, LOCAL_ROUTE, AUDIENCE, relabel=False).is_empty()
    warehouse.execute(
        "update dead_letters set requeued_at = now() at time zone 'UTC' "
        f"where model = '{MODEL}' and audience = '{AUDIENCE}' and requeued_at is null"
    )
    back = pending_units(warehouse, DAY, LOCAL_ROUTE, AUDIENCE, relabel=False)
    assert sorted(back["platform_id"]) == ids
    requeued = warehouse.read("select requeued_at from dead_letters")["requeued_at"]
    assert abs(requeued[0] - datetime.now(UTC).replace(tzinfo=None)) < timedelta(hours=1)  # stored as UTC


@pytest.mark.skipif(
    RUN_FAILURES_TABLE not in TABLES, reason="schema.py does not declare the run_failures table yet (lead)"
)
def test_every_failure_is_recorded_in_the_run_failures_table(instance, duckdb_warehouse):
    transient = run(instance, warehouse_locked, job="scout_main", key=MAIN_KEY)
    poison = run(instance, bug)
    for failed in (transient, poison):
        run_failure_sensor(sensor_context(instance, failed, duckdb_warehouse))
    rows = duckdb_warehouse.read("select * from run_failures order by failed_at")
    assert list(rows["run_id"]) == [transient.run_id, poison.run_id]
    assert list(rows["failure_kind"]) == ["transient", "poison"]
    assert list(rows["action"]) == ["retry_scheduled", "recorded"]
    assert list(rows["partition_key"]) == [MAIN_KEY, LABEL_KEY]
    assert rows["error_class"][1] == "KeyError" and "'handle'" in rows["error"][1]
    assert rows["retry_at"][0] - rows["failed_at"][0] == timedelta(minutes=2) and rows["retry_at"][1] is None


class _Log:
    """Collects what the sensor would log (tests read it only when it matters)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def warning(self, message: str) -> None:
        self.lines.append(message)

    info = error = warning
