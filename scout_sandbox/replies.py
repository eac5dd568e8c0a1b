"""What an endpoint answers before the server writes it: status, JSON payload, extra headers.

Endpoints return a ``Reply`` instead of writing to the socket so that they stay pure functions of
the request (the determinism tests rely on that) and so that faults can be applied on top of the
normal answer (a truncated body is the real body cut in half). A fault can also change how the
body is written: dripped (``Drip``), streamed lazily with chunked transfer encoding (``stream``),
or not at all (``reset``: the connection is reset). ``affected`` names the rows a fault spoiled,
so a test can tell which accounts to expect as quarantined.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

Params = Mapping[str, list[str]]
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class AffectedRow:
    """One row a fault changed: its position in the page, what was done to it, and whose row it was."""

    position: int
    defect: str
    platform_id: str


@dataclass(frozen=True)
class Drip:
    """Write the body ``chunk`` bytes at a time, ``interval`` seconds apart, for at most ``cap`` seconds."""

    chunk: int
    interval: float
    cap: float


@dataclass(frozen=True)
class Reply:
    status: int
    payload: object | None  # None means an empty body
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"
    drip: Drip | None = None
    stream: Callable[[], Iterator[bytes]] | None = None  # a lazily made body, sent chunked
    reset: bool = False  # answer nothing: reset the connection
    affected: tuple[AffectedRow, ...] = ()

    def body(self) -> bytes:
        if self.payload is None:
            return b""
        if isinstance(self.payload, bytes):
            return self.payload
        return encode_json(self.payload)


def encode_json(payload: object) -> bytes:
    """Compact UTF-8 JSON, as both real APIs send it; key order is the order the dicts were built in.

    A lone surrogate cannot be UTF-8, so it leaves as a JSON escape (``"\\ud800"``): valid JSON that
    decodes back to the lone surrogate, which is how a real server sends one.
    """
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text).encode("utf-8")


def single_param(params: Params, name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None


def int_param(params: Params, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter in [low, high], or ValueError naming the parameter and the value."""
    raw = single_param(params, name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
    return value
