"""Alerts: four sensors decide when, the ``notifier`` resource posts to the webhook (docs/operations.md).

Dagster's own machinery says when something is wrong; these sensors turn it into one message each:

- ``alert_run_failure_sensor`` (a run-failure sensor): every failed run of the code location, with
  how ``failure_kinds`` judged it and what happens next. Dagster's run-status cursor hands each
  failure to it once.
- ``alert_breaker_sensor``: every ``opened`` event of ``breaker_events`` (a circuit breaker went
  from closed to open; a failed probe's ``reopened`` does not alert again), with the last error.
- ``alert_budget_sensor``: every day or month budget of ``spend_status`` at 80 % and at 100 %,
  once per budget, period and threshold (a budget that jumps past both in one tick sends the
  100 % alert only).
- ``alert_freshness_sensor``: every asset whose freshness policy (``assets/common.py``) Dagster's
  freshness daemon has judged ``FAIL``, once per failure (an asset that recovers and fails again
  alerts again).

Each cursor-keeping sensor remembers what it has delivered, so a second tick sends nothing twice,
and an alert the webhook did not take stays due: the next tick sends it again (the sensors are the
one layer that retries; the notifier makes one attempt per send). Without
``SCOUT_ALERT_WEBHOOK_URL`` the notifier is off: every sensor skips and says so, and keeps its
cursor as it was. Every text goes through the notifier's scrubber with the binding's
``secret_values()`` (model keys, the platform key, the warehouse URL, the webhook URL).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import dagster as dg

from resources.notifier import WEBHOOK_ENV, Alert, Notifier, NotifierError
from resources.warehouse import Warehouse, WarehouseError
from scout_assets.resources_binding import secret_values
from scout_assets.spend.budgets import BudgetsResource
from scout_assets.spend.usage import BudgetUse, spend_status
from sensors.cursors import dump_cursor, load_cursor, naive_utc, utc_now
from sensors.failure_kinds import FailureKind, classify_run
from sensors.run_failures import run_attempt
from sensors.settings import ALERT_INTERVAL_S, MAX_RUN_ATTEMPTS
from sensors.targets import PARTITION_TAG

RUN_FAILURE_SENSOR = "alert_run_failure_sensor"
BREAKER_SENSOR = "alert_breaker_sensor"
BUDGET_SENSOR = "alert_budget_sensor"
FRESHNESS_SENSOR = "alert_freshness_sensor"
ALERTS_OFF = f"alerts are off: {WEBHOOK_ENV} is not set"

# Breaker events are written by runs in their own transactions; an event stamped just before a
# tick may commit just after it. Each tick therefore looks this far back and skips the events
# it already delivered (remembered by id for as long).
BREAKER_LOOKBACK = timedelta(minutes=30)
BUDGET_THRESHOLDS = (0.8, 1.0)
# Dagster's FreshnessState is a str enum outside its public API; its failing value is this text.
FRESHNESS_FAIL = "FAIL"


def deliver(
    notifier: Notifier, due: Iterable[tuple[str, Alert]], log: Any | None = None
) -> tuple[list[str], str | None]:
    """Send ``due`` (key, alert) in order; the keys delivered, and the error that stopped it.

    The first failure stops the tick: the webhook is likely down, and what is left stays due for
    the next tick rather than costing one timeout per alert now.
    """
    secrets = secret_values()
    sent: list[str] = []
    for key, alert in due:
        try:
            notifier.send(alert, secrets)
        except NotifierError as exc:
            return sent, f"{exc}; {alert.title!r} and any later alert stay due for the next tick"
        sent.append(key)
        if log is not None:
            log.info(f"alert sent: {alert.title}")
    return sent, None


def _result(sent: list[str], error: str | None, nothing: str, cursor: dict[str, Any]) -> dg.SensorResult:
    """The tick's answer: a skip reason that says what was sent, what failed, or what it saw."""
    if error is not None:
        message = f"sent {len(sent)} alert(s), then: {error}"
    elif sent:
        message = f"sent {len(sent)} alert(s): {', '.join(sent)}"
    else:
        message = nothing
    return dg.SensorResult(skip_reason=message, cursor=dump_cursor(cursor))


# --- failed runs -------------------------------------------------------------------------------


