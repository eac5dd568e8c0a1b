"""Alerts end to end: real sensor ticks post to a loopback webhook, which keeps every body it gets.

Each kind of alert is raised the way production raises it: a run that really failed (a stand-in
job, tests/sensors_fixtures.py says why), a breaker opened by ``BreakerStore`` in a real DuckDB
warehouse, spend written to the real ledger and read by ``spend_status`` against lowered budgets,
and a freshness failure judged by Dagster's own freshness daemon (run for one iteration, at a
clock moved two hours on with Dagster's ``freeze_time``). Every test plants a fake model key and
a webhook URL holding a token, puts them into the texts that reach the alert where it can, and
checks that no delivered body contains either.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from resources.notifier import WEBHOOK_ENV, Alert, Notifier, NotifierError
from scout_assets.breakers import BreakerStore
from scout_assets.domain.breaker import BreakerPolicy
from scout_assets.spend.budgets import BudgetsResource
from scout_contract.tables import API_CALLS, polars_schema
from sensors.alerts import (
    ALERTS_OFF,
    alert_breaker_sensor,
    alert_budget_sensor,
    alert_freshness_sensor,
    alert_run_failure_sensor,
    breaker_tick,
    budget_tick,
    freshness_tick,
    freshness_watched,
)
from tests.sensors_fixtures import stand_in_run

API_KEY = "sk-ant-FAKE-alerts-0123456789abcdef"
TOKEN = "T0KEN-webhook-9f8e7d6c5b4a"
POLICY = BreakerPolicy(
    consecutive_failures=3, window_calls=10, window_error_rate=0.5, window_min_calls=6, cooldown_s=300
)


class Webhook:
    """A loopback HTTP server standing in for the chat tool: answers ``status`` and keeps each body."""

    def __init__(self) -> None:
        self.bodies: list[str] = []
        self.paths: list[str] = []
        self.status = 200
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                hook.bodies.append(self.rfile.read(length).decode("utf-8"))
                hook.paths.append(self.path)
                self.send_response(hook.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:  # keep the test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hooks/{TOKEN}?token={TOKEN}-q"

    @property
    def alerts(self) -> list[dict]:
        return [json.loads(body) for body in self.bodies]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def webhook(monkeypatch) -> Iterator[Webhook]:
    """The webhook, with its URL and a fake model key in the environment (what ``secret_values`` reads)."""
    hook = Webhook()
    hook.start()
    monkeypatch.setenv(WEBHOOK_ENV, hook.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    yield hook
    hook.stop()
    for body in hook.bodies:  # whatever a test did, no secret ever left
        assert API_KEY not in body and TOKEN not in body and hook.url not in body, body


@pytest.fixture
def notifier(webhook) -> Notifier:
    """Bound as the code location binds it: the URL through ``EnvVar``, resolved like Dagster does."""
    return Notifier(webhook_url=dg.EnvVar(WEBHOOK_ENV)).process_config_and_initialize()


def context(instance=None, cursor: str | None = None, **resources) -> dg.SensorEvaluationContext:
    return dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources or None)


# --- the notifier ----------------------------------------------------------------------------


def test_the_binding_binds_the_webhook_as_a_secret_and_off_without_it(monkeypatch):
    from scout_assets.resources_binding import build_resources, secret_values

    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    assert build_resources()["notifier"].enabled is False
    monkeypatch.setenv(WEBHOOK_ENV, f"https://hooks.example.test/services/{TOKEN}")
    bound = build_resources()["notifier"]
    assert isinstance(bound.webhook_url, dg.EnvVar)  # never a value in config or the UI
    assert secret_values()[WEBHOOK_ENV].endswith(TOKEN)  # scrubbed from run-failure texts too


def test_a_bad_webhook_url_names_the_variable_not_the_value(monkeypatch):
    from scout_assets.resources_binding import current_settings
    from scout_contract.settings import SettingsError

    monkeypatch.setenv(WEBHOOK_ENV, f"hooks.example.test/{TOKEN}")
    with pytest.raises(SettingsError, match=f"{WEBHOOK_ENV}=<secret> is not an http\\(s\\) URL") as caught:
        current_settings()
    assert TOKEN not in str(caught.value)


def test_every_text_is_scrubbed_and_errors_never_quote_the_url(webhook, notifier):
    alert = Alert(
        kind="run_failure",
        title=f"failed with {API_KEY}",
        text=f"posting to {webhook.url} (quoted: {webhook.url.replace('?', '%3F')}) with key {API_KEY}",
        key="k",
        fields={"error": f"Authorization: Bearer {API_KEY}", "token": TOKEN},
    )
    notifier.send(alert, {"ANTHROPIC_API_KEY": API_KEY})
    [body] = webhook.alerts
    assert body["title"] == "failed with <ANTHROPIC_API_KEY>"
    assert body["fields"] == {
        "error": "Authorization: Bearer <ANTHROPIC_API_KEY>",
        "token": "<SCOUT_ALERT_WEBHOOK_URL>",
    }
    assert body["text"].startswith(
        "[Scout] failed with <ANTHROPIC_API_KEY>\nposting to <SCOUT_ALERT_WEBHOOK_URL>"
    )

    webhook.status = 500
    with pytest.raises(NotifierError, match=f"alert webhook \\({WEBHOOK_ENV}\\) answered HTTP 500"):
        notifier.send(alert, {"ANTHROPIC_API_KEY": API_KEY})
    unreachable = Notifier(webhook_url=f"http://127.0.0.1:9/hooks/{TOKEN}", timeout_s=2)
    with pytest.raises(NotifierError, match="could not be reached") as caught:
        unreachable.send(alert, {})  # nothing listens on port 9
    assert TOKEN not in str(caught.value) and "127.0.0.1:9" not in str(caught.value)


def test_without_the_webhook_every_sensor_says_alerts_are_off(duckdb_warehouse):
    off = Notifier()
    instance = dg.DagsterInstance.ephemeral()
    assert (
        breaker_tick(context(), duckdb_warehouse, off, datetime.now(UTC)).skip_reason.skip_message
        == ALERTS_OFF
    )
    budgets = BudgetsResource()
    assert budget_tick(
        context(), duckdb_warehouse, budgets, off, datetime.now(UTC)
    ).skip_reason.skip_message == (ALERTS_OFF)
    assert freshness_tick(context(instance), off, {}).skip_reason.skip_message == ALERTS_OFF
    stand_in_run(instance, "scout_main", "2026-03-10|twitter", None)  # something for the run sensor
    with context(instance, notifier=off) as sensor:
        first = alert_run_failure_sensor.evaluate_tick(sensor)  # sets Dagster's cursor
    stand_in_run(instance, "scout_main", "2026-03-10|twitter", _fails)
    with context(instance, first.cursor, notifier=off) as sensor:
        tick = alert_run_failure_sensor.evaluate_tick(sensor)
    assert tick.skip_message == ALERTS_OFF


# --- failed runs -------------------------------------------------------------------------------


def _fails() -> None:
    raise KeyError(f"handle (the provider echoed key {API_KEY})")


def test_a_failed_run_alerts_once_with_what_happens_next(webhook, notifier):
    instance = dg.DagsterInstance.ephemeral()
    with context(instance, notifier=notifier) as sensor:
        start = alert_run_failure_sensor.evaluate_tick(sensor)
    assert "Initiating" in start.skip_message and webhook.bodies == []  # Dagster's cursor starts here
    failed = stand_in_run(instance, "scout_label", "2026-03-10|claude-haiku-4.5", _fails)
    assert not failed.success
    with context(instance, start.cursor, notifier=notifier) as sensor:
        first = alert_run_failure_sensor.evaluate_tick(sensor)
    [alert] = webhook.alerts
    assert alert["kind"] == "run_failure" and alert["severity"] == "error"
    assert alert["title"] == "run failed: scout_label 2026-03-10|claude-haiku-4.5"
    assert alert["fields"]["run_id"] == failed.run_id and alert["fields"]["kind"] == "poison"
    assert "<ANTHROPIC_API_KEY>" in alert["message"] and "a person must read the error" in alert["message"]
    with context(instance, first.cursor, notifier=notifier) as sensor:
        second = alert_run_failure_sensor.evaluate_tick(sensor)
    assert len(webhook.bodies) == 1 and second.cursor == first.cursor  # no duplicate


# --- opened breakers ---------------------------------------------------------------------------


def open_breaker(warehouse, name: str = "anthropic") -> None:
    store = BreakerStore(warehouse)
    for _ in range(POLICY.consecutive_failures):
        store.record(
            "provider", name, POLICY, "run-1", ok=False, error=f"HTTP 401: invalid x-api-key {API_KEY}"
        )


def test_an_opened_breaker_alerts_once_and_a_down_webhook_gets_it_next_tick(
    duckdb_warehouse, webhook, notifier
):
    open_breaker(duckdb_warehouse)
    webhook.status = 503  # the chat tool is down for a tick
    down = breaker_tick(context(), duckdb_warehouse, notifier, datetime.now(UTC))
    assert "answered HTTP 503" in down.skip_reason.skip_message and len(webhook.bodies) == 1
    webhook.status = 200
    with context(cursor=down.cursor, warehouse=duckdb_warehouse, notifier=notifier) as sensor:
        first = alert_breaker_sensor(sensor)  # the registered sensor, resources as bound
    assert len(webhook.bodies) == 2
    alert = webhook.alerts[-1]
    assert (
        alert["kind"] == "breaker_opened" and alert["title"] == "circuit breaker opened: provider anthropic"
    )
    assert "opened: 3 failed calls in a row" in alert["message"] and "<ANTHROPIC_API_KEY>" in alert["message"]
    again = breaker_tick(context(cursor=first.cursor), duckdb_warehouse, notifier, datetime.now(UTC))
    assert len(webhook.bodies) == 2 and "no circuit breaker opened" in again.skip_reason.skip_message
    # A failed probe reopens it: not a new opening, no new alert; another breaker opening is one.
    open_breaker(duckdb_warehouse, "gemini")
    breaker_tick(context(cursor=again.cursor), duckdb_warehouse, notifier, datetime.now(UTC))
    assert [a["title"] for a in webhook.alerts[2:]] == ["circuit breaker opened: provider gemini"]


# --- budgets -----------------------------------------------------------------------------------


def spend_calls(warehouse, count: int, platform: str = "twitter") -> None:
    """``count`` priced platform calls now, as ``raw_searches`` records them in the ledger."""
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        {
            "call_id": str(uuid.uuid4()),
            "request_id": str(uuid.uuid4()),
            "platform": platform,
            "endpoint": "/search",
            "keyword": "ux research",
            "attempt": 1,
            "status": 200,
            "latency_ms": 1.0,
            "result_count": 20,
            "called_at": now,
            "partition_date": now.date(),
            "cost_usd": 0.0002,
        }
        for _ in range(count)
    ]
    warehouse.append(API_CALLS.name, pl.DataFrame(rows, schema=polars_schema(API_CALLS.columns)))


def test_a_budget_alerts_once_at_80_and_once_at_100_percent(duckdb_warehouse, webhook, notifier):
    budgets = BudgetsResource(overrides={"SCOUT_BUDGET_TWITTER_CALLS_PER_DAY": "10"})
    spend_calls(duckdb_warehouse, 7)
    with context(warehouse=duckdb_warehouse, budgets=budgets, notifier=notifier) as sensor:
        below = alert_budget_sensor(sensor)  # the registered sensor, resources as bound
    assert (
        webhook.bodies == []
        and "twitter calls_per_day at 70% of its day cap" in below.skip_reason.skip_message
    )

    spend_calls(duckdb_warehouse, 1)
    at_80 = budget_tick(context(cursor=below.cursor), duckdb_warehouse, budgets, notifier, datetime.now(UTC))
    [warning] = webhook.alerts
    assert warning["kind"] == "budget" and warning["severity"] == "warning"
    assert warning["title"].startswith("budget at 80% of its cap: platform twitter calls_per_day (day ")
    assert warning["message"].startswith("8 calls used of a cap of 10 calls (80%)")
    still_80 = budget_tick(
        context(cursor=at_80.cursor), duckdb_warehouse, budgets, notifier, datetime.now(UTC)
    )
    assert len(webhook.bodies) == 1

    spend_calls(duckdb_warehouse, 2)
    at_100 = budget_tick(
        context(cursor=still_80.cursor), duckdb_warehouse, budgets, notifier, datetime.now(UTC)
    )
    assert len(webhook.bodies) == 2
    stop = webhook.alerts[1]
    assert stop["severity"] == "error" and stop["title"].startswith(
        "budget reached its cap: platform twitter"
    )
    budget_tick(context(cursor=at_100.cursor), duckdb_warehouse, budgets, notifier, datetime.now(UTC))
    assert len(webhook.bodies) == 2  # no duplicate


def test_a_budget_past_both_thresholds_in_one_tick_sends_the_100_percent_alert_only(
    duckdb_warehouse, webhook, notifier
):
    budgets = BudgetsResource(overrides={"SCOUT_BUDGET_TWITTER_CALLS_PER_DAY": "4"})
    spend_calls(duckdb_warehouse, 5)
    first = budget_tick(context(), duckdb_warehouse, budgets, notifier, datetime.now(UTC))
    budget_tick(context(cursor=first.cursor), duckdb_warehouse, budgets, notifier, datetime.now(UTC))
    assert [a["fields"]["threshold"] for a in webhook.alerts] == ["100%"]


# --- freshness ---------------------------------------------------------------------------------


@dg.asset(freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=1)))
def hourly_asset() -> int:
    """An asset due every hour; the freshness daemon judges it two hours after its materialization."""
    return 1


FRESHNESS_DEFS = dg.Definitions(assets=[hourly_asset])


def run_freshness_daemon(instance: dg.DagsterInstance, at: datetime) -> None:
    """One iteration of Dagster's freshness daemon over FRESHNESS_DEFS with the clock at ``at``."""
    from dagster._core.remote_origin import InProcessCodeLocationOrigin
    from dagster._core.test_utils import (
        InProcessTestWorkspaceLoadTarget,
        create_test_daemon_workspace_context,
        freeze_time,
    )
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster._daemon.freshness import FreshnessDaemon

    origin = LoadableTargetOrigin(
        module_name=__name__, attribute="FRESHNESS_DEFS", working_directory=str(Path(__file__).parents[1])
    )
    target = InProcessTestWorkspaceLoadTarget(
        InProcessCodeLocationOrigin(loadable_target_origin=origin, location_name="alerts_test")
    )
    with create_test_daemon_workspace_context(target, instance) as workspace, freeze_time(at):
        list(FreshnessDaemon().run_iteration(workspace))


