"""The one way Scout talks HTTP to a platform: paced, retried, and with every attempt on record.

What it does for each GET:
- waits for the platform's rate gate (see ``rate_gate.py``) before every attempt, retries included;
- retries, with stamina's exponential backoff and jitter, only what can heal by itself: HTTP
  429, 408 and 5xx, timeouts, transport errors, and 2xx bodies that are not decodable JSON
  (a truncated page is a transport fault, not a change in the API);
- honours ``Retry-After`` (seconds or HTTP date; Bluesky's ``ratelimit-reset``), capped;
- fails fast on any other status (a 400/401/403/404 will not change by asking again);
- never retries a body that is valid JSON of the wrong shape: the parser's ``PayloadError``
  (naming platform, keyword and field) goes straight to the caller, because retrying a changed
  API only burns quota;
- writes a ``CallRecord`` for every attempt, and hands all of them to the caller on success and
  on failure (``PlatformError.calls`` / ``PayloadError.calls``), so the usage ledger is complete.

Secrets (the RapidAPI key) live only in the client's default headers. They never appear in a
URL, a record, an error message or a log line; any text echoed from a response is scrubbed of
them as well.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import httpx
import stamina

from resources.platforms.rate_gate import RateGate
from resources.platforms.retry_after import retry_after_seconds
from resources.platforms.search_page import CallRecord, PlatformError, attach_calls, utc_now

log = logging.getLogger(__name__)

T = TypeVar("T")

USER_AGENT = "scout/0.1 (+https://github.com/scout-platform)"
_SNIPPET_CHARS = 200


@dataclass(frozen=True)
class RetrySettings:
    """How hard to try before giving up on one request.

    ``backoff_*`` feed stamina's exponential backoff: the n-th wait is
    ``min(backoff_max_s, backoff_initial_s * 2**(n-1) + uniform(0, backoff_jitter_s))``.
    ``retry_after_max_s`` caps any wait a server asks for.
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


@dataclass(frozen=True)
class CallScope:
    """Which logical request an HTTP call belongs to (copied into every CallRecord and error)."""

    request_id: str
    platform: str
    keyword: str
    cursor: str | None


@dataclass(frozen=True)
class JsonResponse(Generic[T]):
    """A successful call: the body verbatim, what the parser made of it, and all attempts."""

    text: str
    value: T
    status: int
    url: str
    received_at: datetime
    calls: tuple[CallRecord, ...]


