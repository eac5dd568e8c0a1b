"""Client-side request pacing for one platform, shared by every client in the process.

Why a client-side limiter at all: the RapidAPI plan allows 10 requests a second and answers
bursts above it with 429s that each cost a retry (and a plan request). Spacing requests evenly
avoids those 429s rather than recovering from them. The predecessor left pacing to the
orchestrator; here several assets and the ``scout`` CLI may share one process, so the pacing
lives next to the HTTP client and is shared per (platform, base URL, rate) in the process.

Across processes (Dagster's multiprocess executor) each process has its own gate, so the
deployment should also put platform assets in a Dagster pool of size 1 (``twitter_api``).

Built on pyrate-limiter 4's GCRA state bucket with ``burst=1``: it keeps one timestamp, never
grows with traffic (no leak thread needed), and spaces admissions exactly 1/rate apart. We ask
the limiter without blocking and do the waiting ourselves, because the limiter's own blocking
mode sleeps with ``time.sleep`` and pads each wait; owning the sleep lets tests drive the gate
with a fake clock and prove the spacing without measuring wall time.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from pyrate_limiter import (
    GCRA,
    AbstractClock,
    Limiter,
    MonotonicClock,
    Rate,
    RateItem,
    SingleBucketFactory,
    StateBucket,
)


class RateGate:
    """Admit at most ``requests_per_second`` requests, evenly spaced, blocking the caller until allowed."""

    def __init__(
        self,
        name: str,
        requests_per_second: float,
        *,
        clock: AbstractClock | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not requests_per_second > 0:
            raise ValueError(
                f"rate gate {name!r}: requests_per_second must be > 0, got {requests_per_second!r}"
            )
        self.name = name
        self.requests_per_second = requests_per_second
        # Rate(1, interval, burst=1): one request per interval and never two back to back.
        # The interval is rounded up so we never run faster than configured.
        self.interval_ms = max(1, math.ceil(1000 / requests_per_second))
        self._bucket = StateBucket(
            [Rate(1, self.interval_ms, burst=1)], algorithm=GCRA(), clock=clock or MonotonicClock()
        )
        self._limiter = Limiter(SingleBucketFactory(self._bucket, schedule_leak=False))
        self._sleep = sleep
        self._lock = threading.Lock()
        self.admitted = 0
        self.waited_s = 0.0

    def acquire(self) -> float:
        """Block until the next request may go out; return how many seconds were spent waiting."""
        waited = 0.0
        while not self._limiter.try_acquire(self.name, blocking=False):
            wait_ms = self._bucket.waiting(RateItem(self.name, self._bucket.now(), 1))
            # A zero wait after a denial means another thread got in between; nap 1 ms, ask again.
            seconds = max(int(wait_ms), 1) / 1000
            self._sleep(seconds)
            waited += seconds
        with self._lock:
            self.admitted += 1
            self.waited_s += waited
        return waited

    def __repr__(self) -> str:
        return f"RateGate({self.name!r}, {self.requests_per_second}/s, admitted={self.admitted})"


_SHARED: dict[tuple[str, str, float], RateGate] = {}
_SHARED_LOCK = threading.Lock()


def shared_rate_gate(platform: str, base_url: str, requests_per_second: float) -> RateGate:
    """The process-wide gate for one platform endpoint at one rate (created on first use)."""
    key = (platform, base_url, float(requests_per_second))
    with _SHARED_LOCK:
        gate = _SHARED.get(key)
        if gate is None:
            gate = _SHARED[key] = RateGate(f"{platform}@{base_url}", requests_per_second)
        return gate
