"""Take one account out of a stored response page, in any wire shape, so the page stays a page.

Used twice, for one reason (docs/leads.md "Erasure"): ``scout forget`` rewrites every stored page
that holds a forgotten person, and ``raw_searches`` drops a suppressed account from a fresh page
before the page is archived or stored. Either way the result must still be read by the same
parsers (``raw_pages.profiles_from_page``) and give the same rows minus that account.

Where an account sits is the parsers' knowledge, not repeated here: the parsers say which accounts
a page holds (their rows' ``platform_id``) and judge the rewritten page; this module only removes
the JSON object that carries that identity (X ``rest_id``, which ``twitter_wire`` reads as the id;
a Bluesky ``did``, which the lexicon requires of every profile view) together with the list element
that holds it. That element is the unit the parsers iterate: ``data[i]`` of a people search, the
timeline entry or module item of a SearchTimeline (a tweet's entry goes with its author), ``actors[i]``
of searchActors and ``profiles[j]`` of a getProfiles body. An X envelope that holds the account
alone (``{"user": {"result": ...}}``) becomes an empty people-search page.

A page that does not hold the account comes back byte for byte as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from typing import Any

from resources.platforms.raw_pages import profiles_from_page
from resources.platforms.search_page import SearchPage, ids_hash
from scout_contract.errors import PayloadError

# The key of the object that *is* one account, per platform (the parsers' identity field).
IDENTITY_KEYS = {"twitter": "rest_id", "bluesky": "did"}
# What a page becomes when the account was its only content.
_EMPTY_PAGES: dict[str, Any] = {"twitter": {"data": []}, "bluesky": {"actors": []}}


class ScrubError(ValueError):
    """A page could not be rewritten into a valid page without the account (names the page, not the person)."""


@dataclass(frozen=True)
class Scrubbed:
    """A rewritten JSON document and how many account-holding elements left it (0: unchanged text)."""

    text: str
    removed: int


def scrub_json(platform: str, text: str, platform_ids: Collection[str]) -> Scrubbed:
    """``text`` (one JSON document: a page, or the stored array of getProfiles bodies) without the accounts."""
    key = _identity_key(platform)
    wanted = {str(pid) for pid in platform_ids}
    if not wanted or not any(pid in text for pid in wanted):
        return Scrubbed(text, 0)
    document = json.loads(text)

    def is_account(node: dict) -> bool:
        value = node.get(key)
        return isinstance(value, str | int) and not isinstance(value, bool) and str(value) in wanted

    cleaned, removed, whole = _without(document, is_account)
    if whole:
        cleaned, removed = _EMPTY_PAGES[platform], removed + 1
    if not removed:
        return Scrubbed(text, 0)
    return Scrubbed(_dumps(cleaned), removed)


@dataclass(frozen=True)
class ScrubbedPage:
    """A search page (and its hydration bodies) without the accounts, and the rows it still gives."""

    payload: str
    hydration_payload: str | None
    removed: int
    rows: list[dict]


def scrub_page(
    platform: str, keyword: str, payload: str, hydration_payload: str | None, platform_ids: Collection[str]
) -> ScrubbedPage:
    """Remove the accounts from a stored page, then check with the parsers that it still reads.

    ``ScrubError`` when the parsers refuse the result or still find one of the accounts in it.
    """
    body = scrub_json(platform, payload, platform_ids)
    hydration = (
        scrub_json(platform, hydration_payload, platform_ids) if hydration_payload is not None else None
    )
    try:
        parsed = profiles_from_page(platform, keyword, body.text, hydration.text if hydration else None)
    except PayloadError as exc:
        raise ScrubError(f"{platform} page of keyword {keyword!r} no longer parses: {exc.detail}") from None
    if any(row["platform_id"] in set(platform_ids) for row in parsed.rows):
        raise ScrubError(f"{platform} page of keyword {keyword!r} still yields the account after scrubbing")
    return ScrubbedPage(
        payload=body.text,
        hydration_payload=hydration.text if hydration else None,
        removed=body.removed + (hydration.removed if hydration else 0),
        rows=parsed.rows,
    )


def drop_accounts(page: SearchPage, is_dropped: Callable[[str], bool]) -> tuple[SearchPage, int]:
    """A fresh page without the accounts ``is_dropped`` names, and how many accounts were dropped.

    The page's count, handles and ids hash are recomputed, so the ledger describes what is stored.
    """
    if not page.payload:
        return page, 0
    try:
        rows = profiles_from_page(page.platform, page.keyword, page.payload, page.hydration_payload).rows
    except PayloadError:
        return page, 0  # not a page: it carries no account the parsers could read
    dropped = [row for row in rows if is_dropped(row["platform_id"])]
    if not dropped:
        return page, 0
    scrubbed = scrub_page(
        page.platform,
        page.keyword,
        page.payload,
        page.hydration_payload,
        [row["platform_id"] for row in dropped],
    )
    gone = {row["handle"] for row in dropped}
    handles = tuple(handle for handle in page.handles if handle not in gone)
    return (
        replace(
            page,
            payload=scrubbed.payload,
            hydration_payload=scrubbed.hydration_payload,
            result_count=max(0, page.result_count - len(dropped)),
            handles=handles,
            ids_hash=ids_hash(handles),
        ),
        len(dropped),
    )


def _identity_key(platform: str) -> str:
    try:
        return IDENTITY_KEYS[platform]
    except KeyError:
        raise ValueError(f"scrub: unknown platform {platform!r}; known: {sorted(IDENTITY_KEYS)}") from None


def _without(node: Any, is_account: Callable[[dict], bool]) -> tuple[Any, int, bool]:
    """``node`` without the account objects: (new node, elements removed, node must go itself).

    An account object makes its nearest enclosing list element go; with no list above it, the
    request to go reaches the caller.
    """
    if isinstance(node, dict):
        if is_account(node):
            return node, 0, True
        out: dict = {}
        removed = 0
        for name, value in node.items():
            new, count, gone = _without(value, is_account)
            removed += count
            if gone:
                return node, removed, True
            out[name] = new
        return out, removed, False
    if isinstance(node, list):
        kept: list = []
        removed = 0
        for item in node:
            new, count, gone = _without(item, is_account)
            removed += count + (1 if gone else 0)
            if not gone:
                kept.append(new)
        return kept, removed, False
    return node, 0, False


def _dumps(document: Any) -> str:
    """Compact JSON; escaped ASCII when the text holds a lone surrogate (it could not be stored as UTF-8)."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(document, ensure_ascii=True, separators=(",", ":"))
    return text
