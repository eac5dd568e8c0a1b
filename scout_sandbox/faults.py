"""Misbehaviour on request, so client tests can exercise retries, backoff and error handling.

A test queues faults for a path prefix (``server.inject("/api/search/people", Fault.rate_limit(2))``
or ``POST /_sandbox/faults``); each matching request consumes the oldest matching fault (FIFO) and
gets that misbehaviour instead of (or, for ``timeout``, before) the normal answer. Once the queue
is empty, requests are answered normally again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields

from scout_sandbox.replies import Reply

FAULT_KINDS = ("rate_limit", "server_error", "timeout", "truncated", "malformed", "empty")
SERVER_ERROR_STATUSES = (500, 502, 503, 504)


@dataclass(frozen=True)
class Fault:
    """One misbehaviour. Only the field of its kind matters: ``retry_after`` for ``rate_limit``,
    ``status`` for ``server_error``, ``seconds`` for ``timeout`` (the delay before a normal answer)."""

    kind: str
    retry_after: int = 1
    status: int = 500
    seconds: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind {self.kind!r} is not one of {FAULT_KINDS}")
        if self.kind == "server_error" and self.status not in SERVER_ERROR_STATUSES:
            raise ValueError(f"server_error status {self.status} is not one of {SERVER_ERROR_STATUSES}")
        if self.retry_after < 0 or self.seconds < 0:
            raise ValueError(f"fault {self.kind}: retry_after and seconds must not be negative")

    @classmethod
    def rate_limit(cls, retry_after: int = 1) -> Fault:
        return cls("rate_limit", retry_after=retry_after)

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        return cls("server_error", status=status)

    @classmethod
    def timeout(cls, seconds: float = 1.0) -> Fault:
        return cls("timeout", seconds=seconds)

    @classmethod
    def truncated(cls) -> Fault:
        return cls("truncated")

    @classmethod
    def malformed(cls) -> Fault:
        return cls("malformed")

    @classmethod
    def empty(cls) -> Fault:
        return cls("empty")

    @classmethod
    def from_json(cls, item: object, where: str = "fault") -> Fault:
        """Build a fault from the control endpoint's JSON, naming the bad field on error."""
        if not isinstance(item, Mapping):
            raise ValueError(f'{where} must be an object like {{"kind": "rate_limit"}}, got {item!r}')
        allowed = {f.name for f in fields(cls)}
        unknown = sorted(set(item) - allowed)
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(allowed)}")
        if "kind" not in item:
            raise ValueError(f"{where}: missing field 'kind' (one of {FAULT_KINDS})")
        kwargs: dict[str, object] = {"kind": item["kind"]}
        for name, kind in (("retry_after", int), ("status", int), ("seconds", (int, float))):
            if name in item:
                value = item[name]
                if isinstance(value, bool) or not isinstance(value, kind):
                    raise ValueError(f"{where}: field {name!r} must be a number, got {value!r}")
                kwargs[name] = value
        try:
            return cls(**kwargs)  # type: ignore[arg-type]
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None


class FaultQueue:
    """Faults waiting for requests, oldest first; a request takes the oldest whose prefix it matches."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[tuple[str, Fault]] = []

    def push(self, path_prefix: str, faults: tuple[Fault, ...]) -> None:
        if not path_prefix.startswith("/"):
            raise ValueError(f"fault path {path_prefix!r} must start with '/', e.g. '/api/search/people'")
        with self._lock:
            self._queue.extend((path_prefix, fault) for fault in faults)

    def take(self, path: str) -> Fault | None:
        with self._lock:
            for position, (prefix, fault) in enumerate(self._queue):
                if path.startswith(prefix):
                    del self._queue[position]
                    return fault
        return None

    def pending(self) -> list[tuple[str, Fault]]:
        with self._lock:
            return list(self._queue)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()


def faulty_reply(fault: Fault, normal: Reply, platform: str) -> Reply:
    """The reply a request gets under ``fault`` (``timeout`` is handled by the server: delay, then normal)."""
    if fault.kind == "rate_limit":
        return _rate_limited(fault.retry_after, platform)
    if fault.kind == "server_error":
        if fault.status == 500:
            payload = {"error": "InternalServerError", "message": "Internal Server Error"}
            return Reply(500, payload if platform == "bluesky" else {"message": "Internal Server Error"})
        reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}[fault.status]
        page = (
            f"<html><head><title>{fault.status} {reason}</title></head><body><h1>{reason}</h1></body></html>"
        )
        return Reply(fault.status, page.encode("utf-8"), content_type="text/html; charset=utf-8")
    if fault.kind == "truncated":
        body = normal.body()
        return Reply(normal.status, body[: len(body) // 2], normal.headers)
    if fault.kind == "malformed":
        return Reply(200, _wrong_shape(normal.payload))
    if fault.kind == "empty":
        return Reply(200, None)
    return normal


def _rate_limited(retry_after: int, platform: str) -> Reply:
    if platform == "bluesky":
        headers = {
            "Retry-After": str(retry_after),
            "ratelimit-limit": "3000",
            "ratelimit-remaining": "0",
            "ratelimit-reset": str(int(time.time()) + retry_after),
            "ratelimit-policy": "3000;w=300",
        }
        return Reply(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, headers)
    headers = {
        "Retry-After": str(retry_after),
        "x-ratelimit-requests-limit": "500000",
        "x-ratelimit-requests-remaining": "0",
        "x-ratelimit-requests-reset": str(retry_after),
    }
    return Reply(429, {"message": "Too many requests"}, headers)


def _wrong_shape(normal: object) -> object:
    """Valid JSON that breaks the endpoint's contract in the way a parser must notice."""
    if isinstance(normal, dict):
        if "data" in normal:
            return {"data": "oops", "cursor": 12345}
        if "actors" in normal:
            return {"actors": [{"handle": "no-did.bsky.social", "displayName": None}], "cursor": 25}
        if "profiles" in normal:
            return {"profiles": [{"handle": "no-did.bsky.social", "followersCount": "many"}]}
        if "user" in normal or normal == {}:
            return {"user": []}
    return {"unexpected": True}
