"""``label_queue_sensor``: launch a (day, model) labeling run when its queue is worth a call.

Every tick (one a minute) draws the cycle's models like the predecessor's orchestrator (each
model runs iff u < its probability; the seed is the tick's timestamp and goes into the run's
tags, so any labeling run can be traced to its draw), then looks at today's and the recent
days' queue of each drawn model. A partition is launched when one audience has a full batch
pending (the model's ``batch_size``) or when its oldest pending unit has waited longer than
``SCOUT_LABEL_MAX_WAIT_MINUTES``: full batches are cheap per profile, and nobody waits
forever for the last few.

Restarts neither repeat nor skip work. The cursor remembers, per partition, the fingerprint
of the queue state it last launched for (``queue_state.py``); the run key is derived from the
same fingerprint, so even a lost cursor cannot make the daemon launch one queue state twice,
while any change of the queue (new units, labels, failures, re-queues) is a new state that can
launch again. A partition with a run still queued or running is left alone until it ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import dagster as dg

from resources.models.roster import ModelRoster
from resources.warehouse import Warehouse, WarehouseError
from scout_assets.jobs import label_job
from scout_assets.labeling.draw import CycleDraw, draw_labeling_models
from scout_assets.labeling.settings import LabelingSettingsError, load_labeling_settings
from sensors.cursors import dump_cursor, load_cursor, naive_utc, recent_days, tick_result, utc_now
from sensors.queue_state import PartitionQueue, queue_states
from sensors.run_queries import UNFINISHED, run_of_partition
from sensors.settings import LABEL_QUEUE_INTERVAL_S, label_lookback_days, label_max_wait
from sensors.targets import LABEL_JOB, REASON_TAG, TRIGGER_TAG

SENSOR_NAME = "label_queue_sensor"
QUEUE_STATE_TAG = "scout/queue_state"
PENDING_TAG = "scout/pending"


@dataclass(frozen=True)
class Verdict:
    """What the sensor decided for one partition, and why, in words for the tick log."""

    queue: PartitionQueue
    trigger: str | None  # "batch" | "max_wait" when the partition is launched
    note: str


def describe(queue: PartitionQueue, batch_size: int, now: datetime) -> str:
    """E.g. ``12 pending for local-minilm on 2026-11-23, batch 32, oldest 5 min``."""
    text = f"{queue.pending} pending for {queue.model} on {queue.day.isoformat()}, batch {batch_size}"
    if queue.oldest_queued_at is not None:
        text += f", oldest {_minutes(now - queue.oldest_queued_at)} min"
    if len(queue.audiences) > 1:
        text += " (" + ", ".join(f"{a.audience}: {a.pending}" for a in queue.audiences) + ")"
    return text


def judge(
    queue: PartitionQueue,
    batch_size: int,
    max_wait: timedelta,
    now: datetime,
    launched_fingerprint: str | None,
    unfinished_run: str | None,
) -> Verdict:
    """Whether one partition's queue should be labeled now (pure: no I/O)."""
    now = naive_utc(now)
    seen = describe(queue, batch_size, now)
    if queue.pending == 0:
        return Verdict(queue, None, f"nothing pending for {queue.model} on {queue.day.isoformat()}")
    if launched_fingerprint == queue.fingerprint:
        return Verdict(queue, None, f"{seen}: already launched for this queue state")
    if unfinished_run is not None:
        return Verdict(queue, None, f"{seen}: run {unfinished_run} has not finished yet")
    if queue.largest_audience_pending >= batch_size:
        return Verdict(queue, "batch", f"{seen}: a full batch is pending")
    oldest = queue.oldest_queued_at
    if oldest is not None and now - oldest >= max_wait:
        return Verdict(queue, "max_wait", f"{seen}: waited longer than {_minutes(max_wait)} min")
    return Verdict(queue, None, seen)


def label_queue_tick(
    context: dg.SensorEvaluationContext, warehouse: Warehouse, now: datetime, draw: CycleDraw
) -> dg.SensorResult:
    """One evaluation of the sensor at time ``now`` (aware UTC) for this cycle's ``draw``."""
    cursor = load_cursor(context.cursor, SENSOR_NAME, context.log) or {}
    launched: dict[str, str] = dict(cursor.get("launched", {}))
    try:
        settings = load_labeling_settings()
    except LabelingSettingsError as exc:
        return dg.SensorResult(skip_reason=f"labeling settings unusable, nothing launched: {exc}")
    days = recent_days(now.date(), label_lookback_days() + 1)
    max_wait = label_max_wait()

    try:
        verdicts = [
            _judge_with_runs(context.instance, queue, draw.batch_size(alias), max_wait, now, launched)
            for alias in draw.selected
            for queue in queue_states(warehouse, alias, settings.audiences, days)
        ]
    except WarehouseError as exc:
        if "does not exist" in str(exc):  # a new deployment: no run has created the tables yet
            return dg.SensorResult(
                skip_reason="the warehouse has no Scout tables yet; the first scout_main run creates them"
            )
        return dg.SensorResult(skip_reason=f"cannot read the labeling queue, nothing launched: {exc}")

    requests: list[dg.RunRequest] = []
    for verdict in verdicts:
        if verdict.trigger is None:
            continue
        queue = verdict.queue
        launched[queue.partition_key] = queue.fingerprint
        requests.append(
            dg.RunRequest(
                run_key=f"{queue.partition_key}@{queue.fingerprint}",
                partition_key=queue.partition_key,
                tags={
                    **draw.tags(queue.model),
                    TRIGGER_TAG: SENSOR_NAME,
                    REASON_TAG: verdict.trigger,
                    QUEUE_STATE_TAG: queue.fingerprint,
                    PENDING_TAG: str(queue.pending),
                },
            )
        )
    watched = {d.isoformat() for d in days}
    kept = {key: fp for key, fp in launched.items() if key.split("|", 1)[0] in watched}
    notes = [v.note for v in verdicts] or ["no model drawn this tick"]
    summary = "; ".join(notes) + f" [draw seed {draw.seed}: {draw.describe()}]"
    return tick_result(context, requests, summary, dump_cursor({"launched": kept}))


def _judge_with_runs(
    instance: dg.DagsterInstance,
    queue: PartitionQueue,
    batch_size: int,
    max_wait: timedelta,
    now: datetime,
    launched: dict[str, str],
) -> Verdict:
    """``judge`` one partition, asking the instance about unfinished runs only when it matters."""
    recorded = launched.get(queue.partition_key)
    unfinished = None
    if queue.pending and recorded != queue.fingerprint:
        unfinished = run_of_partition(instance, LABEL_JOB, queue.partition_key, UNFINISHED)
    return judge(queue, batch_size, max_wait, now, recorded, unfinished)


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


@dg.sensor(
    name=SENSOR_NAME,
    job=label_job,
    minimum_interval_seconds=LABEL_QUEUE_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Draws this cycle's models (seed = tick time, in the run tags) and launches a (day, model) "
        "labeling run when a full batch is pending or the oldest unit waited SCOUT_LABEL_MAX_WAIT_MINUTES."
    ),
)
def label_queue_sensor(
    context: dg.SensorEvaluationContext, warehouse: Warehouse, model_roster: ModelRoster
) -> dg.SensorResult:
    now = utc_now()
    return label_queue_tick(context, warehouse, now, draw_labeling_models(model_roster, int(now.timestamp())))
