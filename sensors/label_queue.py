"""``label_queue_sensor``: launch a (day, model) labeling run when its queue is worth a call.

**One draw per cycle.** Time is cut into 15-minute cycles (``LABEL_CYCLE_S``); every tick (one a
minute) of one cycle sees the same draw, seeded with the cycle's start, like the predecessor's
orchestrator (each model runs iff u < its probability; the seed, the cycle and each u go into
the run's tags, so any labeling run can be traced to its draw). A drawn model that costs money
gets at most ONE run per cycle, and that run labels at most one batch (its ``batch_size``,
``LabelConfig.max_batches = 1``): its labels per cycle are bounded by its batch and average
``probability * batch_size``. The run key is ``cycle:<cycle>|<model>`` and the tick also asks
the instance for runs tagged with the cycle, so neither a lost cursor nor a restart can launch
a second run of a model in one cycle. The local labeler is free: drawn like the others
(probability 1.0) but not held to one run or one batch per cycle (docs/labeling.md "The cycle
draw").

For each drawn model that may still run this cycle, the sensor looks at its queue on **every**
day that has units pending for it (one aggregate query per model and audience: older days are
never stranded). Which units a model has pending follows the cascade
(``scout_assets/labeling/queue.py``): an LLM only sees the profiles the local labeler deferred.

A partition can be launched when one audience has a full batch pending (the model's
``batch_size``) or when its oldest pending unit has waited longer than
``SCOUT_LABEL_MAX_WAIT_MINUTES``: full batches are cheap per profile, and nobody waits forever
for the last few. Best first: of the partitions that can be launched, the one whose pending
units include the highest HAS (then the newest day) goes, one per model per tick, and none
while a run of that model is still queued or running (the deployment runs one labeling run per
model at a time anyway, ``dagster/partition/model``): the next pick is made when that run has
ended, against the queue as it is then.

Restarts neither repeat nor skip work. The cursor remembers, per partition, the fingerprint
of the queue state it last launched for (``queue_state.py``), and the runs of the current
cycle. The local labeler's run key is derived from the fingerprint, so even a lost cursor
cannot make the daemon launch one queue state twice, while any change of the queue (new units,
labels, failures, re-queues) is a new state that can launch again. A partition whose state was
already launched gives way to the next best one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import dagster as dg

from resources.models.roster import ModelRoster
from resources.warehouse import Warehouse, WarehouseError
from scout_assets.jobs import label_job
from scout_assets.labeling.cascade import route_of
from scout_assets.labeling.draw import CYCLE_TAG, Cycle, CycleDraw, draw_labeling_models
from scout_assets.labeling.settings import LabelingSettings, LabelingSettingsError, load_labeling_settings
from sensors.cursors import dump_cursor, load_cursor, naive_utc, tick_result, utc_now
from sensors.queue_state import PartitionQueue, queue_states
from sensors.run_queries import UNFINISHED
from sensors.settings import LABEL_CYCLE_S, LABEL_QUEUE_INTERVAL_S, label_max_wait
from sensors.targets import LABEL_JOB, PARTITION_TAG, REASON_TAG, TRIGGER_TAG

SENSOR_NAME = "label_queue_sensor"
QUEUE_STATE_TAG = "scout/queue_state"
PENDING_TAG = "scout/pending"
# Partitions spelled out per model in the tick log (best first); the rest are counted.
NOTES_PER_MODEL = 5


@dataclass(frozen=True)
class Verdict:
    """What the sensor decided for one partition, and why, in words for the tick log."""

    queue: PartitionQueue
    trigger: str | None  # "batch" | "max_wait" when the partition is launched
    note: str


def describe(queue: PartitionQueue, batch_size: int, now: datetime) -> str:
    """E.g. ``12 pending for local-minilm on 2026-11-23, batch 32, best HAS 0.91, oldest 5 min``."""
    text = f"{queue.pending} pending for {queue.model} on {queue.day.isoformat()}, batch {batch_size}"
    text += f", best HAS {queue.best_has:.2f}"
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
        return Verdict(queue, None, f"{seen}: run {unfinished_run} of {queue.model} has not finished yet")
    if queue.largest_audience_pending >= batch_size:
        return Verdict(queue, "batch", f"{seen}: a full batch is pending")
    oldest = queue.oldest_queued_at
    if oldest is not None and now - oldest >= max_wait:
        return Verdict(queue, "max_wait", f"{seen}: waited longer than {_minutes(max_wait)} min")
    return Verdict(queue, None, seen)


def label_queue_tick(
    context: dg.SensorEvaluationContext,
    warehouse: Warehouse,
    now: datetime,
    draw: CycleDraw,
    settings: LabelingSettings | None = None,
) -> dg.SensorResult:
    """One evaluation of the sensor at time ``now`` (aware UTC) for this cycle's ``draw``."""
    cursor = load_cursor(context.cursor, SENSOR_NAME, context.log) or {}
    launched: dict[str, str] = dict(cursor.get("launched", {}))
    cycle = draw.cycle or Cycle.at(now, LABEL_CYCLE_S)
    # alias -> run key (cursor) or run id (instance) of the bounded models' run in this cycle
    cycle_runs: dict[str, str] = (
        dict(cursor.get("cycle_runs", {})) if cursor.get("cycle") == cycle.label else {}
    )
    if settings is None:
        try:
            settings = load_labeling_settings()
        except LabelingSettingsError as exc:
            return dg.SensorResult(skip_reason=f"labeling settings unusable, nothing launched: {exc}")
    max_wait = label_max_wait()
    order = settings.cascade.order

    if any(draw.bounded(alias) for alias in draw.selected):
        cycle_runs = {**_runs_of_cycle(context.instance, cycle), **cycle_runs}
    done = [alias for alias in draw.selected if draw.bounded(alias) and alias in cycle_runs]
    try:
        queues = {
            alias: queue_states(warehouse, route_of(alias, order, draw.available), settings.audiences)
            for alias in draw.selected
            if alias not in done
        }
    except WarehouseError as exc:
        if "does not exist" in str(exc):  # a new deployment: no run has created the tables yet
            return dg.SensorResult(
                skip_reason="the warehouse has no Scout tables yet; the first scout_main run creates them"
            )
        return dg.SensorResult(skip_reason=f"cannot read the labeling queue, nothing launched: {exc}")

    running = _unfinished_runs_by_model(context.instance) if any(queues.values()) else {}
    requests: list[dg.RunRequest] = []
    notes: list[str] = [
        f"{alias} already had its run of cycle {cycle.label} ({cycle_runs[alias]}); "
        f"its next draw is at {cycle.end:%H:%M} UTC"
        for alias in done
    ]
    for alias, model_queues in queues.items():
        verdicts = [
            judge(q, draw.batch_size(alias), max_wait, now, launched.get(q.partition_key), running.get(alias))
            for q in model_queues
        ]
        chosen = next((v for v in verdicts if v.trigger is not None), None)  # best first: one per model
        if chosen is not None:
            queue = chosen.queue
            launched[queue.partition_key] = queue.fingerprint
            if draw.bounded(alias):  # one run per cycle, whatever the queue state
                run_key = f"cycle:{cycle.label}|{alias}"
                cycle_runs[alias] = run_key
            else:
                run_key = f"{queue.partition_key}@{queue.fingerprint}"
            requests.append(
                dg.RunRequest(
                    run_key=run_key,
                    partition_key=queue.partition_key,
                    run_config=draw.run_config(alias),
                    tags={
                        **draw.tags(alias),
                        CYCLE_TAG: cycle.label,
                        TRIGGER_TAG: SENSOR_NAME,
                        REASON_TAG: chosen.trigger,
                        QUEUE_STATE_TAG: queue.fingerprint,
                        PENDING_TAG: str(queue.pending),
                    },
                )
            )
        notes += _model_notes(alias, verdicts, chosen)
    watched = {q.partition_key for model_queues in queues.values() for q in model_queues}
    # Keep what this tick did not look at (a model done for the cycle); drop what it saw emptied.
    kept = {key: fp for key, fp in launched.items() if key in watched or key.split("|")[-1] not in queues}
    if not draw.selected:
        notes = ["no model drawn this cycle"]
    summary = "; ".join(notes) + f" [cycle {cycle.label}, draw seed {draw.seed}: {draw.describe()}]"
    new_cursor = {"launched": kept, "cycle": cycle.label, "cycle_runs": cycle_runs}
    return tick_result(context, requests, summary, dump_cursor(new_cursor))


