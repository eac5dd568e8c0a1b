"""What an endpoint answers before the server writes it: status, JSON payload, extra headers.

Endpoints return a ``Reply`` instead of writing to the socket so that they stay pure functions of
the request (the determinism tests rely on that) and so that faults can be applied on top of the
normal answer (a truncated body is the real body cut in half).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

Params = Mapping[str, list[str]]


@dataclass(frozen=True)
class Reply:
    status: int
    payload: object | None  # None means an empty body
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"

    def body(self) -> bytes:
        if self.payload is None:
            return b""
        if isinstance(self.payload, bytes):
            return self.payload
        return encode_json(self.payload)


def encode_json(payload: object) -> bytes:
    """Compact UTF-8 JSON, as both real APIs send it; key order is the order the dicts were built in."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


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
