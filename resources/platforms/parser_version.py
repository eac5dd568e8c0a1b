"""The version of the page parsers: a digest of their source code and of the row they produce.

A page's rows are parsed once, when it is fetched, and kept typed in ``page_profiles``; its
``raw_searches.parser_version`` says which parser read them. Re-deriving a day trusts those rows
only while the parser is the same: a fix to any parser module (or a new profile column) gives a
new version, and every page read by an older one is parsed again from its verbatim payload, so
a parser fix still replays over history. The version is computed from the files themselves, so
nobody has to remember to bump it; a change that alters nothing (a comment) costs one slower
re-derivation of the pages stored before it, never a wrong row.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import ModuleType

from resources.platforms import (
    bluesky_wire,
    columnar,
    columnar_bluesky,
    columnar_text,
    columnar_twitter,
    payload,
    quarantine,
    raw_pages,
    row_reader,
    stored_pages,
    text,
    twitter_wire,
)
from scout_contract.tables import PAGE_PROFILES

# Every module whose code decides which rows a stored page gives and what they hold: the per-row
# reference (raw_pages and what it calls) and the columnar path that must agree with it.
PARSER_MODULES: tuple[ModuleType, ...] = (
    raw_pages,
    twitter_wire,
    bluesky_wire,
    payload,
    row_reader,
    text,
    quarantine,
    stored_pages,
    columnar,
    columnar_twitter,
    columnar_bluesky,
    columnar_text,
)


def parser_digest(modules: tuple[ModuleType, ...] = PARSER_MODULES) -> str:
    """The first 16 hex digits of a SHA-256 over the modules' source files and the row's columns."""
    digest = hashlib.sha256(repr(PAGE_PROFILES.columns).encode())
    for module in modules:
        source = Path(module.__file__ or "")
        digest.update(module.__name__.encode() + b"\0" + source.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


PARSER_VERSION = parser_digest()
