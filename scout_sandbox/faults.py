"""Misbehaviour on request, so client tests can exercise retries, backoff and error handling.

A test queues faults for a path prefix (``server.inject("/api/search/people", Fault.rate_limit(2))``,
``"/xrpc/"`` for all of Bluesky, or ``POST /_sandbox/faults``); each matching request takes the
oldest matching fault (FIFO) and gets that misbehaviour instead of the normal answer. A fault
answers ``requests`` matching requests (default 1; 0 = no count limit) and, when ``duration`` > 0,
only for that many seconds after the first request it answered; whichever ends first removes it.
Once the queue is empty, requests are answered normally again.

Kinds (constructor → what goes on the wire):

- ``rate_limit(retry_after)`` → 429 with the platform's rate-limit headers.
- ``server_error(status)`` → 500 (JSON) or 502/503/504 (an HTML error page).
- ``timeout(seconds)`` → the normal answer after ``seconds``.
- ``truncated()`` / ``malformed()`` / ``empty()`` → half the body / valid JSON of the wrong shape /
  an empty 200.
- ``bad_rows(rows=k, defects=(...))`` → the normal page with ``k`` of its rows spoiled, one defect
  each (``row_faults.DEFECTS``: '1.2K' / '12,345' / '1234' / 'many' counts, an unreadable date,
  an X user with neither ``legacy`` nor ``core``, a row without its id / a Bluesky actor without
  a DID, a row that is not an object). Row positions are seeded by the request.
- ``hostile_text(rows=k)`` → ``k`` rows whose display name and bio carry lone surrogates (sent as
  ``\\ud83d``-style JSON escapes), NUL and other control characters and bidi overrides.
- ``bad_encoding(mode="gzip"|"deflate")`` → a plain JSON body labelled ``Content-Encoding: gzip``.
- ``drip(chunk, interval, seconds)`` → headers at once, then the body ``chunk`` bytes every
  ``interval`` s; the server gives up when the client hangs up, the server stops, or after
  ``seconds`` (then it closes the connection with the body unfinished).
- ``repeating_cursor(mode="same"|"cycle")`` → real rows, but the next cursor is the one requested
  ("same"), or pages 2 and 3 point back at each other ("cycle"). Stays until reset by default.
- ``huge_page(rows=1000)`` → that many distinct accounts on one page, whatever was asked.
- ``huge_field(size=1_000_000, rows=1)`` → ``rows`` rows whose bio is ``size`` characters long.
- ``oversized(size=20_000_000)`` → a valid page of at least ``size`` bytes, made lazily and sent
  chunked (rows of the normal page repeated), so neither side holds it in memory.
- ``down(requests=N, duration=T, mode="status"|"reset", status=503)`` → the platform is down: every
  matching request gets ``status`` (mode "status") or a TCP reset with no answer (mode "reset"),
  for the next N requests and/or T seconds from the first one (both 0: until ``reset()``).

Each request's effect is in ``SandboxServer.requests`` (``fault`` and ``affected`` rows) and, for
row faults, in the ``x-sandbox-affected-rows`` response header (``position=defect,...``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields

from scout_sandbox.replies import Reply

FAULT_KINDS = (
    "rate_limit",
    "server_error",
    "timeout",
    "truncated",
    "malformed",
    "empty",
    "bad_rows",
    "hostile_text",
    "bad_encoding",
    "drip",
    "repeating_cursor",
    "huge_page",
    "huge_field",
    "oversized",
    "down",
)
SERVER_ERROR_STATUSES = (500, 502, 503, 504)
MODES = {
    "bad_encoding": ("gzip", "deflate"),
    "repeating_cursor": ("same", "cycle"),
    "down": ("status", "reset"),
}
# Row defects of ``bad_rows``: name → what the spoiled row carries.
DEFECTS = {
    "count_suffix": "the follower count written '1.2K' (readable: 1,200)",
    "count_separator": "the follower count written '12,345' (readable: 12,345)",
    "count_string": "the follower count as a string of digits, e.g. '4821' (readable)",
    "count_word": "the follower count written 'many' (unreadable)",
    "bad_date": "the account's creation date written 'sometime last year' (unreadable)",
    "no_blocks": "X only: a user with neither a 'legacy' nor a 'core' block",
    "no_id": "no account id: an X user without 'rest_id', a Bluesky actor without a DID",
    "not_object": "the row is the JSON string 'oops' instead of an object",
}
_INT_FIELDS = ("retry_after", "status", "rows", "size", "chunk", "requests")
_FLOAT_FIELDS = ("seconds", "interval", "duration")


@dataclass(frozen=True)
class Fault:
    """One misbehaviour. Only the fields of its kind matter (see the module docstring)."""

    kind: str
    retry_after: int = 1
    status: int = 500
    seconds: float = 1.0
    rows: int = 1
    defects: tuple[str, ...] = ()
    size: int = 0
    chunk: int = 16
    interval: float = 0.05
    mode: str = ""
    requests: int = 1
    duration: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind {self.kind!r} is not one of {FAULT_KINDS}")
        if self.kind in {"server_error", "down"} and self.status not in SERVER_ERROR_STATUSES:
            raise ValueError(f"{self.kind} status {self.status} is not one of {SERVER_ERROR_STATUSES}")
        negative = [n for n in (*_INT_FIELDS, *_FLOAT_FIELDS) if getattr(self, n) < 0]
        if negative:
            raise ValueError(f"fault {self.kind}: {', '.join(negative)} must not be negative")
        if self.rows < 1 or self.chunk < 1:
            raise ValueError(f"fault {self.kind}: rows and chunk must be at least 1")
        allowed = MODES.get(self.kind, ("",))
        if self.mode not in allowed:
            raise ValueError(f"fault {self.kind}: mode {self.mode!r} is not one of {allowed}")
        unknown = [d for d in self.defects if d not in DEFECTS]
        if unknown:
            raise ValueError(f"fault {self.kind}: unknown defect(s) {unknown}; known: {sorted(DEFECTS)}")

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
    def bad_rows(cls, rows: int = 1, defects: tuple[str, ...] = (), requests: int = 1) -> Fault:
        """``rows`` rows of the page spoiled; row i gets ``defects[i % len]`` (default: the endpoint's list)."""
        return cls("bad_rows", rows=rows, defects=tuple(defects), requests=requests)

    @classmethod
    def hostile_text(cls, rows: int = 3, requests: int = 1) -> Fault:
        return cls("hostile_text", rows=rows, requests=requests)

    @classmethod
    def bad_encoding(cls, mode: str = "gzip", requests: int = 1) -> Fault:
        return cls("bad_encoding", mode=mode, requests=requests)

    @classmethod
    def drip(cls, chunk: int = 16, interval: float = 0.05, seconds: float = 30.0) -> Fault:
        return cls("drip", chunk=chunk, interval=interval, seconds=seconds)

    @classmethod
    def repeating_cursor(cls, mode: str = "same", requests: int = 0) -> Fault:
        return cls("repeating_cursor", mode=mode, requests=requests)

    @classmethod
    def huge_page(cls, rows: int = 1000, requests: int = 1) -> Fault:
        return cls("huge_page", rows=rows, requests=requests)

    @classmethod
    def huge_field(cls, size: int = 1_000_000, rows: int = 1, requests: int = 1) -> Fault:
        return cls("huge_field", size=size, rows=rows, requests=requests)

    @classmethod
    def oversized(cls, size: int = 20_000_000, requests: int = 1) -> Fault:
        return cls("oversized", size=size, requests=requests)

    @classmethod
    def down(cls, requests: int = 0, duration: float = 0.0, mode: str = "status", status: int = 503) -> Fault:
        return cls("down", requests=requests, duration=duration, mode=mode, status=status)

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
        if item["kind"] == "down":
            kwargs["status"] = 503  # as Fault.down(): an outage answers "Service Unavailable"
        for name in (*_INT_FIELDS, *_FLOAT_FIELDS):
            if name in item:
                value = item[name]
                kind = int if name in _INT_FIELDS else (int, float)
                if isinstance(value, bool) or not isinstance(value, kind):
                    raise ValueError(f"{where}: field {name!r} must be a number, got {value!r}")
                kwargs[name] = value
        if "mode" in item:
            if not isinstance(item["mode"], str):
                raise ValueError(f"{where}: field 'mode' must be a string, got {item['mode']!r}")
            kwargs["mode"] = item["mode"]
        if "defects" in item:
            defects = item["defects"]
            if not isinstance(defects, list) or not all(isinstance(d, str) for d in defects):
                raise ValueError(f"{where}: field 'defects' must be a list of strings, got {defects!r}")
            kwargs["defects"] = tuple(defects)
        try:
            return cls(**kwargs)  # type: ignore[arg-type]
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None


@dataclass
class _Queued:
    prefix: str
    fault: Fault
    left: int  # requests it still answers; 0 = no count limit
    until: float | None = None  # monotonic deadline, set by the first request it answers


class FaultQueue:
    """Faults waiting for requests, oldest first; a request takes the oldest whose prefix it matches."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Queued] = []

    def push(self, path_prefix: str, faults: tuple[Fault, ...]) -> None:
        if not path_prefix.startswith("/"):
            raise ValueError(f"fault path {path_prefix!r} must start with '/', e.g. '/api/search/people'")
        with self._lock:
            self._queue.extend(_Queued(path_prefix, fault, fault.requests) for fault in faults)

    def take(self, path: str) -> Fault | None:
        with self._lock:
            self._drop_expired(time.monotonic())
            for position, entry in enumerate(self._queue):
                if not path.startswith(entry.prefix):
                    continue
                if entry.until is None and entry.fault.duration > 0:
                    entry.until = time.monotonic() + entry.fault.duration
                if entry.left > 0:
                    entry.left -= 1
                    if entry.left == 0:
                        del self._queue[position]
                return entry.fault
        return None

    def pending(self) -> list[tuple[str, Fault]]:
        with self._lock:
            self._drop_expired(time.monotonic())
            return [(entry.prefix, entry.fault) for entry in self._queue]

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def _drop_expired(self, now: float) -> None:
        self._queue = [e for e in self._queue if e.until is None or now < e.until]


def faulty_reply(fault: Fault, normal: Reply, platform: str) -> Reply:
    """The reply under a fault that needs only the normal reply (the others: ``row_faults``, the server)."""
    if fault.kind == "rate_limit":
        return _rate_limited(fault.retry_after, platform)
    if fault.kind == "server_error" or (fault.kind == "down" and fault.mode == "status"):
        return _server_error(fault.status, platform)
    if fault.kind == "down":
        return Reply(0, None, reset=True)
    if fault.kind == "truncated":
        body = normal.body()
        return Reply(normal.status, body[: len(body) // 2], normal.headers)
    if fault.kind == "malformed":
        return Reply(200, _wrong_shape(normal.payload))
    if fault.kind == "empty":
        return Reply(200, None)
    if fault.kind == "bad_encoding":
        # A plain body that claims to be compressed: the client's decoder fails on the first bytes.
        return Reply(normal.status, normal.body(), {**normal.headers, "Content-Encoding": fault.mode})
    return normal


def _server_error(status: int, platform: str) -> Reply:
    if status == 500:
        payload = {"error": "InternalServerError", "message": "Internal Server Error"}
        return Reply(500, payload if platform == "bluesky" else {"message": "Internal Server Error"})
    reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}[status]
    page = f"<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1></body></html>"
    return Reply(status, page.encode("utf-8"), content_type="text/html; charset=utf-8")


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
