"""Do-not-contact exclusions: the entry model, its validation and the one matching rule.

An entry excludes accounts of one platform by exactly one of:

- ``account``: the platform id (exact);
- ``handle``: the handle, case-insensitive, without a leading ``@``;
- ``domain``: a web domain (``acme.com``) written in the bio, alone or as a subdomain, URL or
  e-mail address (``www.acme.com``, ``https://acme.com/x``, ``jo@acme.com``; not ``notacme.com``);
- ``org``: an organisation name, a case-insensitive substring of the name or the bio;
- ``bio_pattern``: a Python regular expression searched in the bio (validated and compiled when
  the entry is added, so a bad pattern is refused there and then, never at labeling time).

Entries live in the append-only ``exclusion_events`` ledger (an ``add`` and, later, a ``remove``
event each carry a reason and who did it: the audit trail). :func:`match_profiles` is the only
place that decides which accounts are excluded; its result is the ``excluded_accounts`` table,
and every SQL reader (the labeling queue, dbt's ``stg_excluded_accounts``) only anti-joins that
table, with :data:`EXCLUDED_ACCOUNT_SQL`, instead of repeating the rule in two SQL dialects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from scout_contract.platforms import PLATFORMS

if TYPE_CHECKING:
    import polars as pl

KINDS: tuple[str, ...] = ("account", "handle", "domain", "org", "bio_pattern")
ACTIONS: tuple[str, ...] = ("add", "remove")

MAX_VALUE_CHARS = 200  # a handle, domain or organisation name is far shorter
MAX_PATTERN_CHARS = 200  # long patterns are where catastrophic backtracking hides
MAX_REASON_CHARS = 500

_DOMAIN = re.compile(r"^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_HANDLE = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")

# True for a (platform, platform_id) of the aliased row ``{alias}`` that an active entry excludes.
# ``excluded_accounts`` is refreshed by ``scout_leads/exclusions.py`` (see that module).
EXCLUDED_ACCOUNT_SQL = """exists (
    select 1 from excluded_accounts x
    where x.platform = {alias}.platform and x.platform_id = {alias}.platform_id)"""


def excluded_account_sql(alias: str) -> str:
    """:data:`EXCLUDED_ACCOUNT_SQL` for the table aliased ``alias`` (an identifier, never user input)."""
    if not alias.isidentifier():
        raise ValueError(f"table alias must be an identifier, got {alias!r}")
    return EXCLUDED_ACCOUNT_SQL.format(alias=alias)


class ExclusionError(ValueError):
    """An entry that cannot be added or removed; the message names the field and the problem."""


@dataclass(frozen=True)
class Exclusion:
    """One active do-not-contact entry (its ``add`` event)."""

    exclusion_id: str
    platform: str
    kind: str
    value: str
    reason: str
    actor: str
    added_at: datetime


def normalize_value(kind: str, value: str) -> str:
    """``value`` checked for ``kind`` and put in its stored form; ExclusionError says what is wrong."""
    if kind not in KINDS:
        raise ExclusionError(f"kind: {kind!r} is not one of {', '.join(KINDS)}")
    text = (value or "").strip()
    if not text:
        raise ExclusionError(f"{kind}: empty value")
    limit = MAX_PATTERN_CHARS if kind == "bio_pattern" else MAX_VALUE_CHARS
    if len(text) > limit:
        raise ExclusionError(f"{kind}: {len(text)} characters, at most {limit}")
    if kind == "handle":
        text = text.lstrip("@").lower()
        if not _HANDLE.match(text):
            raise ExclusionError(f"handle: {value!r} is not a handle (letters, digits, _ . : -)")
    elif kind == "domain":
        text = re.sub(r"^[a-z]+://", "", text.lower()).split("/")[0].removeprefix("www.")
        if not _DOMAIN.match(text):
            raise ExclusionError(f"domain: {value!r} is not a web domain like acme.com")
    elif kind == "bio_pattern":
        try:
            re.compile(text)
        except re.error as exc:
            raise ExclusionError(
                f"bio_pattern: {value!r} is not a valid regular expression ({exc})"
            ) from None
    return text


def check_entry(platform: str, kind: str, value: str, reason: str, actor: str) -> str:
    """Validate a new entry's fields; return its stored value. ExclusionError names the bad field."""
    if platform not in PLATFORMS:
        raise ExclusionError(f"platform: {platform!r} is not one of {', '.join(PLATFORMS)}")
    check_reason(reason)
    if not (actor or "").strip():
        raise ExclusionError("by: who adds the entry must be given")
    return normalize_value(kind, value)


