"""``run_failure_sensor``: every failed run is recorded, and labeling poison is dead-lettered.

For each failed run of the code location the sensor decides the failure's kind (``failure_kinds``)
and writes one row to the ``run_failures`` warehouse table: job, partition, attempt, kind,
the error it rests on, and what happens next:

- ``retry_scheduled``: transient and attempts are left; ``run_retries.py`` re-launches the
  partition once ``retry_at`` has passed (2**attempt minutes after the failure);
- ``gave_up``: transient, but the run was already attempt ``MAX_RUN_ATTEMPTS``;
- ``recorded``: poison; a person reads the error;
- ``dead_lettered``: poison, on a ``scout_label`` partition whose runs failed with a poison
  error twice in a row (no success in between): the partition's still-pending units move to
  ``dead_letters`` so they stop being retried, until a person re-queues them
  (docs/operations.md).

Runs that fail outside the daemon (``scout run``, any ``execute_in_process``) are recorded by
``record_in_process_failure`` with the same classification and writer. Nothing re-launches
those, so their transient failures say ``run_again``, and a run ended by SIGTERM or SIGINT is
``stopped`` (kind and action), naming the signal.

Retries are not launched from here: a run-status sensor sees each failure once and cannot
wait, so a backoff needs a sensor that looks again later. Retry decisions are taken from the
Dagster instance, not from this table, so they happen even when the warehouse is what failed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import polars as pl

from resources.warehouse import Warehouse, WarehouseError
from scout_assets.labeling.cascade import route_of
from scout_assets.labeling.queue import pending_units
from scout_assets.labeling.settings import LabelingSettingsError, load_labeling_settings
from scout_assets.partitions import split_model_partition_key
from scout_assets.resources_binding import build_model_roster
from scout_contract.tables import DEAD_LETTERS, RUN_FAILURES, polars_schema
from sensors.cursors import naive_utc, utc_now
from sensors.failure_kinds import MAX_ERROR_CHARS, FailureKind, FailureSummary, classify_run
from sensors.settings import MAX_RUN_ATTEMPTS, POISON_FAILURES_TO_DEAD_LETTER, retry_backoff
from sensors.targets import ATTEMPT_TAG, LABEL_JOB, PARTITION_TAG, RETRY_OF_TAG

SENSOR_NAME = "run_failure_sensor"
RUN_FAILURES_TABLE = RUN_FAILURES.name
RUN_AGAIN = "run_again"  # transient, outside the daemon: nothing re-launches it
STOPPED = "stopped"  # kind and action of a run ended by SIGTERM/SIGINT


def run_attempt(run: dg.DagsterRun) -> int:
    """Which attempt ``run`` was: its ``scout/attempt`` tag, 1 when absent or unreadable."""
    try:
        return max(1, int(run.tags.get(ATTEMPT_TAG, "1")))
    except ValueError:
        return 1


def failed_at(instance: dg.DagsterInstance, run_id: str, default: datetime) -> datetime:
    """When the run ended (aware UTC), from the instance's run record."""
    record = instance.get_run_record_by_id(run_id)
    end = record.end_time if record is not None else None
    return datetime.fromtimestamp(end, UTC) if end else default


def poison_streak(instance: dg.DagsterInstance, run: dg.DagsterRun, limit: int = 20) -> int:
    """Poison failures of ``run``'s (job, partition) since its last success, newest first.

    Transient failures in between neither count nor break the streak: they say nothing about
    whether the work itself is poison.
    """
    key = run.tags.get(PARTITION_TAG)
    if key is None:
        return 0
    records = instance.get_run_records(
        filters=dg.RunsFilter(job_name=run.job_name, tags={PARTITION_TAG: key}), limit=limit
    )
    streak = 0
    for record in records:
        status = record.dagster_run.status
        if status == dg.DagsterRunStatus.SUCCESS:
            break
        if status == dg.DagsterRunStatus.FAILURE and (
            classify_run(instance, record.dagster_run.run_id).kind is FailureKind.POISON
        ):
            streak += 1
    return streak


def dead_letter_partition(
    warehouse: Warehouse, partition_key: str, summary: FailureSummary, failures: int, now: datetime
) -> int:
    """Move the still-pending units of a (day, model) partition to ``dead_letters``; return how many."""
    day, model = split_model_partition_key(partition_key)
    settings = load_labeling_settings()
    error = f"{failures} runs of scout_label {partition_key} failed: {summary.error_class}: {summary.message}"
    frames = []
    # The units the cascade routes to this model here (its keys decide which LLM comes first).
    route = route_of(model, settings.cascade.order, build_model_roster().available)
    for audience in settings.audiences:
        pending = pending_units(warehouse, day, route, audience, relabel=False)
        frames.append(
            pending.select("platform", "platform_id", "handle").with_columns(
                pl.lit(model).alias("model"),
                pl.lit(audience).alias("audience"),
                pl.lit(failures).alias("failures"),
                pl.lit(error[:MAX_ERROR_CHARS]).alias("last_error"),
                pl.lit(naive_utc(now)).alias("dead_at"),
                pl.lit(None).alias("requeued_at"),
            )
        )
    rows = pl.concat(frames, how="vertical_relaxed").select(DEAD_LETTERS.column_names)
    rows = rows.cast(polars_schema(DEAD_LETTERS.columns))
    if rows.is_empty():
        return 0
    return warehouse.upsert(DEAD_LETTERS.name, rows)


def record_failure(warehouse: Warehouse, row: dict[str, Any]) -> None:
    """Append one row to ``run_failures``."""
    warehouse.ensure_schema()  # the table may be newer than the last run's schema sync
    warehouse.append(RUN_FAILURES.name, pl.DataFrame([row], schema=polars_schema(RUN_FAILURES.columns)))