def run_failure_alert(instance: dg.DagsterInstance, run: dg.DagsterRun) -> Alert:
    """What a failed run's alert says: the job, partition, attempt, error and what happens next."""
    summary = classify_run(instance, run.run_id)
    attempt = run_attempt(run)
    partition = run.tags.get(PARTITION_TAG)
    if summary.kind is FailureKind.TRANSIENT and attempt < MAX_RUN_ATTEMPTS:
        next_step = f"transient: run_retry_sensor retries it (attempt {attempt + 1} of {MAX_RUN_ATTEMPTS})"
    elif summary.kind is FailureKind.TRANSIENT:
        next_step = f"transient, but attempt {attempt} was the last: nothing retries it"
    elif summary.kind is FailureKind.UNAVAILABLE:
        next_step = (
            "the platform or model stayed unavailable after its client's retries; the next run tries again"
        )
    else:
        next_step = "poison: retrying will not help, a person must read the error (run_failures table)"
    where = f"{run.job_name} {partition}" if partition else run.job_name
    return Alert(
        kind="run_failure",
        title=f"run failed: {where}",
        text=f"{summary.error_class}: {summary.message}\n{next_step}",
        key=f"run:{run.run_id}",
        fields={
            "job": run.job_name,
            "partition": partition or "",
            "run_id": run.run_id,
            "attempt": f"{attempt}/{MAX_RUN_ATTEMPTS}",
            "kind": summary.kind.value,
            "evidence": summary.evidence,
        },
    )


@dg.run_failure_sensor(
    name=RUN_FAILURE_SENSOR,
    monitored_jobs=None,  # every job of the code location, the automation's asset jobs included
    minimum_interval_seconds=ALERT_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        f"Posts one alert per failed run to {WEBHOOK_ENV} (what failed, how it was judged, what "
        "happens next); off while the variable is unset."
    ),
)
def alert_run_failure_sensor(context: dg.RunFailureSensorContext, notifier: Notifier) -> dg.SkipReason | None:
    if not notifier.enabled:
        return dg.SkipReason(ALERTS_OFF)
    alert = run_failure_alert(context.instance, context.dagster_run)
    try:
        notifier.send(alert, secret_values())
    except NotifierError as exc:
        # Dagster's run-status cursor moves past this run whatever happens: failing the tick
        # shows the (scrubbed) delivery error in the UI; the failure itself is in run_failures.
        raise NotifierError(
            f"alert for failed run {context.dagster_run.run_id} not delivered: {exc}"
        ) from None
    context.log.info(f"alert sent: {alert.title}")
    return None  # None: Dagster hands over the next failed run in the same tick


# --- opened circuit breakers -------------------------------------------------------------------

OPENED_SQL = """
select e.event_id, e.kind, e.name, e.reason, e.run_id, e.happened_at,
       b.last_error, b.probe_after, b.times_opened
from breaker_events e
left join circuit_breakers b on b.kind = e.kind and b.name = e.name
where e.event = 'opened' and e.happened_at >= $1
order by e.happened_at, e.event_id
"""


def breaker_alert(row: dict[str, Any]) -> Alert:
    probe = row["probe_after"]
    text = f"{row['reason']}. Runs skip the {row['kind']} {row['name']} until a probe call succeeds"
    text += f" (next probe after {probe:%Y-%m-%d %H:%M:%S} UTC)." if probe is not None else "."
    if row["last_error"]:
        text += f"\nlast error: {row['last_error']}"
    return Alert(
        kind="breaker_opened",
        title=f"circuit breaker opened: {row['kind']} {row['name']}",
        text=text,
        key=f"breaker:{row['event_id']}",
        fields={
            "breaker": f"{row['kind']}:{row['name']}",
            "opened_at": f"{row['happened_at']:%Y-%m-%d %H:%M:%S} UTC",
            "run_id": row["run_id"] or "",
            "times_opened": str(row["times_opened"] or ""),
        },
    )


def breaker_tick(
    context: dg.SensorEvaluationContext, warehouse: Warehouse, notifier: Notifier, now: datetime
) -> dg.SensorResult:
    """One evaluation at ``now`` (aware UTC): alert every ``opened`` event not delivered yet."""
    if not notifier.enabled:
        return dg.SensorResult(skip_reason=ALERTS_OFF)
    cursor = load_cursor(context.cursor, BREAKER_SENSOR, context.log) or {}
    horizon = naive_utc(now) - BREAKER_LOOKBACK
    # event id -> when it happened (ISO), for events still inside the look-back
    delivered: dict[str, str] = dict(cursor.get("sent", {}))
    since = min([horizon, *(datetime.fromisoformat(t) for t in delivered.values())])
    try:
        rows = warehouse.read(OPENED_SQL, [since]).to_dicts()
    except WarehouseError as exc:
        if "does not exist" in str(exc):
            return dg.SensorResult(skip_reason="the warehouse has no breaker tables yet; nothing to watch")
        return dg.SensorResult(skip_reason=f"cannot read breaker_events, nothing sent: {exc}")
    due = [(row["event_id"], breaker_alert(row), row) for row in rows if row["event_id"] not in delivered]
    sent, error = deliver(notifier, [(event_id, alert) for event_id, alert, _ in due], context.log)
    when = {event_id: row["happened_at"].isoformat() for event_id, _, row in due}
    delivered.update({event_id: when[event_id] for event_id in sent})
    kept = {event_id: at for event_id, at in delivered.items() if datetime.fromisoformat(at) >= horizon}
    titles = [f"breaker {row['kind']}:{row['name']} opened" for event_id, _, row in due if event_id in sent]
    return _result(
        titles, error, f"no circuit breaker opened since {since:%Y-%m-%d %H:%M} UTC", {"sent": kept}
    )


