"""Bluesky's public AppView (XRPC), as ``public.api.bsky.app`` serves it.

``GET /xrpc/app.bsky.actor.searchActors?q=K&limit=25[&cursor=C]`` → ``{"actors": [profileView...],
"cursor": "<offset>"}``; no ``cursor`` on the last page. profileView carries NO counts.
``GET /xrpc/app.bsky.actor.getProfiles?actors=A&actors=B...`` (at most 25, DIDs or handles) →
``{"profiles": [profileViewDetailed...]}`` with the counts; unknown actors are left out.
Errors are ``{"error": "InvalidRequest", "message": "Error: ..."}`` with HTTP 400, as the AppView does.

As on the real service, a search page can be shorter than ``limit`` and still carry a cursor:
some accounts (taken down, deactivated) are skipped when a page is rendered.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from scout_sandbox.directory import Directory
from scout_sandbox.replies import Params, Reply, int_param, single_param
from scout_sandbox.seeding import base32_token, stable_seed
from scout_sandbox.synthetic import SANDBOX_NOW, SyntheticProfile

MAX_PROFILES = 25
_MODERATION_DID = "did:plc:ar7c4by46qjdydhdevvrndac"  # Bluesky's own moderation service
_TRUSTED_VERIFIER_DID = "did:plc:z72i7hdynmk6r22z27h6tvur"


def iso(moment: datetime) -> str:
    """AT Protocol datetimes: UTC with milliseconds and a Z ('2023-05-30T17:52:27.302Z')."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def invalid(message: str) -> Reply:
    return Reply(400, {"error": "InvalidRequest", "message": f"Error: {message}"})


def search_actors(directory: Directory, params: Params) -> Reply:
    keyword = single_param(params, "q") or single_param(params, "term") or ""
    try:
        limit = int_param(params, "limit", 25, 1, 100)
    except ValueError as exc:
        return invalid(str(exc))
    cursor = single_param(params, "cursor")
    if cursor is not None and not cursor.isdigit():
        return invalid(f"cursor {cursor!r} is malformed")
    offset = int(cursor) if cursor else 0
    if not keyword.strip():
        return Reply(200, {"actors": []})
    hits = directory.pool("bluesky").hits(keyword)
    profiles = (directory.profile("bluesky", i) for i in hits[offset : offset + limit])
    payload: dict[str, object] = {"actors": [profile_view(p) for p in profiles if not p.hidden_from_search]}
    if offset + limit < len(hits):
        payload["cursor"] = str(offset + limit)
    return Reply(200, payload)


def get_profiles(directory: Directory, params: Params) -> Reply:
    actors = params.get("actors") or params.get("actors[]") or []
    if not actors:
        return invalid('Params must have the property "actors"')
    if len(actors) > MAX_PROFILES:
        return invalid(f"actors must not have more than {MAX_PROFILES} elements")
    found: list[dict[str, object]] = []
    for position, actor in enumerate(actors):
        if actor.startswith("did:"):
            index = directory.index_of_id("bluesky", actor)
        elif "." in actor.strip(".") and " " not in actor:
            index = directory.index_of_handle("bluesky", actor)
        else:
            return invalid(f"actors/{position} must be a valid did or a handle")
        if index is not None:
            found.append(profile_view_detailed(directory.profile("bluesky", index)))
    return Reply(200, {"profiles": found})


def _avatar(p: SyntheticProfile, kind: str) -> str:
    return f"https://cdn.bsky.app/img/{kind}/plain/{p.platform_id}/bafkrei{base32_token(52, kind, p.platform_id)}@jpeg"


def _indexed_at(p: SyntheticProfile) -> datetime:
    """When the AppView last indexed the profile record: some time after sign-up, before the sandbox's now."""
    span = max(1.0, (SANDBOX_NOW - p.created_at).total_seconds())
    return p.created_at + timedelta(seconds=(stable_seed("indexed", p.platform_id) % 1000) / 1000 * span)


