"""How hard Scout tries again, shared by every client that calls out: platforms and models.

Two pieces both the HTTP client and the model labeler need, kept in one place so a wait means
the same everywhere: ``RetryBudget`` (attempts, exponential backoff, the cap on a wait a server
asks for) and ``retry_after_seconds`` (how long a response asked us to wait).

RapidAPI and most proxies send ``Retry-After`` as seconds or as an HTTP date (RFC 9110
§10.2.3). The Bluesky AppView instead sends ``ratelimit-reset`` (epoch seconds at which the
window resets) on its 429s; other servers following the IETF RateLimit draft send it as a
delta. Both become "seconds from now", capped so that a hostile or broken header cannot park a
run for hours.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC


@dataclass(frozen=True)
class RetryBudget:
    """How hard to try before giving up on one request.

    ``backoff_*`` feed stamina's exponential backoff: the n-th wait is
    ``min(backoff_max_s, backoff_initial_s * 2**(n-1) + uniform(0, backoff_jitter_s))``.
    ``retry_after_max_s`` caps any wait a server asks for (that wait replaces the backoff).
    """

    max_attempts: int = 5
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    backoff_jitter_s: float = 1.0
    retry_after_max_s: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        for name in ("backoff_initial_s", "backoff_max_s", "backoff_jitter_s", "retry_after_max_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")

    @property
    def max_wait_s(self) -> float:
        """The longest wait between two attempts: a backoff or a (capped) server-requested wait."""
        return max(self.backoff_max_s, self.retry_after_max_s)


def retry_after_seconds(
    headers: Mapping[str, str], *, cap_s: float, now: float | None = None
) -> float | None:
    """Seconds to wait according to the response headers, or None if they say nothing usable."""
    now = time.time() if now is None else now
    wait = _from_retry_after(headers.get("retry-after"), now)
    if wait is None:
        wait = _from_ratelimit_reset(headers.get("ratelimit-reset"), now)
    if wait is None:
        return None
    return min(max(wait, 0.0), cap_s)


def _from_retry_after(value: str | None, now: float) -> float | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT; be lenient with ones that omit it
        when = when.replace(tzinfo=UTC)
    return when.timestamp() - now


def _from_ratelimit_reset(value: str | None, now: float) -> float | None:
    if value is None:
        return None
    try:
        reset = float(value.strip())
    except ValueError:
        return None
    # Bluesky sends epoch seconds; the IETF RateLimit draft sends seconds-until-reset.
    # Any value past 2001-09-09 (1e9) can only be an epoch time.
    return reset - now if reset > 1e9 else reset