@dg.sensor(
    name=BREAKER_SENSOR,
    minimum_interval_seconds=ALERT_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Posts one alert per circuit breaker that opened (breaker_events) to {WEBHOOK_ENV}.",
)
def alert_breaker_sensor(
    context: dg.SensorEvaluationContext, warehouse: Warehouse, notifier: Notifier
) -> dg.SensorResult:
    return breaker_tick(context, warehouse, notifier, utc_now())


# --- budgets at 80 % and 100 % -----------------------------------------------------------------


def period_id(use: BudgetUse, now: datetime) -> str:
    """The period a budget's use belongs to: the UTC day (``2026-03-10``) or month (``2026-03``)."""
    today = naive_utc(now).date()
    return today.isoformat() if use.period == "day" else f"{today:%Y-%m}"


def _amount(value: float, unit: str) -> str:
    return f"USD {value:.4f}".rstrip("0").rstrip(".") if unit == "usd" else f"{value:,.0f} {unit}"


def budget_alert(use: BudgetUse, threshold: float, period: str) -> Alert:
    what = f"{use.scope} {use.name} {use.field or use.unit} ({use.period} {period})"
    reached = "reached" if threshold >= 1.0 else f"at {threshold:.0%} of"
    share = "all" if use.share == float("inf") else f"{use.share:.0%}"
    text = f"{_amount(use.used, use.unit)} used of a cap of {_amount(use.cap, use.unit)} ({share})."
    if threshold >= 1.0:
        text += " Runs stop before passing the cap and resume in the next period (budget_stops)."
    return Alert(
        kind="budget",
        title=f"budget {reached} its cap: {what}",
        text=text,
        key=f"budget:{use.scope}:{use.name}:{use.field or use.unit}:{period}:{threshold:.0%}",
        severity="error" if threshold >= 1.0 else "warning",
        fields={
            "budget": f"{use.scope}:{use.name}:{use.field or use.unit}",
            "period": f"{use.period} {period}",
            "used": f"{use.used:g}",
            "cap": f"{use.cap:g}",
            "threshold": f"{threshold:.0%}",
        },
    )


def budget_alerts(uses: list[BudgetUse], now: datetime) -> list[tuple[str, list[str], Alert]]:
    """Per budget at 80 % or more: its period, the keys of every threshold it has crossed, and the
    alert of the highest one (the one to send when none of those keys was sent yet)."""
    found = []
    for use in uses:
        crossed = [t for t in BUDGET_THRESHOLDS if use.share >= t]
        if crossed:
            period = period_id(use, now)
            alerts = [budget_alert(use, t, period) for t in crossed]
            found.append((period, [a.key for a in alerts], alerts[-1]))
    return found


def budget_tick(
    context: dg.SensorEvaluationContext,
    warehouse: Warehouse,
    budgets: BudgetsResource,
    notifier: Notifier,
    now: datetime,
) -> dg.SensorResult:
    """One evaluation at ``now`` (aware UTC) of every capped day and month budget."""
    if not notifier.enabled:
        return dg.SensorResult(skip_reason=ALERTS_OFF)
    cursor = load_cursor(context.cursor, BUDGET_SENSOR, context.log) or {}
    try:
        uses = spend_status(warehouse, now, budgets.load())
    except (WarehouseError, ValueError) as exc:  # ValueError: the budgets file or an override
        return dg.SensorResult(skip_reason=f"cannot read the spend against the budgets, nothing sent: {exc}")
    current = {period_id(use, now) for use in uses}
    # alert key -> its period: only the current periods are kept (a new day starts afresh)
    done: dict[str, str] = {k: p for k, p in dict(cursor.get("sent", {})).items() if p in current}
    due = [(period, keys, alert) for period, keys, alert in budget_alerts(uses, now) if alert.key not in done]
    sent, error = deliver(notifier, [(alert.key, alert) for _, _, alert in due], context.log)
    for period, keys, alert in due:
        if alert.key in sent:  # the lower threshold counts as announced by the higher one
            done.update(dict.fromkeys(keys, period))
    highest = max(uses, key=lambda use: use.share, default=None)
    seen = (
        f"no new budget crossing; highest: {highest.scope} {highest.name} "
        f"{highest.field or highest.unit} at {highest.share:.0%} of its {highest.period} cap"
        if highest is not None
        else "no capped day or month budget"
    )
    return _result(sent, error, seen, {"sent": done})