class _RetryableFailure(Exception):
    """An attempt that may succeed if repeated; ``wait_s`` is what the server asked us to wait."""

    def __init__(self, reason: str, status: int | None, wait_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.wait_s = wait_s


class _FinalFailure(Exception):
    """An attempt whose answer will not change by asking again (e.g. HTTP 400, 401, 403, 404)."""

    def __init__(self, reason: str, status: int | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def _retry_decision(exc: Exception) -> bool | float:
    """stamina backoff hook: True = retry with exponential backoff, a float = retry after that wait.

    stamina (>= 25.2) accepts a float from this hook as the wait before the next attempt, so it
    could sleep the Retry-After itself. We still return 0.0 for server-requested waits and
    sleep them ourselves at the start of the next attempt, through the client's ``sleep``
    function: stamina always sleeps with ``time.sleep``, and owning this one wait lets tests
    prove that a 429's Retry-After was honoured (by the requested duration) without spending
    that many seconds of wall time. Production behaviour is the same either way.
    """
    if isinstance(exc, _RetryableFailure):
        return 0.0 if exc.wait_s is not None else True
    return False


class PlatformHttpClient:
    """A paced, retrying JSON GET client for one platform base URL.

    Usable as a context manager; ``close()`` releases the connection pool. ``sleep`` is only
    for honouring server-requested waits (tests pass a recorder); ``transport`` lets callers
    swap httpx's transport (never needed against the sandbox, which is real HTTP).
    """

    def __init__(
        self,
        *,
        platform: str,
        base_url: str,
        timeout_s: float,
        retry: RetrySettings,
        rate_gate: RateGate,
        secret_headers: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.platform = platform
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self.rate_gate = rate_gate
        self.timeout_s = timeout_s
        self._sleep = sleep
        self._secrets = tuple(v for v in (secret_headers or {}).values() if v)
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={
                "user-agent": USER_AGENT,
                "accept": "application/json",
                **(headers or {}),
                **(secret_headers or {}),
            },
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=False,
            transport=transport,
        )

    def __repr__(self) -> str:  # the default repr would not show secrets either, but say so plainly
        return f"PlatformHttpClient({self.platform!r}, {self.base_url!r})"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> PlatformHttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def redact(self, text: str) -> str:
        """``text`` with every secret header value replaced, for anything that leaves the client."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def get_json(
        self,
        path: str,
        params: Sequence[tuple[str, str | int]],
        *,
        scope: CallScope,
        parse: Callable[[Any], T],
        count: Callable[[T], int],
    ) -> JsonResponse[T]:
        """GET ``path`` with ``params`` and return the parsed body, retrying transient failures.

        ``parse`` turns the decoded JSON into the caller's type and raises ``PayloadError`` when
        the shape is wrong; ``count`` says how many results the parsed value holds (ledger).
        Raises ``PlatformError`` (retries exhausted or a non-retryable status) or
        ``PayloadError``; both carry ``.calls`` with every attempt's record.
        """
        calls: list[CallRecord] = []
        pending_wait: float | None = None
        try:
            for attempt in stamina.retry_context(
                on=_retry_decision,
                attempts=self.retry.max_attempts,
                timeout=None,  # bounded by attempts; a wall-clock budget would cut Retry-After waits short
                wait_initial=self.retry.backoff_initial_s,
                wait_max=self.retry.backoff_max_s,
                wait_jitter=self.retry.backoff_jitter_s,
                wait_exp_base=2,
            ):
                with attempt:
                    if pending_wait:
                        self._sleep(pending_wait)
                    pending_wait = None
                    try:
                        return self._attempt(path, params, scope, attempt.num, parse, count, calls)
                    except _RetryableFailure as failure:
                        pending_wait = failure.wait_s
                        log.warning(
                            "%s %s keyword=%r attempt %d of at most %d failed: %s",
                            self.platform, path, scope.keyword, attempt.num, self.retry.max_attempts, failure.reason,
                        )  # fmt: skip
                        raise
        except _RetryableFailure as last:
            raise self._platform_error(path, scope, last.status, f"gave up: {last.reason}", calls) from None
        except _FinalFailure as final:
            raise self._platform_error(path, scope, final.status, final.reason, calls) from None
        except Exception as error:  # PayloadError from the parser, or a bug: keep the records with it
            attach_calls(error, calls)
            raise
        raise AssertionError("unreachable: stamina either returns, or raises the last failure")

    def _platform_error(
        self, path: str, scope: CallScope, status: int | None, reason: str, calls: list[CallRecord]
    ) -> PlatformError:
        return PlatformError(
            platform=scope.platform,
            keyword=scope.keyword,
            cursor=scope.cursor,
            endpoint=path,
            status=status,
            attempts=len(calls),
            reason=self.redact(reason),
            calls=calls,
        )

    def _attempt(
        self,
        path: str,
        params: Sequence[tuple[str, str | int]],
        scope: CallScope,
        attempt_num: int,
        parse: Callable[[Any], T],
        count: Callable[[T], int],
        calls: list[CallRecord],
    ) -> JsonResponse[T]:
        def record(status: int | None, error: str | None, result_count: int | None = None) -> None:
            calls.append(
                CallRecord(
                    request_id=scope.request_id,
                    platform=scope.platform,
                    endpoint=path,
                    keyword=scope.keyword,
                    cursor=scope.cursor,
                    attempt=attempt_num,
                    status=status,
                    latency_ms=round((time.perf_counter() - started) * 1000, 3),
                    result_count=result_count,
                    error=None if error is None else self.redact(error),
                    called_at=called_at,
                )
            )

        self.rate_gate.acquire()
        called_at = utc_now()
        started = time.perf_counter()
        try:
            response = self._client.get(path, params=list(params))
            text = response.text  # read inside the try: a body cut mid-stream raises here
        except httpx.TimeoutException as exc:
            reason = f"timeout after {self.timeout_s}s ({type(exc).__name__})"
            record(None, reason)
            raise _RetryableFailure(reason, None) from exc
        except httpx.TransportError as exc:
            reason = self.redact(f"transport error {type(exc).__name__}: {exc}")
            record(None, reason)
            raise _RetryableFailure(reason, None) from exc

        status = response.status_code
        if status == 429 or status == 408 or status >= 500:
            wait = retry_after_seconds(response.headers, cap_s=self.retry.retry_after_max_s)
            reason = f"HTTP {status}" + (f" (server asked to wait {wait:g}s)" if wait is not None else "")
            record(status, f"{reason}: {_snippet(text)}")
            raise _RetryableFailure(reason, status, wait)
        if not 200 <= status < 300:
            reason = self.redact(f"HTTP {status} is not retryable: {_snippet(text)}")
            record(status, reason)
            raise _FinalFailure(reason, status)

        try:
            decoded = json.loads(text)
        except ValueError as exc:
            reason = f"HTTP {status} body is not decodable JSON ({exc}; {len(text)} chars)"
            record(status, reason)
            raise _RetryableFailure(reason, status) from exc

        try:
            value = parse(decoded)
        except Exception as exc:
            record(status, str(exc))
            raise
        result_count = count(value)
        record(status, None, result_count)
        return JsonResponse(
            text=text,
            value=value,
            status=status,
            url=self.redact(str(response.request.url)),
            received_at=utc_now(),
            calls=tuple(calls),
        )


def _snippet(text: str) -> str:
    """The start of a response body, on one line, for an error message."""
    flat = " ".join(text.split())
    if not flat:
        return "<empty body>"
    return flat if len(flat) <= _SNIPPET_CHARS else flat[:_SNIPPET_CHARS] + "…"
