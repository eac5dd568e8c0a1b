"""Circuit breaker decisions, pure: a breaker's state, its policy and the time in; what now out.

Why a breaker at all: the HTTP client and the labelers already retry one call within a budget,
but a platform or provider that is down for an hour would still be asked every 15 minutes, by
every keyword of every run, each call spending its full retry budget. A breaker remembers,
across runs and processes, that the other side is down, and lets one probe through per
cool-down instead.

- **closed**: calls go through. It opens after ``consecutive_failures`` failed calls in a row,
  or when, with at least ``window_min_calls`` outcomes in the last ``window_calls``, the share
  of failures reaches ``window_error_rate``.
- **open**: calls are refused (runs skip) until ``cooldown_s`` after it opened.
- **half_open**: the first caller after the cool-down takes the one probe. Its success closes
  the breaker (counters start again), its failure opens it for another cool-down. Other callers
  are refused meanwhile; a probe that never reports (its process died) is given up after
  ``probe_timeout_s`` and the next caller probes instead.

One "call" is one unit the caller decides on: a search page for a platform (whatever number of
HTTP attempts the client spent on it), a batch for a model provider. The functions here only
compute; ``scout_assets/breakers.py`` stores the state in the warehouse, one transaction per
decision, so that two processes never both take the probe.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
FAILED, SUCCEEDED = "1", "0"

Verdict = Literal["pass", "probe", "skip"]
# What a change of state is called (the first word of ``last_change``; ``breaker_events.event``).
EVENTS = ("opened", "probe", "closed", "reopened")


@dataclass(frozen=True)
class BreakerPolicy:
    """When a breaker opens and how long it stays open (defaults: ``config/breakers.yaml``)."""

    consecutive_failures: int = 5
    window_calls: int = 20
    window_error_rate: float = 0.5
    window_min_calls: int = 10
    cooldown_s: float = 300.0
    probe_timeout_s: float = 900.0


@dataclass(frozen=True)
class BreakerState:
    """One breaker as stored (one row of ``circuit_breakers``); a new breaker is closed and empty."""

    kind: str
    name: str
    state: str = CLOSED
    consecutive_failures: int = 0
    window_outcomes: str = ""
    opened_at: datetime | None = None
    probe_after: datetime | None = None
    probe_started_at: datetime | None = None
    probe_owner: str | None = None
    times_opened: int = 0
    last_error: str | None = None
    last_change: str | None = None
    changed_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def error_rate(self) -> float | None:
        """Share of failures among the calls in the window; None before the first call."""
        if not self.window_outcomes:
            return None
        return self.window_outcomes.count(FAILED) / len(self.window_outcomes)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Admission:
    """The answer to "may I call?": ``pass`` (closed, or this owner's probe is out), ``probe``
    (this owner just took the half-open probe) or ``skip`` (refused), and why."""

    verdict: Verdict
    reason: str
    state: BreakerState

    @property
    def allowed(self) -> bool:
        return self.verdict != "skip"


def admit(state: BreakerState, policy: BreakerPolicy, now: datetime, owner: str) -> Admission:
    """Whether ``owner`` may make one call now; taking the probe changes the state."""
    if state.state == CLOSED:
        return Admission("pass", "closed", state)
    if state.state == OPEN:
        due = state.probe_after or now
        if now < due:
            return Admission("skip", f"open since {_at(state.opened_at)}; next probe after {_at(due)}", state)
        return _probe(state, now, owner, "cool-down over")
    # half open: one probe is out
    if state.probe_owner == owner:
        return Admission("pass", "this run holds the probe", state)
    started = state.probe_started_at or now
    if now - started >= timedelta(seconds=policy.probe_timeout_s):
        return _probe(state, now, owner, f"the probe taken at {_at(started)} never reported")
    return Admission("skip", f"half open: a probe is out since {_at(started)}", state)


def record(
    state: BreakerState, policy: BreakerPolicy, now: datetime, *, ok: bool, error: str | None = None
) -> BreakerState:
    """The state after one call's outcome.

    Whenever the state changes, ``changed_at`` is ``now`` and ``last_change`` reads
    ``"<event>: <why>"``, the event being one of ``EVENTS``.
    """
    outcome = SUCCEEDED if ok else FAILED
    window = (state.window_outcomes + outcome)[-policy.window_calls :]
    failures = 0 if ok else state.consecutive_failures + 1
    after = replace(
        state,
        consecutive_failures=failures,
        window_outcomes=window,
        last_error=state.last_error if ok else error,
        updated_at=now,
    )
    if state.state == HALF_OPEN:
        if ok:
            return _change(after, CLOSED, now, "closed: the probe succeeded", reset=True)
        return _open(after, policy, now, "reopened: the probe failed")
    if state.state == CLOSED and not ok:
        why = opening_reason(after, policy)
        if why is not None:
            return _open(after, policy, now, f"opened: {why}")
    return after  # open: a late outcome of a call let through before it opened only updates the counts


def opening_reason(state: BreakerState, policy: BreakerPolicy) -> str | None:
    """Why a closed breaker with these counts must open, or None."""
    if state.consecutive_failures >= policy.consecutive_failures:
        return f"{state.consecutive_failures} failed calls in a row"
    calls = len(state.window_outcomes)
    rate = state.error_rate
    if calls >= policy.window_min_calls and rate is not None and rate >= policy.window_error_rate:
        return f"{rate:.0%} of the last {calls} calls failed"
    return None


def _probe(state: BreakerState, now: datetime, owner: str, why: str) -> Admission:
    taken = _change(state, HALF_OPEN, now, f"probe: {why}", probe_started_at=now, probe_owner=owner)
    return Admission("probe", why, taken)


def _open(state: BreakerState, policy: BreakerPolicy, now: datetime, why: str) -> BreakerState:
    return _change(
        state,
        OPEN,
        now,
        why,
        opened_at=now,
        probe_after=now + timedelta(seconds=policy.cooldown_s),
        times_opened=state.times_opened + 1,
    )


def _change(
    state: BreakerState, to: str, now: datetime, why: str, *, reset: bool = False, **fields
) -> BreakerState:
    base = {
        "state": to,
        "last_change": why,
        "changed_at": now,
        "updated_at": now,
        "probe_started_at": None,
        "probe_owner": None,
    }
    if reset:
        base |= {"consecutive_failures": 0, "window_outcomes": "", "opened_at": None, "probe_after": None}
    return replace(state, **(base | fields))


def _at(moment: datetime | None) -> str:
    return "?" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S} UTC"