def handle_run_failure(
    instance: dg.DagsterInstance,
    run: dg.DagsterRun,
    warehouse: Warehouse,
    now: datetime,
    log: logging.Logger,
    *,
    retried: bool = True,
) -> dict[str, Any]:
    """Classify one failed run, dead-letter if due, record it; return the recorded row.

    ``retried``: whether ``run_retry_sensor`` re-launches the run's transient failures (runs the
    daemon launched); an in-process run's say ``run_again`` instead. Dead-lettering is announced
    on ``log`` as a warning: from then on those units wait for a person.
    """
    summary = classify_run(instance, run.run_id)
    attempt = run_attempt(run)
    ended = failed_at(instance, run.run_id, now)
    partition = run.tags.get(PARTITION_TAG)
    retry_at = None
    dead = 0
    if summary.kind is FailureKind.TRANSIENT:
        if not retried:
            action = RUN_AGAIN
        elif attempt < MAX_RUN_ATTEMPTS:
            action, retry_at = "retry_scheduled", ended + retry_backoff(attempt)
        else:
            action = "gave_up"
    else:
        action = "recorded"
        # Only poison dead-letters: an outage (``unavailable``) says nothing about the units.
        if summary.kind is FailureKind.POISON and run.job_name == LABEL_JOB and partition is not None:
            streak = poison_streak(instance, run)
            if streak >= POISON_FAILURES_TO_DEAD_LETTER:
                dead = dead_letter_partition(warehouse, partition, summary, streak, now)
                action = "dead_lettered"
                log.warning(
                    f"{SENSOR_NAME}: {dead} pending units of {LABEL_JOB} {partition} moved to dead_letters "
                    f"after {streak} poison failures in a row; re-queue them once fixed (docs/operations.md)"
                )
    row = _row(run, attempt, ended, now) | {
        "failure_kind": summary.kind.value,
        "error_class": summary.error_class,
        "error": summary.message,
        "evidence": summary.evidence,
        "action": action,
        "dead_letters": dead,
        "retry_at": naive_utc(retry_at) if retry_at else None,
    }
    record_failure(warehouse, row)
    return row


def record_in_process_failure(
    instance: dg.DagsterInstance,
    run_id: str,
    warehouse: Warehouse,
    now: datetime,
    log: logging.Logger,
    *,
    stopped_by: str | None = None,
) -> dict[str, Any]:
    """Record a run that ended without success outside the daemon; return the recorded row.

    ``stopped_by`` names the signal (``SIGTERM``) when the program was asked to stop: the run is
    then ``stopped``, whatever error the interruption left, and nothing re-launches it.
    """
    run = instance.get_run_by_id(run_id)
    if run is None:
        raise ValueError(f"run {run_id!r} is not in the Dagster instance")
    if stopped_by is None:
        return handle_run_failure(instance, run, warehouse, now, log, retried=False)
    step = _last_step(instance, run_id)
    row = _row(run, run_attempt(run), failed_at(instance, run_id, now), now) | {
        "failure_kind": STOPPED,
        "error_class": stopped_by,
        "error": f"the program running it received {stopped_by} and stopped it"
        + (f" during step {step}" if step else "")
        + f"; the run ended {run.status.value}. Pages and rows written before stay; run it again to go on.",
        "evidence": f"{stopped_by} received",
        "action": STOPPED,
        "dead_letters": 0,
        "retry_at": None,
    }
    record_failure(warehouse, row)
    return row


def _row(run: dg.DagsterRun, attempt: int, ended: datetime, now: datetime) -> dict[str, Any]:
    """The columns every ``run_failures`` row fills the same way."""
    return {
        "run_id": run.run_id,
        "job_name": run.job_name,
        "partition_key": run.tags.get(PARTITION_TAG),
        "attempt": attempt,
        "retry_of": run.tags.get(RETRY_OF_TAG),
        "failed_at": naive_utc(ended),
        "recorded_at": naive_utc(now),
    }


def _last_step(instance: dg.DagsterInstance, run_id: str) -> str | None:
    """The step that started last in the run, if any (what a stop interrupted)."""
    records = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)
    return records[-1].step_key if records else None


def describe(row: dict[str, Any]) -> str:
    """One line for the tick log: which run failed, how it was judged and what happens next."""
    text = (
        f"{row['job_name']} {row['partition_key'] or ''} run {row['run_id']} (attempt {row['attempt']}/"
        f"{MAX_RUN_ATTEMPTS}) failed, {row['failure_kind']} ({row['evidence']}): {row['action']}"
    )
    if row["retry_at"] is not None:
        text += f" at {row['retry_at']:%Y-%m-%d %H:%M:%S} UTC"
    if row["action"] == "dead_lettered":
        text += f" ({row['dead_letters']} pending units)"
    return text


@dg.run_failure_sensor(
    name=SENSOR_NAME,
    # None: every job of the code location, including the implicit asset jobs that the
    # automation-condition sensor launches (they carry no job name of ours).
    monitored_jobs=None,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Records every failed Scout run in run_failures (transient or poison, and what happens next); "
        "dead-letters a labeling partition's pending units after two poison failures in a row."
    ),
)
def run_failure_sensor(context: dg.RunFailureSensorContext, warehouse: Warehouse) -> None:
    # Returning None lets Dagster hand this sensor every failed run of a tick, not one per tick.
    run = context.dagster_run
    try:
        row = handle_run_failure(context.instance, run, warehouse, utc_now(), context.log)
    except (WarehouseError, LabelingSettingsError) as exc:
        context.log.error(f"{SENSOR_NAME}: could not record the failure of run {run.run_id}: {exc}")
        return
    context.log.info(describe(row))
