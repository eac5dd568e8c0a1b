"""Text cleaning and strict value readers shared by the platform parsers.

``normalize_string`` is the predecessor's rule for free text (REFERENCE §4), kept exactly so
bios and locations compare equal across the two systems.

The ``read_*`` helpers turn one JSON value into one typed column value. They are deliberately
strict, because a silent coercion would hide an API change until it corrupted scores:

- a missing key and an explicit JSON ``null`` both read as ``None`` (the column is unknown);
- integers accept JSON integers and integral floats (``12.0`` -> 12; some JSON producers emit
  whole numbers that way) but never booleans (``True`` is an ``int`` in Python) and never
  strings, not even ``"12"``: X and Bluesky send counts as numbers, so a string means the wire
  shape changed and we want to hear about it;
- booleans accept only JSON ``true``/``false``: no 0/1, no ``"true"``;
- timestamps accept X's legacy ``Wed Oct 10 20:19:24 +0000 2018`` and ISO-8601, and come back
  as naive UTC datetimes (the warehouse ``timestamp`` type is UTC without a time zone).

Every failure is a :class:`PayloadError` naming the field path. Inside a profile row the parsers
read values through ``row_reader.RowReader``, which tries these readers first, then the known
lenient forms (``"1.2K"``, ``"1,234"``, ``"true"``, epoch numbers), and otherwise keeps the row
with the value unknown and this module's reason noted: strict here, never fatal for a row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from resources.platforms.text import identity_problem, unsafe_character
from scout_contract.errors import PayloadContext

# Backslash, both quote characters, the comma, C0 controls and DEL are deleted (not replaced
# by a space): the predecessor did this so bios could be pasted into CSV and prompts unquoted.
_DELETE = {ord(ch): None for ch in "\\\"',"}
_DELETE.update({code: None for code in range(0x20)})
_DELETE[0x7F] = None

_X_LEGACY_FORMAT = "%a %b %d %H:%M:%S %z %Y"
_PREVIEW_CHARS = 120
# Long opaque tokens in a body preview are masked: a misbehaving proxy could echo a key back.
_OPAQUE_TOKEN = re.compile(r"[A-Za-z0-9_\-+/=]{32,}")
_CONTROL_OR_SPACE = re.compile(r"[\s\x00-\x1f\x7f]+")
_INT64_MAX = 2**63 - 1  # the warehouse `int` column


def child_path(path: str, key: str) -> str:
    """The dotted field path of ``key`` under ``path``, as payload errors name fields."""
    return f"{path}.{key}" if path else key


def normalize_string(s: str | None) -> str | None:
    """Clean free text the predecessor's way; ``None`` when nothing is left.

    Deletes every backslash, ``"``, ``'``, comma and control character (U+0000-U+001F, U+007F;
    so newlines and tabs vanish without leaving a space), then trims surrounding whitespace.
    Everything else, emoji included, is kept as it is.
    """
    if s is None:
        return None
    cleaned = s.translate(_DELETE).strip()
    return cleaned or None


def describe(value: Any) -> str:
    """A short, safe description of a wrong value for an error message."""
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(value).__name__} {text}"


def body_preview(text: str) -> str:
    """The start of a response body on one line, at most 120 characters, opaque tokens masked."""
    flat = _CONTROL_OR_SPACE.sub(" ", text[: _PREVIEW_CHARS * 4]).strip()
    flat = _OPAQUE_TOKEN.sub("<redacted>", flat)
    return flat if len(flat) <= _PREVIEW_CHARS else flat[: _PREVIEW_CHARS - 3] + "..."


def decode_json_body(payload: Mapping | str | bytes, ctx: PayloadContext) -> Mapping:
    """The payload as a JSON object: mappings pass through, text and bytes are decoded."""
    if isinstance(payload, Mapping):
        return payload
    if isinstance(payload, bytes | bytearray):
        try:
            payload = bytes(payload).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ctx.error("<body>", f"is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    if not isinstance(payload, str):
        raise ctx.error("<body>", f"must be a JSON object, text or bytes, got {describe(payload)}")
    try:
        decoded = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise ctx.error(
            "<body>",
            f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            f"starts with `{body_preview(payload)}`",
        ) from None
    except RecursionError:
        raise ctx.error("<body>", "nests arrays or objects too deeply to be a page") from None
    if not isinstance(decoded, Mapping):
        raise ctx.error("<body>", f"must be a JSON object, got {type(decoded).__name__}")
    return decoded


def require_mapping(value: Any, field: str, ctx: PayloadContext) -> Mapping:
    """``value`` as a JSON object, or an error saying it is missing or of the wrong type."""
    if value is None:
        raise ctx.error(field, "is missing")
    if not isinstance(value, Mapping):
        raise ctx.error(field, f"must be an object, got {describe(value)}")
    return value


def require_list(value: Any, field: str, ctx: PayloadContext) -> list:
    """``value`` as a JSON array, or an error saying it is missing or of the wrong type."""
    if value is None:
        raise ctx.error(field, "is missing")
    if not isinstance(value, list):
        raise ctx.error(field, f"must be a list, got {describe(value)}")
    return value


def read_str(value: Any, field: str, ctx: PayloadContext) -> str | None:
    """A string or ``None``; any other JSON type is an error."""
    if value is None or isinstance(value, str):
        return value
    raise ctx.error(field, f"must be a string, got {describe(value)}")


def require_str(value: Any, field: str, ctx: PayloadContext) -> str:
    """A non-blank string (ids, handles); missing, blank or non-string values are errors."""
    text = read_str(value, field, ctx)
    if text is None:
        raise ctx.error(field, "is missing")
    if not text.strip():
        raise ctx.error(field, "is empty")
    return text


def require_identity(value: Any, field: str, ctx: PayloadContext) -> str:
    """An id, handle or DID: a non-blank string stored exactly as sent, or the row's error.

    Identities are never cleaned (a rewritten id would be another account), only refused.
    """
    text = require_str(value, field, ctx)
    problem = identity_problem(text)
    if problem:
        raise ctx.error(field, problem)
    return text


def read_int(value: Any, field: str, ctx: PayloadContext, *, minimum: int | None = 0) -> int | None:
    """A JSON integer (or integral float) or ``None``; counts default to ``minimum=0``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ctx.error(field, f"must be an integer, got {describe(value)}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ctx.error(field, f"must be an integer, got {describe(value)}")
        value = int(value)
    if minimum is not None and value < minimum:
        raise ctx.error(field, f"must be at least {minimum}, got {value}")
    if abs(value) > _INT64_MAX:
        raise ctx.error(field, f"must fit in 64 bits, got {value:.3e}")
    return value


def read_cursor(value: Any, field: str, ctx: PayloadContext) -> str | None:
    """The next-page cursor: a string, or ``None`` when absent, ``null`` or empty (the last page).

    A cursor goes back to the platform and into the ledger verbatim, so one holding a lone
    surrogate or a control character cannot be used: that is an error for the page.
    """
    cursor = read_str(value, field, ctx) or None
    unsafe = unsafe_character(cursor) if cursor else None
    if unsafe:
        raise ctx.error(field, f"contains {unsafe}, which no cursor can carry")
    return cursor


def read_bool(value: Any, field: str, ctx: PayloadContext) -> bool | None:
    """JSON ``true``/``false`` or ``None``; numbers and strings are errors."""
    if value is None or isinstance(value, bool):
        return value
    raise ctx.error(field, f"must be a boolean, got {describe(value)}")


def read_timestamp(value: Any, field: str, ctx: PayloadContext) -> datetime | None:
    """A naive UTC datetime from X's legacy format or ISO-8601; ``None`` when absent.

    ISO values without an offset are taken as UTC, like every timestamp in the warehouse.
    """
    text = read_str(value, field, ctx)
    if text is None:
        return None
    parsed = parse_timestamp_text(text)
    if parsed is None:
        raise ctx.error(field, f"is not a date in X legacy format or ISO-8601, got {describe(text)}")
    return parsed


def parse_timestamp_text(text: str) -> datetime | None:
    """The naive UTC datetime ``text`` denotes, or ``None`` if it is neither format."""
    text = text.strip()
    try:
        parsed = datetime.strptime(text, _X_LEGACY_FORMAT)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:  # e.g. year 1 with a positive offset
            return None
    return parsed