def _labels(p: SyntheticProfile) -> list[dict[str, object]]:
    if p.moderation_label is None:
        return []
    self_label = p.moderation_label.startswith("!")
    source = p.platform_id if self_label else _MODERATION_DID
    uri = f"at://{p.platform_id}/app.bsky.actor.profile/self" if self_label else p.platform_id
    label: dict[str, object] = {"src": source, "uri": uri}
    if self_label:
        label["cid"] = f"bafyrei{base32_token(52, 'profile-cid', p.platform_id)}"
    return [label | {"val": p.moderation_label, "cts": iso(_indexed_at(p))}]


def _verification(p: SyntheticProfile) -> dict[str, object] | None:
    if not (p.blue_verified and p.archetype in {"organization", "creator"} and p.followers > 1500):
        return None
    issued = max(p.created_at, datetime(2025, 4, 21, tzinfo=SANDBOX_NOW.tzinfo)) + timedelta(days=3)
    record = base32_token(13, "verification", p.platform_id)
    return {
        "verifications": [
            {
                "issuer": _TRUSTED_VERIFIER_DID,
                "uri": f"at://{_TRUSTED_VERIFIER_DID}/app.bsky.graph.verification/{record}",
                "isValid": True,
                "createdAt": iso(issued),
            }
        ],
        "verifiedStatus": "valid",
        "trustedVerifierStatus": "none",
    }


def _chat(p: SyntheticProfile) -> dict[str, str]:
    return {
        "allowIncoming": "all" if p.can_dm else ("following" if p.archetype != "organization" else "none")
    }


def _identity(p: SyntheticProfile) -> dict[str, object]:
    """did, handle and the profile-record fields, in the order the AppView writes them."""
    view: dict[str, object] = {"did": p.platform_id, "handle": p.handle}
    if p.no_profile_record:
        return view
    view["displayName"] = p.display_name
    if p.pronouns:
        view["pronouns"] = p.pronouns
    if not p.default_avatar:
        view["avatar"] = _avatar(p, "avatar")
    return view


def profile_view(p: SyntheticProfile) -> dict[str, object]:
    """What searchActors returns for one account (no counts)."""
    view = _identity(p)
    if not p.no_profile_record:
        view["associated"] = {"chat": _chat(p), "activitySubscription": {"allowSubscriptions": "followers"}}
    view["labels"] = _labels(p)
    if p.no_profile_record:
        return view
    view["createdAt"] = iso(p.created_at)
    verification = _verification(p)
    if verification:
        view["verification"] = verification
    if p.bio:
        view["description"] = p.bio
    view["indexedAt"] = iso(_indexed_at(p))
    return view


def profile_view_detailed(p: SyntheticProfile) -> dict[str, object]:
    """What getProfiles returns for one account, counts included."""
    seed = stable_seed("associated", p.platform_id)
    associated: dict[str, object] = {
        "lists": seed % 4 if p.archetype in {"organization", "creator", "researcher"} else 0,
        "feedgens": (seed >> 8) % 3 if p.archetype == "organization" else 0,
        "starterPacks": (seed >> 16) % 2 if p.archetype != "bot" else 0,
        "labeler": False,
    }
    if not p.no_profile_record:
        associated["chat"] = _chat(p)
    associated["activitySubscription"] = {"allowSubscriptions": "followers"}
    view = _identity(p) | {"associated": associated, "labels": _labels(p)}
    if not p.no_profile_record:
        view["createdAt"] = iso(p.created_at)
        verification = _verification(p)
        if verification:
            view["verification"] = verification
        if p.bio:
            view["description"] = p.bio
        if p.website:
            view["website"] = p.website
        view["indexedAt"] = iso(_indexed_at(p))
        if p.has_banner:
            view["banner"] = _avatar(p, "banner")
    view |= {"followersCount": p.followers, "followsCount": p.following, "postsCount": p.posts}
    if p.pinned_post and p.posts > 0 and not p.no_profile_record:
        view["pinnedPost"] = {
            "cid": f"bafyrei{base32_token(52, 'pin-cid', p.platform_id)}",
            "uri": f"at://{p.platform_id}/app.bsky.feed.post/{base32_token(13, 'pin', p.platform_id)}",
        }
    return view
