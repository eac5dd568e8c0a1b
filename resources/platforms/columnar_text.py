"""Polars expressions that read one profile value the way the per-row readers do, or say they can't.

Each reader returns a :class:`Read`: the value the per-row parser would store, and a boolean
``refer`` that is true where the columnar path cannot be sure of that (the per-row parser would
write a note, raise, or take a branch not mirrored here). A page with any referred value goes
to the per-row parser whole, so the columnar path only ever emits rows the reference would emit
with no quarantine entry at all. The readers accept only the plain forms and refer the rest,
which is always safe, merely slower.

The JSON decoder (Arrow's, see ``columnar.py``) is strict about types: a count that is not a JSON
integer within 64 bits, a flag that is not a JSON boolean, text that is not a JSON string, a
duplicated key or a lone surrogate fails the decode, and the page goes to the reference. So
what reaches these readers is already typed, and they only add what types cannot say:

- counts: negative integers are the reference's to note;
- text: no character ``text.clean_text`` would note (controls, bidi controls), NFC already,
  within the field's cap; the silent rules (line-break folding, single-line spacing) and
  ``payload.normalize_string`` are applied as expressions;
- identities: non-blank, storable as they are (``text.identity_problem``);
- timestamps: X's ``Sat Dec 14 04:35:55 +0000 2013`` and ISO-8601 ``2024-10-01T12:34:56.789Z``
  (UTC, years 1900-2099), parsed vectorised; anything else is referred.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from resources.platforms.text import FIELD_CAPS, IDENTITY_CAP

# What text.clean_text notes: C0/C1 controls other than \t, \n and \r (\r is folded into \n
# silently), and bidi embeddings, overrides and isolates.
_NOTED_CHARACTERS = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\x{202A}-\x{202E}\x{2066}-\x{2069}]"
# What text.identity_problem refuses (lone surrogates cannot reach a polars string).
_UNSAFE_IN_IDENTITY = r"[\x00-\x1F\x7F-\x9F\x{2028}\x{2029}\x{202A}-\x{202E}\x{2066}-\x{2069}]"
_LINE_BREAK = "\r\n|[\r\u2028\u2029]"
_TAB_OR_NEWLINE = "[\t\n]"
# payload.normalize_string deletes these: backslash, both quotes, comma, C0 controls and DEL.
_PREDECESSOR_DELETES = r"[\\\"',\x00-\x1F\x7F]"
_SINGLE_LINE = {"name", "location", "category"}
_MONTHS = {m: f"{i:02d}" for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1
)}  # fmt: skip
_X_DATE = (
    r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([0-9]{2}) "
    r"((?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]) \+0000 ((?:19|20)[0-9]{2})$"
)
_ISO_DATE = (
    r"^((?:19|20)[0-9]{2}-[0-9]{2}-[0-9]{2})T((?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9])"
    r"(?:\.([0-9]{1,6}))?(?:Z|\+00:00)?$"
)
_SURROGATE_ESCAPE = r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}"
_SURROGATE_PAIR = r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
# JSON escapes of ASCII characters (``\u0041``): a key spelled that way would dodge the key checks.
_ASCII_ESCAPE = r"\\u00[0-7][0-9a-fA-F]"


@dataclass(frozen=True)
class Read:
    """A column as the reference would store it, and where the columnar path must refer instead."""

    value: pl.Expr
    refer: pl.Expr


def unusual_escapes(raw: pl.Expr) -> pl.Expr:
    """True where the raw JSON escapes an ASCII character or holds a lone surrogate escape.

    Both are rare and decoders differ on them (an escaped key ``"n\\u0061me"`` is ``name`` to
    Python; a lone ``\\ud800`` is a string to Python, an error or NUL elsewhere), so they are
    left to the reference rather than trusted to the decoder.
    """
    lone = raw.str.count_matches(_SURROGATE_ESCAPE) != 2 * raw.str.count_matches(_SURROGATE_PAIR)
    return raw.str.contains(_ASCII_ESCAPE) | lone


def empty_object_under_keys(raw: pl.Expr, keys: tuple[str, ...]) -> pl.Expr:
    """True where one of ``keys`` holds ``{}``, which the reference treats as absent (falsy)."""
    names = "|".join(keys)
    return raw.str.contains(rf'"(?:{names})"\s*:\s*\{{\s*\}}')


def count(value: pl.Expr) -> Read:
    """``RowReader.count`` on a decoded JSON integer: a negative one is noted by the reference."""
    return Read(value, (value < 0).fill_null(False))


def text(value: pl.Expr, column: str) -> Read:
    """``RowReader.text`` for ``column`` where cleaning would change nothing worth a note."""
    folded = value.str.replace_all(_LINE_BREAK, "\n")
    if column in _SINGLE_LINE:
        folded = folded.str.replace_all(_TAB_OR_NEWLINE, " ")
    normalized = folded.str.normalize("NFC")
    refer = (
        value.str.contains(_NOTED_CHARACTERS)
        | (normalized != folded)
        | (normalized.str.len_chars() > FIELD_CAPS[column])
    )
    return Read(folded, refer.fill_null(False))


def predecessor_clean(value: pl.Expr) -> pl.Expr:
    """``payload.normalize_string``: delete \\ " ' , and controls, trim, and ``None`` when empty."""
    cleaned = value.str.replace_all(_PREDECESSOR_DELETES, "").str.strip_chars()
    return pl.when(cleaned == "").then(None).otherwise(cleaned)


def identity_problem(value: pl.Expr) -> pl.Expr:
    """True where ``payload.require_identity`` would refuse the value (missing, blank, unsafe, long)."""
    return (
        value.is_null()
        | (value.str.strip_chars() == "")
        | value.str.contains(_UNSAFE_IN_IDENTITY)
        | (value.str.len_chars() > IDENTITY_CAP)
    ).fill_null(True)


def unsafe_in_cursor(value: pl.Expr) -> pl.Expr:
    """True where ``payload.read_cursor`` would refuse the cursor (a character no cursor can carry)."""
    return value.str.contains(_UNSAFE_IN_IDENTITY).fill_null(False)


def timestamp(value: pl.Expr) -> Read:
    """``RowReader.timestamp`` for X's format and UTC ISO-8601, as naive UTC microseconds."""
    x_parts = value.str.extract_groups(_X_DATE)  # month, day, time, year
    x_text = pl.concat_str(
        x_parts.struct[3], pl.lit("-"), x_parts.struct[0].replace_strict(_MONTHS, default=None),
        pl.lit("-"), x_parts.struct[1], pl.lit(" "), x_parts.struct[2],
    )  # fmt: skip
    iso_parts = value.str.extract_groups(_ISO_DATE)  # date, time, fraction
    iso_text = pl.concat_str(iso_parts.struct[0], pl.lit(" "), iso_parts.struct[1])
    fraction = iso_parts.struct[2].fill_null("").str.pad_end(6, "0").cast(pl.Int64, strict=False)
    x_parsed = x_text.str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us", strict=False)
    iso_parsed = iso_text.str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us", strict=False) + pl.duration(
        microseconds=fraction
    )
    parsed = pl.coalesce(x_parsed, iso_parsed)
    return Read(parsed, value.is_not_null() & parsed.is_null())
