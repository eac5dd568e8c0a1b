"""The one way Scout talks HTTP to a platform: paced, bounded, retried once, every attempt on record.

What it does for each GET:
- waits for the platform's rate gate (see ``rate_gate.py``) before every attempt, retries included;
- bounds every attempt: a total deadline covering connect, headers and the whole body
  (``deadline.py``; httpx's own timeout is per read, so a drip-fed body would never end), and a
  maximum response size: the body is streamed and cut off at the limit;
- turns every failure into one ``ErrorKind`` (``search_page.py``), with a ``CallRecord`` for
  the ``api_calls`` ledger whatever went wrong, httpx decoding and protocol errors included;
- retries, with stamina's exponential backoff and jitter, only the kinds that can heal by
  themselves: ``rate_limited`` (HTTP 429) and ``transient`` (408, 5xx, timeouts, the
  deadline, dropped connections). This is the only layer that retries a platform call: the
  ``raw_searches`` step and the run are never retried for a platform error;
- honours ``Retry-After`` (seconds or HTTP date; Bluesky's ``ratelimit-reset``), capped;
- never retries ``permanent`` answers (other 4xx, 3xx) or an ``invalid_payload``: a 2xx body
  that is not JSON, lies about its encoding, is too large, holds more rows than a page may, or
  has the wrong shape (the parser's ``PayloadError``) will be the same body next time;
- hands every attempt's record to the caller on success and on failure (``PlatformError.calls``);
- asks the caller's ``call_gate`` (if any) before every attempt: a budget can refuse a retry.

Worst case of one ``get_json`` (docs/operations.md, "Limits and retries"):
``max_attempts * (deadline_s + gate wait) + (max_attempts - 1) * max(backoff_max_s, retry_after_max_s)``.

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

from resources.platforms.deadline import deadline_transport, request_deadline
from resources.platforms.rate_gate import RateGate
from resources.platforms.search_page import (
    ERROR_CLASSES,
    RETRIED_KINDS,
    CallRecord,
    ErrorKind,
    PlatformError,
    RateLimitedError,
    attach_calls,
    utc_now,
)
from resources.retrying import RetryBudget, retry_after_seconds
from scout_contract.errors import PayloadError, storable_text

log = logging.getLogger(__name__)

T = TypeVar("T")

USER_AGENT = "scout/0.1 (+https://github.com/scout-platform)"
_SNIPPET_CHARS = 200
_ERROR_CHARS = 2000


@dataclass(frozen=True)
class RequestLimits:
    """Hard limits of one attempt: whole-request deadline, per-operation timeout, body size."""

    deadline_s: float = 30.0
    timeout_s: float = 10.0
    max_response_bytes: int = 5_000_000

    def __post_init__(self) -> None:
        for name in ("deadline_s", "timeout_s", "max_response_bytes"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")


def worst_case_seconds(retry: RetryBudget, limits: RequestLimits, requests_per_second: float) -> float:
    """The longest one ``get_json`` can take: every attempt runs to its deadline, every wait is maximal.

    The gate term assumes this client is the gate's only user (one platform step at a time:
    the ``platform_api`` pool); parsing a body of at most ``max_response_bytes`` is not counted.
    """
    attempts = retry.max_attempts
    return attempts * (limits.deadline_s + 1 / requests_per_second) + (attempts - 1) * retry.max_wait_s


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


class _AttemptFailed(Exception):
    """One failed attempt, already recorded; ``wait_s`` is what the server asked us to wait."""

    def __init__(
        self,
        kind: ErrorKind,
        reason: str,
        status: int | None,
        wait_s: float | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.status = status
        self.wait_s = wait_s
        self.field = field


def _retry_decision(exc: Exception) -> bool | float:
    """stamina backoff hook: True = retry with exponential backoff, a float = retry after that wait.

    stamina (>= 25.2) accepts a float from this hook as the wait before the next attempt, so it
    could sleep the Retry-After itself. We still return 0.0 for server-requested waits and
    sleep them ourselves at the start of the next attempt, through the client's ``sleep``
    function: stamina always sleeps with ``time.sleep``, and owning this one wait lets tests
    prove that a 429's Retry-After was honoured (by the requested duration) without spending
    that many seconds of wall time. Production behaviour is the same either way.
    """
    if isinstance(exc, _AttemptFailed) and exc.kind in RETRIED_KINDS:
        return 0.0 if exc.wait_s is not None else True
    return False


class PlatformHttpClient:
    """A paced, bounded, retrying JSON GET client for one platform base URL.

    Usable as a context manager; ``close()`` releases the connection pool. ``sleep`` is only
    for honouring server-requested waits (tests pass a recorder); ``transport`` lets callers
    swap httpx's transport (never needed against the sandbox, which is real HTTP; a swapped
    transport keeps the size limit and the deadline checks between body chunks, but cannot cut
    a read that blocks).
    """

    def __init__(
        self,
        *,
        platform: str,
        base_url: str,
        retry: RetryBudget,
        rate_gate: RateGate,
        limits: RequestLimits | None = None,
        timeout_s: float | None = None,
        secret_headers: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        limits = limits or RequestLimits()
        if timeout_s is not None:
            limits = RequestLimits(limits.deadline_s, timeout_s, limits.max_response_bytes)
        self.platform = platform
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self.limits = limits
        self.rate_gate = rate_gate
        # Asked before every attempt (retries included), before anything is sent: a caller that
        # caps requests (budgets, scout_assets/spend) raises from it to refuse the attempt, and the
        # refusal reaches the caller with the records of the attempts already made.
        self.call_gate: Callable[[CallScope, str], None] | None = None
        self.timeout_s = limits.timeout_s
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
            timeout=httpx.Timeout(min(limits.timeout_s, limits.deadline_s)),
            follow_redirects=False,
            transport=transport or deadline_transport(),
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
        max_results: int | None = None,
    ) -> JsonResponse[T]:
        """GET ``path`` with ``params`` and return the parsed body, retrying what may heal.

        ``parse`` turns the decoded JSON into the caller's type and raises ``PayloadError`` when
        the shape is wrong; ``count`` says how many results the parsed value holds (ledger), and
        a value holding more than ``max_results`` is refused as an invalid payload.
        Raises a ``PlatformError`` subclass (``RateLimitedError``, ``TransientPlatformError``,
        ``PermanentPlatformError``, ``InvalidPayloadError``) carrying ``.calls`` with every
        attempt's record; nothing else escapes for anything the server or the network does.
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
                        return self._attempt(
                            path, params, scope, attempt.num, parse, count, max_results, calls
                        )
                    except _AttemptFailed as failure:
                        pending_wait = failure.wait_s
                        log.warning(
                            "%s %s keyword=%r attempt %d of at most %d failed (%s): %s",
                            self.platform, path, scope.keyword, attempt.num, self.retry.max_attempts,
                            failure.kind.value, failure.reason,
                        )  # fmt: skip
                        raise
        except _AttemptFailed as last:
            raise self._platform_error(path, scope, last, calls) from None
        except Exception as error:  # a bug of ours: keep the records with it
            attach_calls(error, calls)
            raise
        raise AssertionError("unreachable: stamina either returns, or raises the last failure")

    def _platform_error(
        self, path: str, scope: CallScope, last: _AttemptFailed, calls: list[CallRecord]
    ) -> PlatformError:
        reason = f"gave up: {last.reason}" if last.kind in RETRIED_KINDS else last.reason
        fields: dict[str, Any] = {
            "platform": scope.platform,
            "keyword": scope.keyword,
            "cursor": scope.cursor,
            "endpoint": path,
            "status": last.status,
            "attempts": len(calls),
            "reason": self.redact(reason),
            "calls": calls,
        }
        if last.kind is ErrorKind.RATE_LIMITED:
            return RateLimitedError(retry_after_s=last.wait_s, **fields)
        if last.kind is ErrorKind.INVALID_PAYLOAD:
            return ERROR_CLASSES[last.kind](field=last.field, **fields)  # type: ignore[call-arg]
        return ERROR_CLASSES[last.kind](**fields)

    def _attempt(
        self,
        path: str,
        params: Sequence[tuple[str, str | int]],
        scope: CallScope,
        attempt_num: int,
        parse: Callable[[Any], T],
        count: Callable[[T], int],
        max_results: int | None,
        calls: list[CallRecord],
    ) -> JsonResponse[T]:
        def record(
            status: int | None,
            kind: ErrorKind | None,
            error: str | None,
            result_count: int | None = None,
        ) -> None:
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
                    error=None if error is None else _storable(self.redact(error)),
                    called_at=called_at,
                    error_kind=None if kind is None else kind.value,
                )
            )

        def fail(
            kind: ErrorKind,
            reason: str,
            status: int | None,
            wait_s: float | None = None,
            field: str | None = None,
        ) -> _AttemptFailed:
            reason = _storable(self.redact(reason))  # it ends up in the ledger, logs and run_failures
            record(status, kind, reason)
            return _AttemptFailed(kind, reason, status, wait_s, field)

        if self.call_gate is not None:
            self.call_gate(scope, path)  # may raise: nothing is sent, nothing recorded
        self.rate_gate.acquire()
        called_at = utc_now()
        started = time.perf_counter()
        deadline = time.monotonic() + self.limits.deadline_s
        head: dict[str, int] = {}  # the status, once the headers arrived
        try:
            with request_deadline(deadline):
                status, headers, body, url, encoding = self._fetch(path, params, deadline, head)
        except _TooLarge as big:
            raise fail(ErrorKind.INVALID_PAYLOAD, str(big), head.get("status")) from None
        except httpx.TimeoutException as exc:
            reason = self._timeout_reason(exc, deadline)
            raise fail(ErrorKind.TRANSIENT, reason, head.get("status")) from exc
        except httpx.DecodingError as exc:  # e.g. labelled gzip but not gzip: the same body next time
            reason = f"invalid payload: the body does not decode as its Content-Encoding says ({exc})"
            raise fail(ErrorKind.INVALID_PAYLOAD, reason, head.get("status")) from exc
        except (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.TooManyRedirects) as exc:
            reason = f"{type(exc).__name__} is not retryable: {exc}"
            raise fail(ErrorKind.PERMANENT, reason, head.get("status")) from exc
        except httpx.TransportError as exc:  # connect/read/write errors, RemoteProtocolError, proxies
            reason = f"transport error {type(exc).__name__}: {exc}"
            raise fail(ErrorKind.TRANSIENT, reason, head.get("status")) from exc
        except Exception as exc:  # anything else from the HTTP stack: recorded, never retried
            reason = f"unexpected {type(exc).__name__} is not retryable: {exc}"
            raise fail(ErrorKind.PERMANENT, reason, head.get("status")) from exc

        text = body.decode(encoding, errors="replace")
        if status == 429 or status == 408 or status >= 500:
            wait = retry_after_seconds(headers, cap_s=self.retry.retry_after_max_s)
            reason = f"HTTP {status}" + (f" (server asked to wait {wait:g}s)" if wait is not None else "")
            kind = ErrorKind.RATE_LIMITED if status == 429 else ErrorKind.TRANSIENT
            record(status, kind, f"{reason}: {_snippet(text)}")  # the ledger keeps the body's start
            raise _AttemptFailed(kind, reason, status, wait)
        if not 200 <= status < 300:
            raise fail(ErrorKind.PERMANENT, f"HTTP {status} is not retryable: {_snippet(text)}", status)

        try:
            decoded = json.loads(text)
        except (ValueError, RecursionError) as exc:
            reason = f"invalid payload: HTTP {status} body is not JSON ({_short(exc)}; {len(body)} bytes): {_snippet(text)}"
            raise fail(ErrorKind.INVALID_PAYLOAD, reason, status) from None
        try:
            value = parse(decoded)
        except PayloadError as exc:
            raise fail(ErrorKind.INVALID_PAYLOAD, str(exc), status, field=exc.field) from None
        except Exception as exc:  # a parser that chokes on a hostile body must not end the run
            reason = f"invalid payload: the parser failed with {type(exc).__name__}: {exc}"
            raise fail(ErrorKind.INVALID_PAYLOAD, reason, status) from None
        result_count = count(value)
        if max_results is not None and result_count > max_results:
            reason = f"invalid payload: the page holds {result_count} results, more than the limit of {max_results}"
            raise fail(ErrorKind.INVALID_PAYLOAD, reason, status)
        record(status, None, None, result_count)
        return JsonResponse(
            text=text,
            value=value,
            status=status,
            url=self.redact(url),
            received_at=utc_now(),
            calls=tuple(calls),
        )

    def _fetch(
        self, path: str, params: Sequence[tuple[str, str | int]], deadline: float, head: dict[str, int]
    ) -> tuple[int, httpx.Headers, bytes, str, str]:
        """Stream one response: (status, headers, body bytes, url, text encoding).

        The body is read chunk by chunk (decoded as its Content-Encoding says) and cut off as
        soon as it passes ``max_response_bytes`` (a declared Content-Length over the limit is
        refused before reading). The deadline is enforced by the transport on every socket
        operation; checking it between chunks too keeps it with a swapped transport.
        """
        limit = self.limits.max_response_bytes
        with self._client.stream("GET", path, params=list(params)) as response:
            head["status"] = response.status_code
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise _TooLarge(limit, f"Content-Length {declared}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise _TooLarge(limit, f"more than {limit} bytes read")
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the request deadline has passed", request=response.request)
                chunks.append(chunk)
            return (
                response.status_code,
                response.headers,
                b"".join(chunks),
                str(response.request.url),
                response.encoding or "utf-8",
            )

    def _timeout_reason(self, exc: httpx.TimeoutException, deadline: float) -> str:
        if time.monotonic() >= deadline - 0.005:  # socket timeouts may wake a hair early
            return (
                f"timeout: the request deadline of {self.limits.deadline_s:g}s passed "
                f"(connect, headers and body; {type(exc).__name__})"
            )
        return f"timeout after {self.limits.timeout_s:g}s without progress ({type(exc).__name__})"


class _TooLarge(Exception):
    """A response body over the size limit; the rest of it is never read."""

    def __init__(self, limit: int, seen: str) -> None:
        super().__init__(f"invalid payload: the response is larger than the limit of {limit} bytes ({seen})")


def _storable(text: str) -> str:
    """``text`` without what a warehouse text column refuses (NUL, lone surrogates) and capped."""
    text = storable_text(text)
    return text if len(text) <= _ERROR_CHARS else text[:_ERROR_CHARS] + "…"


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 80 else text[:80] + "…"


def _snippet(text: str) -> str:
    """The start of a response body, on one line, for an error message."""
    flat = " ".join(text[: _SNIPPET_CHARS * 4].split())
    if not flat:
        return "<empty body>"
    return flat if len(flat) <= _SNIPPET_CHARS else flat[:_SNIPPET_CHARS] + "…"
