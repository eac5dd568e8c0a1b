"""Quarantine rows, not pages: what a parser hands back besides the rows it could read.

One bad row must cost one row. A parser therefore reads a page row by row: a row it cannot
read (no id, no handle, not an object, ...) becomes a :class:`Quarantined` entry of severity
``row`` and the other rows go on; a value it cannot read (a count ``"lots"``, a date
``"yesterday"``) becomes ``None`` in a kept row plus a ``field`` note; a text field the
sanitizer changed (``text.py``) gets a ``field`` note too. Only an envelope that is not a page
at all (not JSON, no list of users) is still a page-level ``PayloadError``.

The ``profiles`` asset writes these entries to the ``quarantined_rows`` table (adding
``page`` entries for stored pages whose envelope cannot be read); the platform clients only use
:func:`require_a_readable_row`, so a fresh page keeps its cursor while one row is bad.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from resources.platforms.text import storable
from scout_contract.errors import PayloadContext, PayloadError

ROW, FIELD, PAGE = "row", "field", "page"
# The raw row kept with a quarantine entry, as JSON text with every non-ASCII character escaped
# (so a lone surrogate or NUL is stored as its escape), cut at this many characters.
RAW_ROW_CAP = 4_000
PAGE_INDEX = -1  # row_index of an entry about the whole stored page


@dataclass(frozen=True)
class Quarantined:
    """One row a parser could not read (``row``), or one value it nulled or cleaned (``field``).

    ``row_index`` is the row's position in the page (every candidate row counts, readable or
    not); ``field`` is the path into the response, e.g. ``data[3].legacy.followers_count``.
    """

    row_index: int
    field: str
    reason: str
    raw_row: str
    severity: str


@dataclass(frozen=True)
class ParsedRows:
    """Profile rows read from a page (or a stored page), with the page's quarantine entries."""

    rows: list[dict]
    quarantined: tuple[Quarantined, ...] = ()


def raw_row_text(raw: Any) -> str:
    """``raw`` as ASCII JSON text, cut at :data:`RAW_ROW_CAP` characters (the cut is said)."""
    try:
        text = json.dumps(raw, ensure_ascii=True, default=repr)
    except (TypeError, ValueError, RecursionError):
        text = storable(repr(raw)[:RAW_ROW_CAP])
    if len(text) > RAW_ROW_CAP:
        text = f"{text[:RAW_ROW_CAP]}... (cut from {len(text):,} characters)"
    return text


def quarantine(row_index: int, field: str, reason: str, raw: Any, severity: str) -> Quarantined:
    """An entry whose field and reason are safe to store (they may quote hostile keys)."""
    return Quarantined(row_index, storable(field), storable(reason), raw_row_text(raw), severity)


def unreadable_row(row_index: int, error: Exception, fallback_field: str, raw: Any) -> Quarantined:
    """The ``row`` entry for an exception a per-row parser raised.

    A ``PayloadError`` names its field; anything else (a parser bug tripped by odd data) is
    recorded with its type rather than costing the page.
    """
    if isinstance(error, PayloadError):
        return quarantine(row_index, error.field, error.detail, raw, ROW)
    return quarantine(
        row_index, fallback_field, f"could not be read ({type(error).__name__}: {error})", raw, ROW
    )


def field_notes(row_index: int, notes: dict[str, str], raw: Any) -> list[Quarantined]:
    """One ``field`` entry per noted field of a kept row."""
    return [quarantine(row_index, field, reason, raw, FIELD) for field, reason in notes.items()]


@dataclass(frozen=True)
class Unfound:
    """Stands in for a row whose object could not even be located (a broken timeline entry)."""

    error: PayloadError
    raw: Any


def read_rows(
    candidates: Iterable[tuple[Any, str]],
    read: Callable[[Any, str, dict[str, str]], dict | None],
    indexes: Sequence[int] | None = None,
) -> ParsedRows:
    """Read each ``(raw row, path)`` with ``read(raw, path, notes)``; quarantine what fails.

    ``read`` returns the row, or ``None`` for a row that is legitimately absent (a suspended
    account), and adds field notes to ``notes``. An :class:`Unfound` candidate is quarantined
    with its error. Rows are de-duplicated by ``platform_id`` (first wins); a dropped
    duplicate's notes go with it. ``indexes`` are the candidates' positions in the page when
    they are not simply 0, 1, 2 ... (rows already filtered by an earlier pass).
    """
    rows: dict[str, dict] = {}
    quarantined: list[Quarantined] = []
    for position, (raw, path) in enumerate(candidates):
        index = indexes[position] if indexes is not None else position
        if isinstance(raw, Unfound):
            quarantined.append(unreadable_row(index, raw.error, path, raw.raw))
            continue
        notes: dict[str, str] = {}
        try:
            row = read(raw, path, notes)
        except Exception as error:  # one bad row costs one row, whatever it trips over
            quarantined.append(unreadable_row(index, error, path or "<body>", raw))
            continue
        if row is None or row["platform_id"] in rows:
            continue
        rows[row["platform_id"]] = row
        quarantined.extend(field_notes(index, notes, raw))
    return ParsedRows(list(rows.values()), tuple(quarantined))


def require_a_readable_row(readable: int, quarantined: Iterable[Quarantined], ctx: PayloadContext) -> None:
    """Raise the page-level error when rows came back and none of them could be read.

    Used by the platform clients on a fresh page: with at least one readable row the page is
    good (its cursor is kept, the bad rows are quarantined when ``profiles`` reads the stored
    page); with none, the body is most likely a changed wire shape, and the keyword records
    the error instead of storing a page of nothing.
    """
    bad = [entry for entry in quarantined if entry.severity == ROW]
    if readable or not bad:
        return
    first = bad[0]
    raise ctx.error(first.field, f"{first.reason} (no row of the page is readable: {len(bad)} quarantined)")
