"""Turn one stored raw page back into normalized profile rows.

This is the whole reason raw responses are kept verbatim: the same function runs when a
page is first fetched and when any past partition is re-derived, so a parser fix can be
backfilled over history without calling an API again.
"""

from __future__ import annotations

import json

from resources.platforms.bluesky_wire import merge_bluesky, parse_bluesky_profiles, parse_bluesky_search
from resources.platforms.twitter_wire import parse_twitter_page
from scout_contract.errors import PayloadError


def profiles_from_page(
    platform: str, keyword: str, payload: str, hydration_payload: str | None
) -> list[dict]:
    """Normalized profile rows of one stored page, in the order the platform returned them."""
    if platform == "twitter":
        return parse_twitter_page(payload, keyword).users
    if platform == "bluesky":
        search = parse_bluesky_search(payload, keyword)
        detailed: list[dict] = []
        for body in _hydration_bodies(hydration_payload, keyword):
            detailed.extend(parse_bluesky_profiles(body, keyword))
        return merge_bluesky(search.actors, detailed, keyword)
    raise ValueError(f"unknown platform {platform!r} for keyword {keyword!r}")


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
