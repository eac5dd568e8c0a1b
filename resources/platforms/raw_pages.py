"""Turn one stored raw page back into normalized profile rows and quarantine entries.

This is the whole reason raw responses are kept verbatim: the same parsers run when a page is
first fetched and when any past partition is re-derived, so a parser fix (or the text
sanitizer) can be backfilled over history without calling an API again. A stored page is
read tolerantly: its readable rows come back with the entries of every row and value that
could not be read, even when no row is readable (the page was stored; its rows are history).
Only an envelope that is not a page at all raises ``PayloadError``.
"""

from __future__ import annotations

import dataclasses
import json

from resources.platforms.bluesky_wire import merge_bluesky, parse_bluesky_profiles, parse_bluesky_search
from resources.platforms.quarantine import FIELD, PAGE_INDEX, ParsedRows, Quarantined, quarantine
from resources.platforms.twitter_wire import parse_twitter_page
from scout_contract.errors import PayloadError


def profiles_from_page(
    platform: str, keyword: str, payload: str, hydration_payload: str | None
) -> ParsedRows:
    """Normalized profile rows of one stored page, in the order the platform returned them.

    Quarantine paths into the stored getProfiles bodies start ``hydration_payload[b].``, so
    they stay distinct across bodies. A getProfiles body (or the stored array of them) that
    cannot be read costs the counts it would have given, noted, not the page.
    """
    if platform == "twitter":
        page = parse_twitter_page(payload, keyword)
        return ParsedRows(page.users, page.quarantined)
    if platform == "bluesky":
        search = parse_bluesky_search(payload, keyword)
        quarantined: list[Quarantined] = list(search.quarantined)
        detailed: list[dict] = []
        paths: list[str] = []
        try:
            bodies = _hydration_bodies(hydration_payload, keyword)
        except PayloadError as exc:
            quarantined.append(quarantine(PAGE_INDEX, exc.field, _without_counts(exc), None, FIELD))
            bodies = []
        for b, body in enumerate(bodies):
            prefix = f"hydration_payload[{b}]"
            try:
                profiles = parse_bluesky_profiles(body, keyword)
            except PayloadError as exc:
                field = f"{prefix}.{exc.field}"
                quarantined.append(quarantine(PAGE_INDEX, field, _without_counts(exc), body, FIELD))
                continue
            detailed.extend(profiles.views)
            paths.extend(f"{prefix}.{path}" for path in profiles.paths)
            quarantined.extend(
                dataclasses.replace(entry, field=f"{prefix}.{entry.field}") for entry in profiles.quarantined
            )
        merged = merge_bluesky(
            search.actors, detailed, keyword, actor_indexes=search.indexes, detail_paths=paths
        )
        return ParsedRows(merged.rows, (*quarantined, *merged.quarantined))
    raise ValueError(f"unknown platform {platform!r} for keyword {keyword!r}")


def _without_counts(error: PayloadError) -> str:
    return f"{error.detail}; the page's actors keep unknown counts"


def _hydration_bodies(hydration_payload: str | None, keyword: str) -> list:
    """The getProfiles bodies stored with a Bluesky page (a JSON array of verbatim bodies)."""
    if not hydration_payload:
        return []
    try:
        bodies = json.loads(hydration_payload)
    except json.JSONDecodeError as exc:
        raise PayloadError("bluesky", keyword, "hydration_payload", f"is not JSON ({exc.msg})") from exc
    if not isinstance(bodies, list):
        raise PayloadError(
            "bluesky", keyword, "hydration_payload", "is not a JSON array of getProfiles bodies"
        )
    return bodies
