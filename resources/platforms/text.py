"""Clean text at the door: the one sanitizer every text field of a parsed profile goes through.

JSON can carry text that Python holds but no warehouse can store or no reader should see: a
lone UTF-16 surrogate (``"\\ud800"`` decodes to a code point UTF-8 cannot encode, so the
``profiles`` write failed with ``UnicodeEncodeError`` and, raw pages being append-only, failed
for that day for ever), NUL (PostgreSQL text refuses it), other control characters, bidi
overrides that make a handle or a bio read backwards in the UI, and fields a million characters
long. The parsers call :func:`clean_text` once per field while they build a row; raw pages stay
byte-exact (the escape ``\\ud800`` in the stored JSON is plain ASCII), so a stored page always
re-derives into clean rows.

Rules, in order:

1. each lone surrogate (U+D800-U+DFFF) becomes U+FFFD, the replacement character;
2. ``\\r\\n``, ``\\r``, U+2028 and U+2029 become ``\\n``; every other control character (Unicode
   category Cc: C0, DEL, C1, NUL included) is dropped, except ``\\t`` and ``\\n``;
3. bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) are dropped: they only
   steer how the surrounding text is displayed (the marks U+200E/U+200F stay, they cannot reorder);
4. single-line fields (names, locations, categories) turn ``\\t`` and ``\\n`` into a space;
   multi-line fields (bios) keep them here, and the parsers' predecessor rule
   (``payload.normalize_string``) then deletes them, as REFERENCE §4 always did;
5. NFC normalization, so the same name typed two ways compares equal;
6. the result is cut at the field's cap (:data:`FIELD_CAPS`).

Every change but 2's newline folding and 5's normalization is reported back as a note (how many
surrogates, controls, bidi characters; "truncated from N to M characters"), which the parsers
record as a field-level quarantine note: the row is kept, the change is visible.

Identities (ids, handles) are never rewritten: :func:`identity_problem` says why one cannot be
stored as it is, and the parser quarantines that row instead.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Characters per field after cleaning. X allows 50 for a name, 30 for a location and 160 for a
# bio; Bluesky 64 graphemes for a display name and 256 for a description. The caps leave room
# for longer limits later while keeping a hostile million-character bio out of every table,
# prompt and queue.
FIELD_CAPS: dict[str, int] = {"name": 200, "location": 200, "category": 200, "bio": 2_000}
# Longest id or handle accepted (a Bluesky handle is a domain name: at most 253 characters).
IDENTITY_CAP = 300

_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAK = re.compile("\r\n|[\r\u2028\u2029]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # Cc minus \t and \n
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_TAB_OR_NEWLINE = re.compile("[\t\n]")
_UNSAFE_IN_IDENTITY = re.compile("[\ud800-\udfff\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class CleanText:
    """A cleaned field value and what cleaning changed (empty when nothing worth noting)."""

    value: str
    notes: tuple[str, ...] = ()


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def clean_text(text: str, *, cap: int, single_line: bool) -> CleanText:
    """``text`` with the rules of this module applied, cut at ``cap`` characters."""
    notes: list[str] = []
    text, surrogates = _SURROGATE.subn("\ufffd", text)
    if surrogates:
        notes.append(f"replaced {_plural(surrogates, 'lone surrogate')} with U+FFFD")
    text = _LINE_BREAK.sub("\n", text)
    text, controls = _CONTROL.subn("", text)
    if controls:
        notes.append(f"dropped {_plural(controls, 'control character')}")
    text, bidi = _BIDI.subn("", text)
    if bidi:
        notes.append(f"dropped {_plural(bidi, 'bidi control')}")
    if single_line:
        text = _TAB_OR_NEWLINE.sub(" ", text)
    text = unicodedata.normalize("NFC", text)
    if len(text) > cap:
        notes.append(f"truncated from {len(text):,} to {cap:,} characters")
        text = text[:cap]
    return CleanText(text, tuple(notes))


def unsafe_character(text: str) -> str | None:
    """The first character of ``text`` no id, handle or cursor may hold, described; else ``None``."""
    unsafe = _UNSAFE_IN_IDENTITY.search(text)
    if unsafe is None:
        return None
    return f"U+{ord(unsafe.group()):04X} (a lone surrogate, control or bidi character)"


def identity_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored as an id or handle unchanged, or ``None`` when it can."""
    unsafe = unsafe_character(text)
    if unsafe:
        return f"contains {unsafe}; ids and handles are never rewritten"
    if len(text) > IDENTITY_CAP:
        return f"is {len(text):,} characters long (at most {IDENTITY_CAP})"
    return None


def storable(text: str) -> str:
    """``text`` safe for any text column, without notes: for messages and paths Scout builds."""
    return _BIDI.sub("", _CONTROL.sub("", _SURROGATE.sub("\ufffd", text)))
