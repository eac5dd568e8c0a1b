"""Requests per key per minute, with bursts: pyrate-limiter's GCRA, one constant-size state per key.

GCRA admits up to ``per_minute`` requests at once, then one every ``60 / per_minute`` seconds, and
knows exactly when the next request would pass: that wait is the ``Retry-After`` of a 429. Each
key's state is a timestamp, so memory does not grow with traffic (no leak thread). The limit is
per API process: behind several processes each counts its own requests.
"""

from __future__ import annotations

import math
import threading

from pyrate_limiter import GCRA, Duration, Limiter, Rate, RateItem, SingleBucketFactory, StateBucket


class KeyRateLimiter:
    """``check(key_id)``: None when the request may go, else the seconds until it may."""

    def __init__(self, per_minute: int) -> None:
        if per_minute < 1:
            raise ValueError(f"rate limit: per_minute must be at least 1, got {per_minute}")
        self.per_minute = per_minute
        self._limiters: dict[str, tuple[Limiter, StateBucket]] = {}
        self._lock = threading.Lock()

    def _for(self, key_id: str) -> tuple[Limiter, StateBucket]:
        with self._lock:
            pair = self._limiters.get(key_id)
            if pair is None:
                bucket = StateBucket([Rate(self.per_minute, Duration.MINUTE)], algorithm=GCRA())
                pair = self._limiters[key_id] = (
                    Limiter(SingleBucketFactory(bucket, schedule_leak=False)),
                    bucket,
                )
            return pair

    def check(self, key_id: str) -> int | None:
        limiter, bucket = self._for(key_id)
        if limiter.try_acquire(key_id, blocking=False):
            return None
        wait_ms = bucket.waiting(RateItem(key_id, bucket.now(), 1))
        return max(1, math.ceil(int(wait_ms) / 1000))
