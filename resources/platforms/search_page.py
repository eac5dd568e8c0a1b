"""What one platform search call hands back: the verbatim page, and a record of every HTTP attempt.

Two records come out of every search because two tables need them: ``raw_searches`` keeps the
page exactly as the platform sent it (so every downstream partition can be rebuilt without
calling the API again), and ``api_calls`` keeps one row per HTTP attempt, retries and failures
included (so usage, latency and error rates are visible even for pages that never arrived).

Nothing here may ever hold a secret: URLs and parameters are recorded as sent, and the API key
travels only in a request header, which is never recorded.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import ClassVar


def utc_now() -> datetime:
    """Now in UTC without tzinfo: the warehouse stores naive UTC timestamps (REFERENCE §1)."""
    return datetime.now(UTC).replace(tzinfo=None)


def new_call_id() -> str:
    return str(uuid.uuid4())


def ids_hash(handles: Iterable[str]) -> str:
    """First 16 hex digits of the MD5 of the returned handles joined by "," (REFERENCE §1.1).

    Two fetches of the same page that return the same accounts in the same order get the
    same hash, which is how repeated or stuck pagination shows up in the usage ledger.
    """
    joined = ",".join(handles)
    return hashlib.md5(joined.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


@dataclass(frozen=True)
class CallRecord:
    """One HTTP attempt against a platform: one row of the ``api_calls`` ledger.

    ``status`` is None when no response arrived (timeout, connection error);
    ``result_count`` is None unless the attempt produced a usable page; ``error_kind`` is
    the failed attempt's ``ErrorKind`` value (None on success).
    """

    request_id: str
    platform: str
    endpoint: str
    keyword: str
    cursor: str | None
    attempt: int
    status: int | None
    latency_ms: float
    result_count: int | None
    error: str | None
    called_at: datetime
    call_id: str = field(default_factory=new_call_id)
    error_kind: str | None = None


@dataclass(frozen=True)
class SearchPage:
    """One search results page, verbatim, with the request that produced it.

    ``payload`` is the search response body exactly as received; ``hydration_payload`` is a
    JSON array of the follow-up response bodies (Bluesky ``getProfiles``), each verbatim, or
    None where the platform needs no follow-up (Twitter). ``cursor_out`` None means the
    platform reported no further page. The page index is the caller's business: it knows
    which cursor it resumed from.
    """

    request_id: str
    platform: str
    keyword: str
    cursor_in: str | None
    cursor_out: str | None
    status: int
    request_url: str
    request_params: str
    payload: str
    hydration_payload: str | None
    result_count: int
    handles: tuple[str, ...]
    ids_hash: str
    fetched_at: datetime
    calls: tuple[CallRecord, ...]
    stop_reason: str | None = None  # set by the caller when it stops the keyword at this page

    @property
    def exhausted(self) -> bool:
        """True when the platform gave no cursor: the keyword has no further page."""
        return self.cursor_out is None


class ErrorKind(StrEnum):
    """What a failed platform call is, which decides who (if anyone) asks again.

    - ``rate_limited``: the platform said "slow down" (HTTP 429), maybe with a wait;
    - ``transient``: it may heal by itself (5xx, 408, timeouts, the request deadline, dropped
      connections);
    - ``permanent``: asking again gets the same answer (other 4xx, redirects, a bad request);
    - ``invalid_payload``: an answer arrived but is not a page we can use (not JSON, a body
      that lies about its encoding, too large, too many rows, the wrong shape);
    - ``circuit_open``: nothing was sent: the platform's circuit breaker refused the call;
    - ``budget_cap``: nothing was sent: the request would have passed a budget cap
      (``config/budgets.yaml``).

    Only the HTTP client retries, and only the first two kinds (``RETRIED_KINDS``).
    """

    RATE_LIMITED = "rate_limited"
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    INVALID_PAYLOAD = "invalid_payload"
    CIRCUIT_OPEN = "circuit_open"
    BUDGET_CAP = "budget_cap"


RETRIED_KINDS = frozenset({ErrorKind.RATE_LIMITED, ErrorKind.TRANSIENT})


class PlatformError(RuntimeError):
    """A platform call that could not produce a page; the subclasses say which kind of failure.

    It carries the record of every attempt (``calls``) so the caller can still append them to
    the usage ledger. The message names platform, endpoint, keyword, cursor and what went
    wrong; it never contains request headers. Every exception the HTTP stack raises (httpx,
    the socket, decoding, the parsers) reaches callers as one of the subclasses.
    """

    kind: ClassVar[ErrorKind | None] = None

    def __init__(
        self,
        *,
        platform: str,
        keyword: str,
        cursor: str | None,
        endpoint: str,
        status: int | None,
        attempts: int,
        reason: str,
        calls: Sequence[CallRecord] = (),
    ) -> None:
        self.platform = platform
        self.keyword = keyword
        self.cursor = cursor
        self.endpoint = endpoint
        self.status = status
        self.attempts = attempts
        self.reason = reason
        self.calls: tuple[CallRecord, ...] = tuple(calls)
        where = f"cursor {cursor!r}" if cursor is not None else "first page"
        super().__init__(
            f"{platform} {endpoint} for keyword {keyword!r} ({where}) failed after "
            f"{attempts} attempt(s): {reason}"
        )

    @property
    def retried(self) -> bool:
        """True for the kinds the HTTP client retries: when raised, its attempts are used up."""
        return self.kind in RETRIED_KINDS

    def __reduce__(self):
        # Dagster pickles errors across process boundaries; rebuild without calling __init__.
        return (_rebuild_platform_error, (type(self), self.args, self.__dict__.copy()))


class RateLimitedError(PlatformError):
    """HTTP 429 on every attempt; ``retry_after_s`` is the last wait the platform asked for."""

    kind = ErrorKind.RATE_LIMITED

    def __init__(self, *, retry_after_s: float | None = None, **fields) -> None:
        super().__init__(**fields)
        self.retry_after_s = retry_after_s


class TransientPlatformError(PlatformError):
    """5xx, 408, timeouts, the request deadline or a dropped connection on every attempt."""

    kind = ErrorKind.TRANSIENT


class PermanentPlatformError(PlatformError):
    """An answer that will not change by asking again (400, 401, 403, 404, a redirect, ...)."""

    kind = ErrorKind.PERMANENT


class InvalidPayloadError(PlatformError):
    """A response that is not a usable page; never retried. ``field`` is the parser's field path, if any."""

    kind = ErrorKind.INVALID_PAYLOAD

    def __init__(self, *, field: str | None = None, **fields) -> None:
        super().__init__(**fields)
        self.field = field


ERROR_CLASSES: dict[ErrorKind, type[PlatformError]] = {
    ErrorKind.RATE_LIMITED: RateLimitedError,
    ErrorKind.TRANSIENT: TransientPlatformError,
    ErrorKind.PERMANENT: PermanentPlatformError,
    ErrorKind.INVALID_PAYLOAD: InvalidPayloadError,
}


def _rebuild_platform_error(cls: type[PlatformError], args: tuple, state: dict) -> PlatformError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


def attach_calls(error: BaseException, calls: Sequence[CallRecord]) -> None:
    """Put ``calls`` in front of the records an error already carries (earlier calls come first).

    Used so that a failure in a later step of a page (Bluesky hydration) still reports the
    calls of the earlier steps; works for PlatformError and for the parsers' PayloadError.
    """
    earlier = tuple(calls)
    error.calls = earlier + tuple(getattr(error, "calls", ()))  # type: ignore[attr-defined]
