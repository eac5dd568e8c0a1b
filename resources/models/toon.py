"""TOON: the compact table a labeling model reads (REFERENCE §6.2), via the ``toon-format`` package.

A batch of :class:`ProfileForLabel` becomes the tabular form::

    [2]{handle,name,bio,category,followers}:
      jdoe_phd,"Jane Doe, PhD",Sociologist studying migration,null,1840
      acme_labs,Acme Labs,"Official account: news",Science & Technology,52000

The library quotes exactly what the spec says must be quoted (delimiters, ``:``, quotes,
backslashes, control characters, leading ``-``, literal look-alikes such as ``true``/``null``/
``903124``, empty strings) and escapes newlines, so every profile is exactly one line and no bio
can start a row, forge a header or close the surrounding code fence. That single-line property
is part of Scout's prompt-injection defence, so :func:`encode_profiles` checks it.

What we add at our boundary (toon-format 1.2.0 round-trips every other case exactly):
- lone UTF-16 surrogates (possible after ``json.loads`` of a bad payload) cannot be encoded as
  UTF-8 at all; they are replaced by U+FFFD instead of crashing the batch;
- field types are checked so a wrong value names the profile and field instead of surfacing as
  a bad table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import toon_format

from scout_contract.labels import ProfileForLabel

_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_TEXT_FIELDS = ("handle", "name", "bio")


class ToonError(ValueError):
    """A batch that cannot become a TOON table of one line per profile."""


def clean_text(text: str) -> str:
    """``text`` safe to encode: lone surrogates replaced (also for columns beyond a profile's five)."""
    return _SURROGATE_RE.sub("\ufffd", text)


def profile_row(profile: ProfileForLabel) -> dict[str, Any]:
    """The five fields of one profile, checked and cleaned for a TOON table."""
    for field in _TEXT_FIELDS:
        value = getattr(profile, field)
        if not isinstance(value, str):
            raise ToonError(
                f"profile {profile.handle!r}: field {field!r} must be a string, got {value!r:.60}"
            )
    if profile.category is not None and not isinstance(profile.category, str):
        raise ToonError(f"profile {profile.handle!r}: field 'category' must be a string or None")
    if isinstance(profile.followers, bool) or not isinstance(profile.followers, int):
        raise ToonError(
            f"profile {profile.handle!r}: field 'followers' must be an int, got {profile.followers!r}"
        )
    return {
        "handle": clean_text(profile.handle),
        "name": clean_text(profile.name),
        "bio": clean_text(profile.bio),
        "category": None if profile.category is None else clean_text(profile.category),
        "followers": profile.followers,
    }


def encode_table(rows: Sequence[dict[str, Any]], what: str = "profiles") -> str:
    """Rows of one shape as one TOON table, checked to be a header plus exactly one line per row."""
    text = toon_format.encode(list(rows))
    if rows and text.count("\n") != len(rows):
        # Guard for the injection defence: a row spanning lines would let a bio forge rows.
        raise ToonError(f"TOON table for {len(rows)} {what} is not one line per row")
    return text


def encode_profiles(batch: Sequence[ProfileForLabel]) -> str:
    """The batch as one TOON table: a header line and one 2-space-indented line per profile."""
    return encode_table([profile_row(profile) for profile in batch])
