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
  user's own client into their profile record, so a value that is not a date we can represent
  (e.g. year 0) falls back to ``indexedAt``, with a field note.

Quarantine rows, not pages (``quarantine.py``): a view that is not an object or lacks a usable
``did`` or ``handle`` is quarantined with its path and reason while the other actors are kept;
a value that cannot be read is ``None`` with a field note (``row_reader.py``); text is cleaned
once, here (``text.py``). Only an envelope that is not a page raises ``PayloadError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from resources.platforms.payload import (
    child_path,
    decode_json_body,
    normalize_string,
    read_cursor,
    require_identity,
    require_list,
    require_mapping,
)
from resources.platforms.quarantine import (
    ParsedRows,
    Quarantined,
    read_rows,
    require_a_readable_row,
    unreadable_row,
)
from resources.platforms.row_reader import RowReader
from scout_contract.errors import PayloadContext, PayloadError
from scout_contract.tables import PROFILE_COLUMNS

PLATFORM = "bluesky"
SENSITIVE_LABELS = frozenset({"porn", "sexual", "nudity", "graphic-media"})
_CHAT_CAN_DM = {"all": True, "none": False}
_COLUMN_ORDER = tuple(name for name, _ in PROFILE_COLUMNS)


@dataclass(frozen=True)
class BlueskySearchPage:
    """One searchActors page: the readable profileView objects, the opaque next cursor, the
    quarantine entries of the unreadable ones, and each readable actor's position in the body."""

    actors: list[dict]
    cursor: str | None
    quarantined: tuple[Quarantined, ...] = ()
    indexes: tuple[int, ...] | None = None  # None: 0, 1, 2 ... (nothing was quarantined)


@dataclass(frozen=True)
class BlueskyProfiles:
    """The readable profileViewDetailed objects of one getProfiles body, their paths, and the
    quarantine entries of the unreadable ones."""

    views: list[dict]
    quarantined: tuple[Quarantined, ...] = ()
    paths: tuple[str, ...] = ()


def _checked_view(view: Any, path: str, ctx: PayloadContext) -> dict:
    """A profile view as a plain dict, after checking the two keys the lexicon requires."""
    view = require_mapping(view, path or "<body>", ctx)
    require_identity(view.get("did"), child_path(path, "did"), ctx)
    require_identity(view.get("handle"), child_path(path, "handle"), ctx)
    return dict(view)


def _checked_views(
    items: Sequence[Any], paths: Sequence[str], ctx: PayloadContext
) -> tuple[list[dict], list[int], list[Quarantined]]:
    """The readable views with their positions, and a quarantine entry for each other one."""
    views: list[dict] = []
    positions: list[int] = []
    bad: list[Quarantined] = []
    for i, (item, path) in enumerate(zip(items, paths, strict=True)):
        try:
            views.append(_checked_view(item, path, ctx))
            positions.append(i)
        except PayloadError as error:
            bad.append(unreadable_row(i, error, path, item))
    return views, positions, bad


def _missing_list_detail(body: Mapping) -> str:
    if "error" in body:  # an XRPC error body: {"error": "InvalidRequest", "message": "..."}
        message = str(body.get("message", ""))[:120]
        return f"is missing; the API reported {str(body['error'])[:40]!r}: {message!r}"
    return f"is missing (top-level keys: {sorted(str(k) for k in body)[:8]})"


def parse_bluesky_search(
    payload: Mapping | str | bytes, keyword: str, *, fail_if_no_row_readable: bool = False
) -> BlueskySearchPage:
    """The actors and cursor of one ``searchActors`` response.

    The cursor is opaque (``"25"`` today, ``".7::handle"`` in 2023); absent, ``null`` or empty
    means the last page. A page shorter than ``limit`` may still have a cursor. Unreadable
    actors are quarantined; with ``fail_if_no_row_readable`` (the client's rule for a fresh
    page) a page whose actors are all unreadable raises instead.
    """
    ctx = PayloadContext(PLATFORM, keyword)
    body = decode_json_body(payload, ctx)
    if body.get("actors") is None:
        raise ctx.error("actors", _missing_list_detail(body))
    actors = require_list(body["actors"], "actors", ctx)
    cursor = read_cursor(body.get("cursor"), "cursor", ctx)
    views, positions, bad = _checked_views(actors, [f"actors[{i}]" for i in range(len(actors))], ctx)
    if fail_if_no_row_readable:
        require_a_readable_row(len(views), bad, ctx)
    return BlueskySearchPage(
        actors=views, cursor=cursor, quarantined=tuple(bad), indexes=tuple(positions) if bad else None
    )


def parse_bluesky_profiles(
    payload: Mapping | str | bytes, keyword: str, *, fail_if_no_row_readable: bool = False
) -> BlueskyProfiles:
    """The profileViewDetailed objects of a ``getProfiles`` or ``getProfile`` response.

    Accepts ``{"profiles": [...]}``, a bare getProfile object, and either of those under a
    ``{"response": ...}`` wrapper (the shape of the AppView test snapshots in the fixtures).
    Unreadable views are quarantined, or, with ``fail_if_no_row_readable``, fail the body when
    none is readable.
    """
    ctx = PayloadContext(PLATFORM, keyword)
    body = decode_json_body(payload, ctx)
    path = ""
    if "response" in body and "did" not in body and "profiles" not in body:
        path = "response"
        body = require_mapping(body["response"], path, ctx)
    if "profiles" in body:
        where = child_path(path, "profiles")
        items = require_list(body["profiles"], where, ctx)
        paths = [f"{where}[{i}]" for i in range(len(items))]
    elif "did" in body or "handle" in body:
        items, paths = [body], [path]
    else:
        raise ctx.error(child_path(path, "profiles"), _missing_list_detail(body))
    views, positions, bad = _checked_views(items, paths, ctx)
    if fail_if_no_row_readable:
        require_a_readable_row(len(views), bad, ctx)
    return BlueskyProfiles(views=views, quarantined=tuple(bad), paths=tuple(paths[i] for i in positions))


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


