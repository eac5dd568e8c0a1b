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
    ``result_count`` is None unless the attempt produced a usable page.
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

    @property
    def exhausted(self) -> bool:
        """True when the platform gave no cursor: the keyword has no further page."""
        return self.cursor_out is None


class PlatformError(RuntimeError):
    """A platform call that could not produce a page: retries used up, or a non-retryable answer.

    It carries the record of every attempt (``calls``) so the caller can still append them to
    the usage ledger before letting the run fail. The message names platform, endpoint,
    keyword, cursor and what went wrong; it never contains request headers.
    """

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

    def __reduce__(self):
        # Dagster pickles errors across process boundaries; rebuild from the keyword arguments.
        return (_rebuild_platform_error, (self.__dict__.copy(),))


def _rebuild_platform_error(state: dict) -> PlatformError:
    keys = ("platform", "keyword", "cursor", "endpoint", "status", "attempts", "reason", "calls")
    return PlatformError(**{key: state[key] for key in keys})


def attach_calls(error: BaseException, calls: Sequence[CallRecord]) -> None:
    """Put ``calls`` in front of the records an error already carries (earlier calls come first).

    Used so that a failure in a later step of a page (Bluesky hydration) still reports the
    calls of the earlier steps; works for PlatformError and for the parsers' PayloadError.
    """
    earlier = tuple(calls)
    error.calls = earlier + tuple(getattr(error, "calls", ()))  # type: ignore[attr-defined]
