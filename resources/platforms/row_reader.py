"""Read one row's values leniently: what cannot be read becomes ``None`` plus a note, never an error.

The strict readers of ``payload.py`` decide what a well-formed value is and word the reason
when it is not; this reader tries them first, then the forms real responses and proxies are
known to send, and otherwise keeps the row with the column unknown (``None``) and the strict
reader's reason noted against the field's path:

- counts: JSON integers, integral floats and the same as strings (``"12"``, ``"12.0"``),
  thousands separators (``"1,234"``), and abbreviations ``K``/``M``/``B`` (``"1.2K"`` -> 1200,
  ``"3M"``; the rounded display value is the best count there is); negative or beyond 64 bits
  is unreadable;
- flags: JSON booleans and the strings ``"true"``/``"false"`` (any case);
- timestamps: X's legacy format and ISO-8601 (``payload.parse_timestamp_text``), and Unix
  epoch seconds or milliseconds (number or digit string);
- text: strings only, cleaned by ``text.clean_text`` with the field's cap; what cleaning
  changed is noted.

Notes are kept one per field path (a second note on the same path is appended to the first),
so a row's notes are keys of the ``quarantined_rows`` table as they are.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from resources.platforms.payload import describe, read_bool, read_int, read_timestamp
from resources.platforms.text import FIELD_CAPS, clean_text
from scout_contract.errors import PayloadContext, PayloadError

_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+")
_PLAIN = re.compile(r"\d+(?:\.0*)?")
_ABBREVIATED = re.compile(r"(\d+(?:\.\d+)?)\s*([KkMmBb])")
_SCALE = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}
_FLAGS = {"true": True, "false": False}
# Epoch numbers from 10**8 s (1973, before any account) to below 10**13 ms (2286); from
# 10**11 on they are milliseconds (10**11 s would be the year 5138).
_EPOCH_DIGITS = re.compile(r"\d{9,13}")
_EPOCH_RANGE = (10**8, 10**13)
_EPOCH_MS_FROM = 10**11
_SINGLE_LINE = {"name", "location", "category"}


def count_from_text(text: str) -> int | None:
    """The count a string spells (``"12"``, ``"1,234"``, ``"1.2K"``), or ``None``."""
    text = text.strip()
    if _GROUPED.fullmatch(text):
        return int(text.replace(",", ""))
    if _PLAIN.fullmatch(text):
        return int(Decimal(text))
    abbreviated = _ABBREVIATED.fullmatch(text)
    if abbreviated:
        try:
            return int(Decimal(abbreviated.group(1)) * _SCALE[abbreviated.group(2).lower()])
        except InvalidOperation:
            return None
    return None


def _epoch(value: Any) -> datetime | None:
    """A naive UTC datetime from Unix seconds or milliseconds, or ``None`` for anything else."""
    if isinstance(value, str) and _EPOCH_DIGITS.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not _EPOCH_RANGE[0] <= value < _EPOCH_RANGE[1]:
        return None
    seconds = value / 1000 if value >= _EPOCH_MS_FROM else value
    try:
        return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return None


class RowReader:
    """Lenient readers for one row; ``notes`` maps a field path to why its value was nulled or changed."""

    def __init__(self, ctx: PayloadContext, notes: dict[str, str] | None = None) -> None:
        self.ctx = ctx
        self.notes: dict[str, str] = {} if notes is None else notes

    def note(self, field: str, reason: str) -> None:
        self.notes[field] = f"{self.notes[field]}; {reason}" if field in self.notes else reason

    def unreadable(self, error: PayloadError, outcome: str = "stored as null") -> None:
        """Note a strict reader's error against its field, with what became of the value."""
        self.note(error.field, f"{error.detail}; {outcome}")

    def count(self, value: Any, field: str) -> int | None:
        if isinstance(value, str):
            spelled = count_from_text(value)
            value = value if spelled is None else spelled  # then the same bounds as a number
        try:
            return read_int(value, field, self.ctx)
        except PayloadError as strict:
            self.unreadable(strict)
            return None

    def flag(self, value: Any, field: str) -> bool | None:
        try:
            return read_bool(value, field, self.ctx)
        except PayloadError as strict:
            if isinstance(value, str) and value.strip().lower() in _FLAGS:
                return _FLAGS[value.strip().lower()]
            self.unreadable(strict)
            return None

    def timestamp(self, value: Any, field: str, outcome: str = "stored as null") -> datetime | None:
        try:
            return read_timestamp(value, field, self.ctx)
        except PayloadError as strict:
            parsed = _epoch(value)
            if parsed is not None:
                return parsed
            self.unreadable(strict, outcome)
            return None

    def string(self, value: Any, field: str) -> str | None:
        """A string used for a decision only (an avatar URL, a status word): type-checked, not stored."""
        if value is None or isinstance(value, str):
            return value
        self.note(field, f"must be a string, got {describe(value)}; stored as null")
        return None

    def text(self, value: Any, field: str, column: str) -> str | None:
        """A stored text column: a string, cleaned and capped for ``column``, with what changed noted."""
        text = self.string(value, field)
        if text is None:
            return None
        cleaned = clean_text(text, cap=FIELD_CAPS[column], single_line=column in _SINGLE_LINE)
        for change in cleaned.notes:
            self.note(field, change)
        return cleaned.value
