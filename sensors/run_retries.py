"""``run_retry_sensor``: re-launch a partition whose run failed transiently, after a backoff.

Every tick reads the Scout runs that failed in the last hours from the Dagster instance.
A transient failure (``failure_kinds``: infrastructure only, such as a warehouse lock or an
interrupted run) of attempt N < ``MAX_RUN_ATTEMPTS`` is re-launched as attempt N+1 once 2**N
minutes have passed since it ended: same job, partition, asset selection and run config, tagged
``scout/retry_of=<failed run>`` and ``scout/attempt=N+1``. A platform or model that stayed
unavailable is never re-run from here: its client already spent its retries, and a run retry
would multiply them. Those, poison failures and last attempts are left alone
(``run_failure_sensor`` records them).

The cursor keeps the runs already decided (retried, poison, out of attempts) and the due time
of those waiting, so a failure is classified once and retried once; the run key
``retry:<failed run id>`` makes the daemon refuse a second retry even if the cursor were lost.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import dagster as dg

from sensors.cursors import dump_cursor, load_cursor, tick_result, utc_now
from sensors.failure_kinds import FailureKind, classify_run
from sensors.run_failures import failed_at, run_attempt
from sensors.settings import MAX_RUN_ATTEMPTS, RUN_RETRY_INTERVAL_S, retry_backoff
from sensors.targets import (
    ATTEMPT_TAG,
    PARTITION_TAG,
    RETRY_OF_TAG,
    SCOUT_JOB_NAMES,
    SCOUT_JOBS,
    TRIGGER_TAG,
)

SENSOR_NAME = "run_retry_sensor"
# Failures older than this are not retried: after a long outage, the schedules and the label
# sensor start fresh work anyway, and retrying stale partitions would only add load.
RETRY_WINDOW = timedelta(hours=6)
MAX_FAILED_RUNS_PER_TICK = 500


def retry_request(run: dg.DagsterRun, attempt: int) -> dg.RunRequest:
    """The same partition, selection and config as ``run``, as attempt ``attempt + 1``."""
    carried = {
        k: v for k, v in run.tags.items() if k.startswith("scout/") and k not in (ATTEMPT_TAG, RETRY_OF_TAG)
    }
    return dg.RunRequest(
        run_key=f"retry:{run.run_id}",
        job_name=run.job_name,
        partition_key=run.tags.get(PARTITION_TAG),
        asset_selection=sorted(run.asset_selection, key=str) if run.asset_selection else None,
        run_config=run.run_config,
        tags={**carried, TRIGGER_TAG: SENSOR_NAME, RETRY_OF_TAG: run.run_id, ATTEMPT_TAG: str(attempt + 1)},
    )


def run_retry_tick(context: dg.SensorEvaluationContext, now: datetime) -> dg.SensorResult:
    """One evaluation at ``now`` (aware UTC) over the instance's recent failed runs."""
    instance = context.instance
    cursor = load_cursor(context.cursor, SENSOR_NAME, context.log) or {}
    settled: dict[str, str] = dict(cursor.get("settled", {}))  # run id -> when it failed (ISO)
    waiting: dict[str, list[str]] = dict(cursor.get("waiting", {}))  # run id -> [failed at, due at]
    records = instance.get_run_records(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE], updated_after=now - RETRY_WINDOW),
        limit=MAX_FAILED_RUNS_PER_TICK,
    )
    requests: list[dg.RunRequest] = []
    notes: list[str] = []
    for record in records:
        run = record.dagster_run
        if run.job_name not in SCOUT_JOB_NAMES or run.run_id in settled:
            continue
        what = f"{run.job_name} {run.tags.get(PARTITION_TAG, '')} run {run.run_id}"
        attempt = run_attempt(run)
        if run.run_id in waiting:
            ended, due = (datetime.fromisoformat(t) for t in waiting[run.run_id])
        else:
            ended = failed_at(instance, run.run_id, now)
            summary = classify_run(instance, run.run_id)
            if summary.kind is not FailureKind.TRANSIENT:
                settled[run.run_id] = ended.isoformat()
                notes.append(f"{what}: {summary.kind.value} ({summary.evidence}), not retried")
                continue
            if attempt >= MAX_RUN_ATTEMPTS:
                settled[run.run_id] = ended.isoformat()
                notes.append(f"{what}: transient, but attempt {attempt} was the last, not retried")
                continue
            due = ended + retry_backoff(attempt)
        if now < due:
            waiting[run.run_id] = [ended.isoformat(), due.isoformat()]
            minutes = max(1, round((due - now).total_seconds() / 60))
            notes.append(
                f"{what}: transient, attempt {attempt + 1} due at {due:%H:%M:%S} UTC (in ~{minutes} min)"
            )
            continue
        waiting.pop(run.run_id, None)
        settled[run.run_id] = ended.isoformat()
        requests.append(retry_request(run, attempt))
        notes.append(f"{what}: retrying as attempt {attempt + 1}/{MAX_RUN_ATTEMPTS}")

    horizon = now - RETRY_WINDOW
    new_cursor = dump_cursor(
        {
            "settled": {k: v for k, v in settled.items() if datetime.fromisoformat(v) >= horizon},
            "waiting": {k: v for k, v in waiting.items() if datetime.fromisoformat(v[0]) >= horizon},
        }
    )
    return tick_result(context, requests, "; ".join(notes) or "no failed Scout run to retry", new_cursor)


@dg.sensor(
    name=SENSOR_NAME,
    jobs=SCOUT_JOBS,
    minimum_interval_seconds=RUN_RETRY_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Re-launches the partition of a Scout run that failed on infrastructure (warehouse lock or "
        "unreachable, interruption, lost process), at most 3 attempts in all, waiting 2**attempt "
        "minutes after each failure. Platform and model errors are retried by their clients only."
    ),
)
def run_retry_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    return run_retry_tick(context, utc_now())
