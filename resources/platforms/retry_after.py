"""How long a platform asked us to wait before trying again.

RapidAPI and most proxies send ``Retry-After`` as seconds or as an HTTP date (RFC 9110
§10.2.3). The Bluesky AppView instead sends ``ratelimit-reset`` (epoch seconds at which the
window resets) on its 429s; other servers following the IETF RateLimit draft send it as a
delta. Both become "seconds from now", capped so that a hostile or
broken header cannot park a run for hours.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from datetime import UTC


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