def _model_notes(alias: str, verdicts: list[Verdict], chosen: Verdict | None) -> list[str]:
    """What the tick log says about one model: its launch, then its best partitions, then a count."""
    if not verdicts:
        return [f"nothing pending for {alias} on any day"]
    shown = verdicts[:NOTES_PER_MODEL]
    if chosen is not None and chosen not in shown:
        shown = [chosen, *shown[: NOTES_PER_MODEL - 1]]
    notes = [
        v.note if v is chosen or v.trigger is None else f"{v.note}; waits for the better partition of {alias}"
        for v in shown
    ]
    if len(verdicts) > len(shown):
        notes.append(f"and {len(verdicts) - len(shown)} more day(s) pending for {alias}")
    return notes


def _unfinished_runs_by_model(instance: dg.DagsterInstance) -> dict[str, str]:
    """model alias -> the id of one labeling run of that model still queued or running."""
    runs = instance.get_runs(filters=dg.RunsFilter(job_name=LABEL_JOB, statuses=UNFINISHED))
    found: dict[str, str] = {}
    for run in runs:
        key = run.tags.get(PARTITION_TAG, "")
        if "|" in key:
            found.setdefault(key.split("|", 1)[1], run.run_id)
    return found


def _runs_of_cycle(instance: dg.DagsterInstance, cycle: Cycle) -> dict[str, str]:
    """model alias -> the id of a labeling run of ``cycle`` (any status, retries included).

    Asked of the instance on every tick that has a bounded model drawn, so the one-run-per-cycle
    rule holds even when the cursor is lost; the cursor covers the moment between a tick's
    request and the daemon creating the run.
    """
    runs = instance.get_runs(filters=dg.RunsFilter(job_name=LABEL_JOB, tags={CYCLE_TAG: cycle.label}))
    found: dict[str, str] = {}
    for run in runs:
        key = run.tags.get(PARTITION_TAG, "")
        if "|" in key:
            found.setdefault(key.split("|", 1)[1], f"run {run.run_id}")
    return found


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


@dg.sensor(
    name=SENSOR_NAME,
    job=label_job,
    minimum_interval_seconds=LABEL_QUEUE_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Draws the models once per 15-minute cycle (seed = the cycle's start, in the run tags); a "
        "drawn paid model gets at most one run of one batch per cycle, the free local labeler is not "
        "bound. Per model, launches the best (day, model) partition of any day (highest pending HAS, "
        "then newest) when a full batch is pending or the oldest unit waited "
        "SCOUT_LABEL_MAX_WAIT_MINUTES."
    ),
)
def label_queue_sensor(
    context: dg.SensorEvaluationContext, warehouse: Warehouse, model_roster: ModelRoster
) -> dg.SensorResult:
    now = utc_now()
    try:
        settings = load_labeling_settings()
    except LabelingSettingsError as exc:
        return dg.SensorResult(skip_reason=f"labeling settings unusable, nothing launched: {exc}")
    draw = draw_labeling_models(model_roster, Cycle.at(now, LABEL_CYCLE_S), settings.cascade.order)
    return label_queue_tick(context, warehouse, now, draw, settings)