def _created_at(views: _Views, reader: RowReader) -> datetime | None:
    created, path = views.get("createdAt")
    if created is not None:
        parsed = reader.timestamp(created, path, outcome="indexedAt used instead")
        if parsed is not None:
            return parsed
    return reader.timestamp(*views.get("indexedAt"))


def _possibly_sensitive(views: _Views, ctx: PayloadContext) -> bool | None:
    labels, path = views.get("labels")
    if labels is None:
        return None
    for i, label in enumerate(require_list(labels, path, ctx)):
        label = require_mapping(label, f"{path}[{i}]", ctx)
        value = label.get("val")
        if isinstance(value, str) and value in SENSITIVE_LABELS and label.get("neg") is not True:
            return True
    return False


def _verified(views: _Views, reader: RowReader) -> bool | None:
    verification, path = views.mapping("verification")
    if verification is None:
        return None
    sent = verification.get("verifiedStatus")
    status = reader.string(sent, f"{path}.verifiedStatus")
    return None if status is None and sent is not None else status == "valid"


def _can_dm(views: _Views, ctx: PayloadContext, reader: RowReader) -> bool | None:
    associated, path = views.mapping("associated")
    if associated is None or associated.get("chat") is None:
        return None
    chat = require_mapping(associated["chat"], f"{path}.chat", ctx)
    allow = reader.string(chat.get("allowIncoming"), f"{path}.chat.allowIncoming")
    return _CHAT_CAN_DM.get(allow) if allow is not None else None


def _default_profile_image(views: _Views, reader: RowReader) -> bool | None:
    value, path = views.get("avatar")
    if value is not None and not isinstance(value, str):
        reader.string(value, path)  # notes the wrong type: unknown rather than "no avatar"
        return None
    return not value


def _flag(read, reader: RowReader, *args) -> bool | None:
    """A flag derived from a nested block: a block of the wrong shape makes it unknown, noted."""
    try:
        return read(*args)
    except PayloadError as error:
        reader.unreadable(error)
        return None


def _row(
    actor: Mapping,
    actor_path: str,
    detail: tuple[Mapping, str] | None,
    ctx: PayloadContext,
    reader: RowReader,
) -> dict:
    views = _Views([detail, (actor, actor_path)] if detail else [(actor, actor_path)], ctx)
    handle = require_identity(*views.get("handle"), ctx)
    display_name = reader.text(*views.get("displayName"), "name")

    def count(key: str) -> int | None:
        # Only profileViewDetailed carries counts; without it they are unknown, not zero.
        if detail is None:
            return None
        view, path = detail
        return reader.count(view.get(key), f"{path}.{key}")

    verified = _flag(_verified, reader, views, reader)
    row = {
        "platform": PLATFORM,
        "platform_id": actor["did"],
        "handle": handle,
        "name": display_name if display_name and display_name.strip() else handle,
        "bio": normalize_string(reader.text(*views.get("description"), "bio")),
        "location": None,
        "category": None,
        "created_at": _created_at(views, reader),
        "followers": count("followersCount"),
        "following": count("followsCount"),
        "statuses": count("postsCount"),
        "favorites": None,
        "listed": None,
        "media": None,
        "verified": verified,
        "blue_verified": verified,
        "default_profile": None,
        "default_profile_image": _default_profile_image(views, reader),
        "possibly_sensitive": _flag(_possibly_sensitive, reader, views, ctx),
        "can_dm": _flag(_can_dm, reader, views, ctx, reader),
        "protected": None,
        "source_shape": PLATFORM,
    }
    return {column: row[column] for column in _COLUMN_ORDER}


def merge_bluesky(
    actors: Sequence[Any],
    detailed: Sequence[Any],
    keyword: str,
    *,
    actor_indexes: Sequence[int] | None = None,
    detail_paths: Sequence[str] | None = None,
) -> ParsedRows:
    """One ``PROFILE_COLUMNS`` row per distinct actor (by DID, first wins), in search order.

    ``detailed`` (getProfiles views) enriches the actor with the same DID: its counts are used
    and its fields win over the search view's. A detailed view whose DID is not among
    ``actors`` is ignored, so hydration can never add an account to a search page; to
    normalize getProfiles alone, pass the same list as both arguments. Paths read
    ``actors[i]...`` / ``profiles[j]...`` by position in the given lists, unless
    ``actor_indexes`` (positions in the search body) and ``detail_paths`` say otherwise.
    Unreadable views are quarantined, unreadable values noted, as everywhere.
    """
    ctx = PayloadContext(PLATFORM, keyword)
    paths = (
        list(detail_paths) if detail_paths is not None else [f"profiles[{j}]" for j in range(len(detailed))]
    )
    views, positions, bad = _checked_views(detailed, paths, ctx)
    by_did: dict[str, tuple[dict, str]] = {}
    for view, position in zip(views, positions, strict=True):
        by_did.setdefault(view["did"], (view, paths[position]))
    indexes = list(actor_indexes) if actor_indexes is not None else list(range(len(actors)))

    def read(actor: Any, path: str, notes: dict[str, str]) -> dict:
        checked = _checked_view(actor, path, ctx)
        return _row(checked, path, by_did.get(checked["did"]), ctx, RowReader(ctx, notes))

    parsed = read_rows(
        ((actor, f"actors[{i}]") for actor, i in zip(actors, indexes, strict=True)), read, indexes
    )
    return ParsedRows(parsed.rows, (*parsed.quarantined, *bad))
