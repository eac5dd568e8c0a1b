"""Circuit breakers: the rules (pure), the shared state in a real warehouse, and the config file.

The end-to-end proof (a platform 100% down, materialized through ``raw_searches``) is in
``test_breakers_pipeline.py``.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from resources.warehouse import Warehouse
from scout_assets.breakers import BreakerSettingsError, BreakerStore, load_breakers_file
from scout_assets.domain import breaker as rules
from scout_assets.domain.breaker import BreakerPolicy, BreakerState

T0 = datetime(2026, 3, 1, 12, 0, 0)
POLICY = BreakerPolicy(
    consecutive_failures=3, window_calls=10, window_error_rate=0.5, window_min_calls=6, cooldown_s=60
)


def _after(state: BreakerState, *outcomes: bool, at: datetime = T0) -> BreakerState:
    for ok in outcomes:
        state = rules.record(state, POLICY, at, ok=ok, error=None if ok else "HTTP 503")
    return state


def test_consecutive_failures_open_it_and_a_success_resets_the_count():
    fresh = BreakerState("platform", "twitter")
    almost = _after(fresh, False, False, True, False, False)
    assert almost.state == rules.CLOSED and almost.consecutive_failures == 2
    opened = _after(almost, False)
    assert opened.state == rules.OPEN
    assert opened.last_change == "opened: 3 failed calls in a row"
    assert (opened.opened_at, opened.probe_after) == (T0, T0 + timedelta(seconds=60))
    assert opened.times_opened == 1 and opened.last_error == "HTTP 503"


def test_the_error_rate_opens_it_once_the_window_holds_enough_calls():
    # Never 3 failures in a row, but 3 of 6 calls failed: 50% reaches the threshold.
    state = _after(BreakerState("provider", "anthropic"), False, True, False, True, False)
    assert state.state == rules.CLOSED  # 60% of 5 calls: too few calls to judge
    state = _after(state, True)
    assert state.state == rules.CLOSED and state.error_rate == 0.5  # a success never opens it
    state = _after(state, False)
    assert state.state == rules.OPEN and state.last_change == "opened: 57% of the last 7 calls failed"


def test_the_window_keeps_only_the_last_calls():
    state = _after(BreakerState("platform", "bluesky"), *([True] * 25))
    assert state.window_outcomes == "0" * 10 and state.error_rate == 0.0


def test_open_skips_until_the_cooldown_then_one_probe_decides():
    opened = _after(BreakerState("platform", "twitter"), False, False, False)
    early = rules.admit(opened, POLICY, T0 + timedelta(seconds=59), owner="run-a")
    assert early.verdict == "skip" and "next probe after 2026-03-01 12:01:00 UTC" in early.reason

    later = T0 + timedelta(seconds=61)
    probe = rules.admit(opened, POLICY, later, owner="run-a")
    assert probe.verdict == "probe" and probe.state.state == rules.HALF_OPEN
    assert probe.state.probe_owner == "run-a"
    assert rules.admit(probe.state, POLICY, later, owner="run-a").verdict == "pass"  # the probe's own call
    assert rules.admit(probe.state, POLICY, later, owner="run-b").verdict == "skip"  # one probe only

    closed = rules.record(probe.state, POLICY, later, ok=True)
    assert closed.state == rules.CLOSED and closed.window_outcomes == "" and closed.opened_at is None
    reopened = rules.record(probe.state, POLICY, later, ok=False, error="HTTP 503")
    assert reopened.state == rules.OPEN and reopened.probe_after == later + timedelta(seconds=60)
    assert reopened.last_change == "reopened: the probe failed" and reopened.times_opened == 2


def test_a_probe_that_never_reports_is_taken_over_after_its_timeout():
    opened = _after(BreakerState("platform", "twitter"), False, False, False)
    taken = rules.admit(opened, POLICY, T0 + timedelta(seconds=61), owner="run-a").state
    policy_timeout = T0 + timedelta(seconds=61 + POLICY.probe_timeout_s)
    assert rules.admit(taken, POLICY, policy_timeout - timedelta(seconds=1), owner="run-b").verdict == "skip"
    takeover = rules.admit(taken, POLICY, policy_timeout, owner="run-b")
    assert takeover.verdict == "probe" and takeover.state.probe_owner == "run-b"


# --- the shared state -------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_state_is_shared_by_two_warehouse_instances_on_one_database(warehouse):
    clock = Clock()
    one = BreakerStore(warehouse, clock)
    two = BreakerStore(Warehouse(url=warehouse.url), clock)  # another process would build its own
    for _ in range(3):
        one.record("platform", "twitter", POLICY, "run-1", ok=False, error="HTTP 503")
    assert two.read("platform", "twitter").state == rules.OPEN
    assert two.admit("platform", "twitter", POLICY, "run-2").verdict == "skip"
    assert one.read("platform", "bluesky").state == rules.CLOSED  # breakers are per platform

    clock.now = T0 + timedelta(seconds=61)
    assert two.admit("platform", "twitter", POLICY, "run-2").verdict == "probe"
    assert one.admit("platform", "twitter", POLICY, "run-3").verdict == "skip"  # the probe is taken
    two.record("platform", "twitter", POLICY, "run-2", ok=True)
    assert one.admit("platform", "twitter", POLICY, "run-3").verdict == "pass"

    events = warehouse.read("select event, state, run_id from breaker_events order by happened_at, event")
    assert events.rows() == [
        ("opened", "open", "run-1"),
        ("closed", "closed", "run-2"),
        ("probe", "half_open", "run-2"),
    ]
    row = warehouse.read("select state, times_opened, error_rate, last_error from circuit_breakers")
    assert row.rows() == [("closed", 1, None, "HTTP 503")]


def test_only_one_of_many_concurrent_callers_takes_the_probe(warehouse):
    clock = Clock()
    setup = BreakerStore(warehouse, clock)
    for _ in range(3):
        setup.record("provider", "groq", POLICY, "run-0", ok=False, error="overloaded")
    clock.now = T0 + timedelta(seconds=61)
    verdicts: list[str] = []
    start = threading.Barrier(6)

    def caller(n: int) -> None:
        store = BreakerStore(Warehouse(url=warehouse.url), clock)
        start.wait()
        verdicts.append(store.admit("provider", "groq", POLICY, f"run-{n}").verdict)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(verdicts) == ["probe"] + ["skip"] * 5
    assert setup.read("provider", "groq").state == rules.HALF_OPEN


# --- the config file --------------------------------------------------------------------------


def test_the_shipped_file_gives_the_documented_defaults():
    policy = load_breakers_file().policy("platform", "twitter")
    assert policy == BreakerPolicy(5, 20, 0.5, 10, 300.0, 900.0)


def test_overrides_apply_to_their_breaker_only(tmp_path):
    path = tmp_path / "breakers.yaml"
    path.write_text(
        "defaults: {consecutive_failures: 5, window_calls: 20, window_error_rate: 0.5, window_min_calls: 10,"
        " cooldown_seconds: 300, probe_timeout_seconds: 900}\n"
        "overrides: {'provider:anthropic': {cooldown_seconds: 600}}\n"
    )
    settings = load_breakers_file(path)
    assert settings.policy("provider", "anthropic").cooldown_s == 600
    assert settings.policy("provider", "groq").cooldown_s == 300


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            "{'platform:mastodon': {cooldown_seconds: 1}}",
            "'platform:mastodon' is not a breaker; known: platform:bluesky",
        ),
        (
            "{'platform:twitter': {cooldown_seconds: -1}}",
            "field 'overrides.platform:twitter.cooldown_seconds' must be >= 0",
        ),
        (
            "{'platform:twitter': {window_min_calls: 30}}",
            "platform:twitter: window_min_calls (30) must be <= window_calls (20)",
        ),
        ("{'platform:twitter': {cooldown: 1}}", "'overrides.platform:twitter.cooldown' is not a known field"),
    ],
)
def test_a_bad_file_names_the_field(tmp_path, overrides, message):
    path = tmp_path / "breakers.yaml"
    path.write_text(
        "defaults: {consecutive_failures: 5, window_calls: 20, window_error_rate: 0.5, window_min_calls: 10,"
        f" cooldown_seconds: 300, probe_timeout_seconds: 900}}\noverrides: {overrides}\n"
    )
    with pytest.raises(BreakerSettingsError, match=r"breakers file .*breakers\.yaml") as error:
        load_breakers_file(path)
    assert message in str(error.value)
