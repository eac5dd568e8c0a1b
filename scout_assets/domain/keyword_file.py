"""The checked-in keyword file users edit: parsing and validation.

The file is CSV because users edit it by hand and line numbers matter: every problem is
reported as ``<file>:<line>: <what is wrong>`` so a bad edit is fixed in seconds.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from scout_contract.paths import KEYWORD_FILE
from scout_contract.platforms import PLATFORMS
from scout_contract.tables import MAX_KEYWORD_LENGTH

HEADER = ("keyword", "platforms", "tags", "enabled")


class KeywordFileError(ValueError):
    """A keyword file that cannot be used, with the file and line that are wrong."""

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        self.path, self.line, self.problem = path, line, problem
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class KeywordEntry:
    """One keyword line: what to search for, where, and how it is tagged."""

    keyword: str
    platforms: tuple[str, ...]
    tags: tuple[str, ...]
    enabled: bool
    line: int


def load_keyword_file(path: Path = KEYWORD_FILE) -> list[KeywordEntry]:
    """Read and validate the keyword file; raise KeywordFileError naming the line on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KeywordFileError(path, None, f"cannot be read ({exc.strerror or exc})") from exc
    entries: list[KeywordEntry] = []
    seen: dict[str, int] = {}
    header_seen = False
    for line_no, row in _rows(text):
        if not header_seen:
            if tuple(cell.strip().lower() for cell in row) != HEADER:
                raise KeywordFileError(
                    path, line_no, f"expected the header {','.join(HEADER)!r}, got {','.join(row)!r}"
                )
            header_seen = True
            continue
        entry = _parse_row(path, line_no, row)
        key = entry.keyword.casefold()
        if key in seen:
            raise KeywordFileError(path, line_no, f"keyword {entry.keyword!r} repeats line {seen[key]}")
        seen[key] = line_no
        entries.append(entry)
    if not header_seen:
        raise KeywordFileError(path, None, f"has no header line {','.join(HEADER)!r}")
    return entries


def _rows(text: str):
    """(line number, cells) of every non-blank, non-comment line, line numbers as an editor shows them."""
    for line_no, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        yield line_no, next(csv.reader([raw], skipinitialspace=True))


def _parse_row(path: Path, line_no: int, row: list[str]) -> KeywordEntry:
    if not 1 <= len(row) <= len(HEADER):
        raise KeywordFileError(
            path, line_no, f"expected 1 to {len(HEADER)} comma-separated fields, got {len(row)}"
        )
    cells = [cell.strip() for cell in row] + [""] * (len(HEADER) - len(row))
    keyword, platforms_cell, tags_cell, enabled_cell = cells
    keyword = " ".join(keyword.split())
    if not keyword:
        raise KeywordFileError(path, line_no, "the keyword is empty")
    if len(keyword) > MAX_KEYWORD_LENGTH:
        raise KeywordFileError(path, line_no, f"the keyword is longer than {MAX_KEYWORD_LENGTH} characters")
    if any(ord(ch) < 32 for ch in keyword):
        raise KeywordFileError(path, line_no, "the keyword contains a control character")
    return KeywordEntry(
        keyword=keyword,
        platforms=_platforms(path, line_no, platforms_cell),
        tags=_tags(path, line_no, tags_cell),
        enabled=_enabled(path, line_no, enabled_cell),
        line=line_no,
    )


def _platforms(path: Path, line_no: int, cell: str) -> tuple[str, ...]:
    if cell in ("", "*"):
        return PLATFORMS
    names = tuple(dict.fromkeys(cell.lower().split()))
    unknown = [name for name in names if name not in PLATFORMS]
    if unknown:
        raise KeywordFileError(
            path, line_no, f"unknown platform {unknown[0]!r}; use '*' or some of {list(PLATFORMS)}"
        )
    return names


def _tags(path: Path, line_no: int, cell: str) -> tuple[str, ...]:
    tags = tuple(dict.fromkeys(cell.split()))
    bad = [tag for tag in tags if not tag.startswith("#") or len(tag) < 2]
    if bad:
        raise KeywordFileError(path, line_no, f"tag {bad[0]!r} must start with '#' (for example #academia)")
    return tags


def _enabled(path: Path, line_no: int, cell: str) -> bool:
    value = cell.lower()
    if value in ("", "true", "yes", "1"):
        return True
    if value in ("false", "no", "0"):
        return False
    raise KeywordFileError(path, line_no, f"enabled must be true or false, got {cell!r}")