@dg.sensor(
    name=BUDGET_SENSOR,
    minimum_interval_seconds=ALERT_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        f"Posts an alert to {WEBHOOK_ENV} when a day or month budget reaches 80 % and 100 % of its cap "
        "(once per budget, period and threshold)."
    ),
)
def alert_budget_sensor(
    context: dg.SensorEvaluationContext, warehouse: Warehouse, budgets: BudgetsResource, notifier: Notifier
) -> dg.SensorResult:
    return budget_tick(context, warehouse, budgets, notifier, utc_now())


# --- freshness failures ------------------------------------------------------------------------


def freshness_watched(repository: dg.RepositoryDefinition) -> dict[dg.AssetKey, str]:
    """Every asset of the code location with a freshness policy -> the policy in words."""
    watched = {}
    for node in repository.asset_graph.asset_nodes:
        policy = node.freshness_policy
        if policy is not None:
            fail = getattr(policy, "fail_window", None)
            window = getattr(fail, "to_timedelta", lambda: None)() if fail is not None else None
            watched[node.key] = f"fail window {window}" if window is not None else type(policy).__name__
    return watched


def freshness_tick(
    context: dg.SensorEvaluationContext,
    notifier: Notifier,
    watched: dict[dg.AssetKey, str],
) -> dg.SensorResult:
    """Alert every watched asset Dagster's freshness daemon holds in ``FAIL``, once per failure."""
    if not notifier.enabled:
        return dg.SensorResult(skip_reason=ALERTS_OFF)
    if not context.instance.freshness_enabled:
        return dg.SensorResult(
            skip_reason="Dagster's freshness daemon is off (dagster.yaml freshness: enabled: false): "
            "no freshness state to watch"
        )
    cursor = load_cursor(context.cursor, FRESHNESS_SENSOR, context.log) or {}
    alerted: dict[str, str] = dict(cursor.get("alerted", {}))  # asset -> when its FAIL began (ISO)
    records = context.instance.get_freshness_state_records(list(watched))
    due: list[tuple[str, Alert]] = []
    failing: dict[str, str] = {}
    for key, record in records.items():
        name = key.to_user_string()
        if record.freshness_state != FRESHNESS_FAIL:
            continue
        since = record.updated_at.isoformat()
        failing[name] = since
        if alerted.get(name) != since:
            due.append(
                (
                    name,
                    Alert(
                        kind="freshness",
                        title=f"asset is stale: {name}",
                        text=(
                            f"{name} failed its freshness policy ({watched[key]}) at "
                            f"{record.updated_at:%Y-%m-%d %H:%M:%S} UTC: it has not been materialized "
                            "within the window. Look at its runs and at the schedules and sensors that feed it."
                        ),
                        key=f"freshness:{name}:{since}",
                        fields={"asset": name, "policy": watched[key], "failing_since": since},
                    ),
                )
            )
    sent, error = deliver(notifier, due, context.log)
    # Remember the failures delivered (and those already remembered that still fail); an asset
    # that passes again is forgotten, so its next failure alerts again.
    kept = {name: since for name, since in failing.items() if name in sent or alerted.get(name) == since}
    nothing = f"none of {len(watched)} assets with a freshness policy is failing it"
    if failing and not due:
        nothing = f"{len(failing)} asset(s) failing freshness, already alerted: {', '.join(sorted(failing))}"
    return _result(sent, error, nothing, {"alerted": kept})


@dg.sensor(
    name=FRESHNESS_SENSOR,
    minimum_interval_seconds=ALERT_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        f"Posts an alert to {WEBHOOK_ENV} when Dagster's freshness daemon judges an asset's freshness "
        "policy FAIL (once per failure)."
    ),
)
def alert_freshness_sensor(context: dg.SensorEvaluationContext, notifier: Notifier) -> dg.SensorResult:
    if context.repository_def is None:
        return dg.SensorResult(skip_reason="no code location to read freshness policies from")
    return freshness_tick(context, notifier, freshness_watched(context.repository_def))