def test_a_freshness_failure_alerts_once(webhook, notifier):
    key = hourly_asset.key
    with dg.instance_for_test() as instance:
        dg.materialize([hourly_asset], instance=instance)
        run_freshness_daemon(instance, datetime.now(UTC))
        with dg.build_sensor_context(
            instance=instance, definitions=FRESHNESS_DEFS, resources={"notifier": notifier}
        ) as sensor:
            fresh = alert_freshness_sensor(sensor)  # the registered sensor, on its code location's assets
        assert webhook.bodies == [] and "none of 1 assets" in fresh.skip_reason.skip_message

        run_freshness_daemon(instance, datetime.now(UTC) + timedelta(hours=2))
        watched = freshness_watched(FRESHNESS_DEFS.get_repository_def())
        assert watched == {key: "fail window 1:00:00"}
        first = freshness_tick(
            dg.build_sensor_context(instance=instance, cursor=fresh.cursor), notifier, watched
        )
        [alert] = webhook.alerts
        assert alert["kind"] == "freshness" and alert["title"] == "asset is stale: hourly_asset"
        assert "failed its freshness policy (fail window 1:00:00)" in alert["message"]
        second = freshness_tick(
            dg.build_sensor_context(instance=instance, cursor=first.cursor), notifier, watched
        )
        assert len(webhook.bodies) == 1 and "already alerted: hourly_asset" in second.skip_reason.skip_message


def test_every_scout_asset_is_watched_for_freshness():
    from scout_location.definitions import defs

    watched = freshness_watched(defs.get_repository_def())
    assert {"raw_searches", "llm_labels", "keyword_stats"} <= {k.to_user_string() for k in watched}