def check_reason(reason: str) -> None:
    """A reason is required (the audit trail says why) and bounded."""
    text = (reason or "").strip()
    if not text:
        raise ExclusionError("reason: required (why this account must not be contacted)")
    if len(text) > MAX_REASON_CHARS:
        raise ExclusionError(f"reason: {len(text)} characters, at most {MAX_REASON_CHARS}")


def active_entries(events: pl.DataFrame) -> list[Exclusion]:
    """The entries of ``exclusion_events`` rows that were added and not removed, oldest first."""
    removed = {row["exclusion_id"] for row in events.iter_rows(named=True) if row["action"] == "remove"}
    entries = [
        Exclusion(
            exclusion_id=row["exclusion_id"],
            platform=row["platform"],
            kind=row["kind"],
            value=row["value"],
            reason=row["reason"],
            actor=row["actor"],
            added_at=row["event_at"],
        )
        for row in events.iter_rows(named=True)
        if row["action"] == "add" and row["exclusion_id"] not in removed
    ]
    return sorted(entries, key=lambda e: (e.added_at, e.exclusion_id))


def _domain_regex(domain: str) -> str:
    """The domain alone or under a subdomain, not glued to more letters (``notacme.com``, ``acme.com.evil``)."""
    return r"(?:^|[^\w.-])(?:[\w-]+\.)*" + re.escape(domain) + r"(?:$|[^\w-]|\.(?![\w-]))"


def _searches(text: pl.Expr, pattern: re.Pattern[str]) -> pl.Expr:
    """Python ``re`` search over a text column (polars' own regex engine has no look-around)."""
    import polars as pl

    return text.map_elements(lambda value: pattern.search(value) is not None, return_dtype=pl.Boolean)


def entry_matches(entry: Exclusion, profiles: pl.DataFrame) -> pl.Series:
    """Booleans: which rows of ``profiles`` (platform, platform_id, handle, name, bio) ``entry`` excludes."""
    import polars as pl

    bio = pl.col("bio").fill_null("")
    if entry.kind == "account":
        hit = pl.col("platform_id") == entry.value
    elif entry.kind == "handle":
        hit = pl.col("handle").fill_null("").str.to_lowercase() == entry.value.lower()
    elif entry.kind == "domain":
        hit = _searches(bio, re.compile(_domain_regex(entry.value.lower()), re.IGNORECASE))
    elif entry.kind == "org":
        needle = entry.value.lower()
        hit = pl.col("name").fill_null("").str.to_lowercase().str.contains(needle, literal=True) | (
            bio.str.to_lowercase().str.contains(needle, literal=True)
        )
    else:  # bio_pattern: Python ``re`` semantics, the ones validated at add time
        hit = _searches(bio, re.compile(entry.value))
    frame = profiles.select(((pl.col("platform") == entry.platform) & hit).fill_null(False).alias("hit"))
    return frame.get_column("hit")


def match_profiles(entries: list[Exclusion], profiles: pl.DataFrame, matched_at: datetime) -> pl.DataFrame:
    """The ``excluded_accounts`` rows: one per (account, entry) that excludes it."""
    import polars as pl

    from scout_contract.tables import EXCLUDED_ACCOUNTS, polars_schema

    schema = polars_schema(EXCLUDED_ACCOUNTS.columns)
    parts = []
    for entry in entries:
        if entry.kind == "account":  # excluded even before the account is ever seen
            hits = pl.DataFrame({"platform": [entry.platform], "platform_id": [entry.value]})
        elif profiles.is_empty():
            continue
        else:
            hits = profiles.filter(entry_matches(entry, profiles)).select("platform", "platform_id").unique()
        if hits.height:
            parts.append(
                hits.with_columns(
                    pl.lit(entry.exclusion_id).alias("exclusion_id"),
                    pl.lit(entry.reason).alias("reason"),
                    pl.lit(matched_at).cast(pl.Datetime("us")).alias("matched_at"),
                )
            )
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat(parts).select(list(schema)).cast(dict(schema))
