"""Bluesky (AT Protocol AppView) responses -> normalized profile rows (``PROFILE_COLUMNS``).

A Bluesky search page takes two calls: ``app.bsky.actor.searchActors`` returns ``profileView``
items, which carry no counts, and ``app.bsky.actor.getProfiles`` (25 actors a call) returns
``profileViewDetailed`` with followers/follows/posts. The parsers validate each response on its
own (so errors point into the body that is wrong) and :func:`merge_bluesky` joins them by DID.

Only ``did`` and ``handle`` are required by the lexicon; every other key may be missing and
unknown keys are ignored. Columns X has but Bluesky does not (favorites, listed, media,
category, location, default_profile, protected) are ``None``. Decisions where Bluesky only
approximates an X column:

- ``default_profile_image`` is True when the profile has no ``avatar`` (the AppView omits the
  key exactly when no avatar is set).
- ``possibly_sensitive`` is True when a label (self-label or moderation label, not negated) is
  one of ``porn``, ``sexual``, ``nudity``, ``graphic-media``; False when ``labels`` is present,
  even empty, without one (the AppView always sends the list, with the default moderation
  service's labels in it, so an empty list is an answer); ``None`` only when ``labels`` is absent.
- ``verified`` and ``blue_verified`` both mean ``verification.verifiedStatus == "valid"``
  (Bluesky has one verification scheme); ``None`` when ``verification`` is absent.
- ``can_dm`` is True for ``associated.chat.allowIncoming == "all"``, False for ``"none"``,
  ``None`` otherwise (``"following"`` depends on who is asking).
- ``created_at`` comes from ``createdAt``, else ``indexedAt``. ``createdAt`` is written by the
  user's own client into their profile record, so a value that is a string but not a date we
  can represent (e.g. year 0) falls back to ``indexedAt`` instead of failing the whole page; a
  non-string value is still a shape error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from resources.platforms.payload import (
    child_path,
    decode_json_body,
    normalize_string,
    parse_timestamp_text,
    read_int,
    read_str,
    read_timestamp,
    require_list,
    require_mapping,
    require_str,
)
from scout_contract.errors import PayloadContext
from scout_contract.tables import PROFILE_COLUMNS

PLATFORM = "bluesky"
SENSITIVE_LABELS = frozenset({"porn", "sexual", "nudity", "graphic-media"})
_CHAT_CAN_DM = {"all": True, "none": False}
_COLUMN_ORDER = tuple(name for name, _ in PROFILE_COLUMNS)


@dataclass(frozen=True)
class BlueskySearchPage:
    """One searchActors page: the validated profileView objects and the opaque next cursor."""

    actors: list[dict]
    cursor: str | None


def _checked_view(view: Any, path: str, ctx: PayloadContext) -> dict:
    """A profile view as a plain dict, after checking the two keys the lexicon requires."""
    view = require_mapping(view, path or "<body>", ctx)
    require_str(view.get("did"), child_path(path, "did"), ctx)
    require_str(view.get("handle"), child_path(path, "handle"), ctx)
    return dict(view)


def _missing_list_detail(body: Mapping) -> str:
    if "error" in body:  # an XRPC error body: {"error": "InvalidRequest", "message": "..."}
        message = str(body.get("message", ""))[:120]
        return f"is missing; the API reported {str(body['error'])[:40]!r}: {message!r}"
    return f"is missing (top-level keys: {sorted(str(k) for k in body)[:8]})"


def parse_bluesky_search(payload: Mapping | str | bytes, keyword: str) -> BlueskySearchPage:
    """The actors and cursor of one ``searchActors`` response.

    The cursor is opaque (``"25"`` today, ``".7::handle"`` in 2023); absent, ``null`` or empty
    means the last page. A page shorter than ``limit`` may still have a cursor.
    """
    ctx = PayloadContext(PLATFORM, keyword)
    body = decode_json_body(payload, ctx)
    if body.get("actors") is None:
        raise ctx.error("actors", _missing_list_detail(body))
    actors = require_list(body["actors"], "actors", ctx)
    cursor = read_str(body.get("cursor"), "cursor", ctx) or None
    return BlueskySearchPage(
        actors=[_checked_view(actor, f"actors[{i}]", ctx) for i, actor in enumerate(actors)],
        cursor=cursor,
    )


def parse_bluesky_profiles(payload: Mapping | str | bytes, keyword: str) -> list[dict]:
    """The profileViewDetailed objects of a ``getProfiles`` or ``getProfile`` response.

    Accepts ``{"profiles": [...]}``, a bare getProfile object, and either of those under a
    ``{"response": ...}`` wrapper (the shape of the AppView test snapshots in the fixtures).
    """
    ctx = PayloadContext(PLATFORM, keyword)
    body = decode_json_body(payload, ctx)
    path = ""
    if "response" in body and "did" not in body and "profiles" not in body:
        path = "response"
        body = require_mapping(body["response"], path, ctx)
    if "profiles" in body:
        where = child_path(path, "profiles")
        profiles = require_list(body["profiles"], where, ctx)
        return [_checked_view(view, f"{where}[{i}]", ctx) for i, view in enumerate(profiles)]
    if "did" in body or "handle" in body:
        return [_checked_view(body, path, ctx)]
    raise ctx.error(child_path(path, "profiles"), _missing_list_detail(body))


class _Views:
    """Reads a field from the detailed view first, then from the search view."""

    def __init__(self, views: list[tuple[Mapping, str]], ctx: PayloadContext) -> None:
        self.views = views
        self.ctx = ctx

    def get(self, key: str) -> tuple[Any, str]:
        for view, path in self.views:
            if view.get(key) is not None:
                return view[key], f"{path}.{key}"
        return None, f"{self.views[0][1]}.{key}"

    def mapping(self, key: str) -> tuple[Mapping | None, str]:
        value, path = self.get(key)
        return (None if value is None else require_mapping(value, path, self.ctx)), path


def _created_at(views: _Views, ctx: PayloadContext) -> datetime | None:
    created, path = views.get("createdAt")
    text = read_str(created, path, ctx)
    if text is not None:
        parsed = parse_timestamp_text(text)
        if parsed is not None:
            return parsed
    return read_timestamp(*views.get("indexedAt"), ctx)


def _possibly_sensitive(views: _Views, ctx: PayloadContext) -> bool | None:
    labels, path = views.get("labels")
    if labels is None:
        return None
    for i, label in enumerate(require_list(labels, path, ctx)):
        label = require_mapping(label, f"{path}[{i}]", ctx)
        value = read_str(label.get("val"), f"{path}[{i}].val", ctx)
        if value in SENSITIVE_LABELS and label.get("neg") is not True:
            return True
    return False


def _verified(views: _Views, ctx: PayloadContext) -> bool | None:
    verification, path = views.mapping("verification")
    if verification is None:
        return None
    return read_str(verification.get("verifiedStatus"), f"{path}.verifiedStatus", ctx) == "valid"


def _can_dm(views: _Views, ctx: PayloadContext) -> bool | None:
    associated, path = views.mapping("associated")
    if associated is None or associated.get("chat") is None:
        return None
    chat = require_mapping(associated["chat"], f"{path}.chat", ctx)
    allow = read_str(chat.get("allowIncoming"), f"{path}.chat.allowIncoming", ctx)
    return _CHAT_CAN_DM.get(allow) if allow is not None else None


def _row(actor: Mapping, actor_path: str, detail: tuple[Mapping, str] | None, ctx: PayloadContext) -> dict:
    views = _Views([detail, (actor, actor_path)] if detail else [(actor, actor_path)], ctx)
    handle = require_str(*views.get("handle"), ctx)
    display_name = read_str(*views.get("displayName"), ctx)

    def count(key: str) -> int | None:
        # Only profileViewDetailed carries counts; without it they are unknown, not zero.
        if detail is None:
            return None
        view, path = detail
        return read_int(view.get(key), f"{path}.{key}", ctx)

    verified = _verified(views, ctx)
    row = {
        "platform": PLATFORM,
        "platform_id": actor["did"],
        "handle": handle,
        "name": display_name if display_name and display_name.strip() else handle,
        "bio": normalize_string(read_str(*views.get("description"), ctx)),
        "location": None,
        "category": None,
        "created_at": _created_at(views, ctx),
        "followers": count("followersCount"),
        "following": count("followsCount"),
        "statuses": count("postsCount"),
        "favorites": None,
        "listed": None,
        "media": None,
        "verified": verified,
        "blue_verified": verified,
        "default_profile": None,
        "default_profile_image": not read_str(*views.get("avatar"), ctx),
        "possibly_sensitive": _possibly_sensitive(views, ctx),
        "can_dm": _can_dm(views, ctx),
        "protected": None,
        "source_shape": PLATFORM,
    }
    return {column: row[column] for column in _COLUMN_ORDER}


def merge_bluesky(actors: list[Mapping], detailed: list[Mapping], keyword: str) -> list[dict]:
    """One ``PROFILE_COLUMNS`` row per distinct actor (by DID, first wins), in search order.

    ``detailed`` (getProfiles views) enriches the actor with the same DID: its counts are used
    and its fields win over the search view's. A detailed view whose DID is not among
    ``actors`` is ignored, so hydration can never add an account to a search page; to
    normalize getProfiles alone, pass the same list as both arguments. Error paths read
    ``actors[i]...`` / ``profiles[j]...`` by position in the given lists.
    """
    ctx = PayloadContext(PLATFORM, keyword)
    by_did: dict[str, tuple[dict, str]] = {}
    for j, view in enumerate(detailed):
        path = f"profiles[{j}]"
        checked = _checked_view(view, path, ctx)
        by_did.setdefault(checked["did"], (checked, path))
    rows: dict[str, dict] = {}
    for i, actor in enumerate(actors):
        path = f"actors[{i}]"
        checked = _checked_view(actor, path, ctx)
        if checked["did"] not in rows:
            rows[checked["did"]] = _row(checked, path, by_did.get(checked["did"]), ctx)
    return list(rows.values())
