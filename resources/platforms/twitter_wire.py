"""X/Twitter responses -> normalized profile rows (``PROFILE_COLUMNS``).

One X "User" object has had three wire shapes (fixtures/README "Twitter field mapping"):

- ``legacy`` (until 2025): everything under ``legacy.*``;
- ``transitional`` (2026-05..07): ``core{screen_name,name,created_at}``, ``location``,
  ``dm_permissions``, ``privacy``, ``verification``, ``profile_bio`` at the top, while ``legacy``
  still holds the counts, the description and ``default_profile(_image)``;
- ``core`` (2026-08, newest): no ``legacy`` at all; counts in ``relationship_counts``,
  ``tweet_counts`` and ``action_counts``; ``listed_count`` and ``default_profile(_image)`` are gone.

Every column is read from its newest location first and then from the old one (the legacy
location first for a legacy-shaped user, so errors name the path that shape really uses). A
column that a shape does not carry is ``None``, never a guessed default, so HAS can tell
"unknown" from "false/zero".

Envelopes accepted by :func:`parse_twitter_page`: the RapidAPI people search
``{"data": [User...], "cursor": ...}``, GraphQL ``SearchTimeline`` (tweet authors, ``TimelineUser``
items and "People" modules; the ``Bottom`` cursor entry gives the next cursor), GraphQL
``UserByScreenName`` ``{"data": {"user": {"result": User}}}`` and the RapidAPI user detail
``{"user": {"result": User}}``. ``UserUnavailable`` results (suspended accounts) and tweet
tombstones carry no profile and are skipped.

Quarantine rows, not pages (``quarantine.py``): a user, or a timeline entry, that lacks a
required field or has the wrong structure is quarantined with its path and reason while the
other users are kept; a value that cannot be read is ``None`` with a field note
(``row_reader.py``); text is cleaned once, here (``text.py``). Only an envelope that is not a
page (not JSON, no list of users, a bad cursor) raises ``PayloadError``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from resources.platforms.payload import (
    child_path,
    decode_json_body,
    describe,
    normalize_string,
    read_cursor,
    require_identity,
    require_list,
    require_mapping,
)
from resources.platforms.quarantine import (
    ParsedRows,
    Quarantined,
    Unfound,
    read_rows,
    require_a_readable_row,
)
from resources.platforms.row_reader import RowReader
from scout_contract.errors import PayloadContext, PayloadError
from scout_contract.tables import PROFILE_COLUMNS

PLATFORM = "twitter"

# column -> (location in the transitional/newest shape, location in the legacy shape)
_LOCATIONS: dict[str, tuple[tuple[str, ...] | None, tuple[str, ...]]] = {
    "handle": (("core", "screen_name"), ("legacy", "screen_name")),
    "name": (("core", "name"), ("legacy", "name")),
    "created_at": (("core", "created_at"), ("legacy", "created_at")),
    "bio": (("profile_bio", "description"), ("legacy", "description")),
    "location": (("location", "location"), ("legacy", "location")),
    "followers": (("relationship_counts", "followers"), ("legacy", "followers_count")),
    "following": (("relationship_counts", "following"), ("legacy", "friends_count")),
    "statuses": (("tweet_counts", "tweets"), ("legacy", "statuses_count")),
    "favorites": (("action_counts", "favorites_count"), ("legacy", "favourites_count")),
    "listed": (None, ("legacy", "listed_count")),
    "media": (("tweet_counts", "media_tweets"), ("legacy", "media_count")),
    "verified": (("verification", "verified"), ("legacy", "verified")),
    "default_profile": (None, ("legacy", "default_profile")),
    "default_profile_image": (None, ("legacy", "default_profile_image")),
    "possibly_sensitive": (("possibly_sensitive",), ("legacy", "possibly_sensitive")),
    "can_dm": (("dm_permissions", "can_dm"), ("legacy", "can_dm")),
    "protected": (("privacy", "protected"), ("legacy", "protected")),
    "avatar": (("avatar", "image_url"), ("legacy", "profile_image_url_https")),
}
_COUNTS = ("followers", "following", "statuses", "favorites", "listed", "media")
_FLAGS = ("verified", "default_profile", "possibly_sensitive", "can_dm", "protected")
_COLUMN_ORDER = tuple(name for name, _ in PROFILE_COLUMNS)
_NOT_A_USER = {"UserUnavailable"}
_NOT_A_TWEET = {"TweetTombstone", "TweetUnavailable"}
_DEFAULT_AVATAR_MARK = "default_profile_images"


# One candidate row of a page: the User object (or an ``Unfound`` stand-in) and its path.
_Candidate = tuple[Any, str]


@dataclass(frozen=True)
class TwitterPage:
    """One search page: normalized rows (deduplicated by id, first wins), the next cursor, and
    the quarantine entries of the rows and values that could not be read."""

    users: list[dict]
    cursor: str | None
    quarantined: tuple[Quarantined, ...] = ()


def _dig(user: Mapping, path: str, keys: tuple[str, ...], ctx: PayloadContext) -> tuple[Any, str]:
    """The value at ``keys`` under ``user`` (``None`` if any level is absent) and its path."""
    node: Any = user
    here = path
    for key in keys:
        if node is None:
            break
        if not isinstance(node, Mapping):
            raise ctx.error(here, f"must be an object, got {describe(node)}")
        node = node.get(key)
        here = child_path(here, key)
    return node, child_path(path, ".".join(keys))


def _lookup(user: Mapping, path: str, column: str, shape: str, ctx: PayloadContext) -> tuple[Any, str]:
    """First non-null value for ``column`` and the path it came from (or would have)."""
    newer, older = _LOCATIONS[column]
    candidates = [older] if newer is None else [older, newer] if shape == "legacy" else [newer, older]
    first_path = None
    for keys in candidates:
        value, where = _dig(user, path, keys, ctx)
        if value is not None:
            return value, where
        first_path = first_path or where
    return None, first_path or path


def _source_shape(user: Mapping, path: str, ctx: PayloadContext) -> str:
    legacy = user.get("legacy")
    if legacy is not None:
        require_mapping(legacy, child_path(path, "legacy"), ctx)
    core = user.get("core")
    if core is not None:
        require_mapping(core, child_path(path, "core"), ctx)
    if not legacy and not core:
        raise ctx.error(path or "<body>", "has neither a `legacy` nor a `core` block with the profile")
    # A user-level "core" block only exists since the 2026 shapes; "legacy" next to it means
    # the transitional shape that still keeps the counts there.
    if core:
        return "transitional" if legacy else "core"
    return "legacy"


def _platform_id(user: Mapping, path: str, ctx: PayloadContext) -> str:
    value = user.get("rest_id")
    # Ids are strings on the wire; an integer id (some proxies re-encode) is the same id.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return require_identity(value, child_path(path, "rest_id"), ctx)


def _category(user: Mapping, path: str, ctx: PayloadContext, reader: RowReader) -> str | None:
    try:
        categories, where = _dig(user, path, ("professional", "category"), ctx)
        if categories is None:
            return None
        categories = require_list(categories, where, ctx)
        if not categories:
            return None
        first = require_mapping(categories[0], f"{where}[0]", ctx)
    except PayloadError as error:
        reader.unreadable(error)
        return None
    return normalize_string(reader.text(first.get("name"), f"{where}[0].name", "category"))


def _default_profile_image(
    user: Mapping, path: str, shape: str, ctx: PayloadContext, reader: RowReader
) -> bool | None:
    """The flag when X sends it; otherwise derived from the avatar URL.

    The newest shape dropped ``default_profile_image``. X serves the egg/silhouette from
    ``.../sticky/default_profile_images/...``, so an avatar URL containing
    ``default_profile_images`` means the default image. Without any avatar URL it is unknown.
    """
    flag = reader.flag(*_lookup(user, path, "default_profile_image", shape, ctx))
    if flag is not None:
        return flag
    avatar = reader.string(*_lookup(user, path, "avatar", shape, ctx))
    if avatar is None:
        return None
    return _DEFAULT_AVATAR_MARK in avatar


def parse_twitter_user(
    user: Mapping, keyword: str, path: str = "user", notes: dict[str, str] | None = None
) -> dict:
    """One X User object (any of the three shapes) as a ``PROFILE_COLUMNS`` row.

    Required: an object with ``rest_id``, a screen name and a ``legacy`` or ``core`` block;
    without them the row raises ``PayloadError`` (its page quarantines it). Everything else may
    be absent (``None``) and unknown keys are ignored; a value that cannot be read is ``None``
    with a reason in ``notes`` (field path -> reason). Text is cleaned by ``text.clean_text``;
    bio, location and category then go through ``normalize_string``; ``name`` is ``""`` when
    missing.
    """
    ctx = PayloadContext(PLATFORM, keyword)
    reader = RowReader(ctx, notes)
    user = require_mapping(user, path or "<body>", ctx)
    shape = _source_shape(user, path, ctx)
    platform_id = _platform_id(user, path, ctx)

    def get(column: str) -> tuple[Any, str]:
        try:
            return _lookup(user, path, column, shape, ctx)
        except PayloadError as error:  # a block on the way is not an object: the column is unknown
            reader.unreadable(error)
            return None, error.field

    row: dict[str, Any] = {
        "platform": PLATFORM,
        "platform_id": platform_id,
        "handle": require_identity(*_lookup(user, path, "handle", shape, ctx), ctx),
        "name": reader.text(*get("name"), "name") or "",
        "bio": normalize_string(reader.text(*get("bio"), "bio")),
        "location": normalize_string(reader.text(*get("location"), "location")),
        "category": _category(user, path, ctx, reader),
        "created_at": reader.timestamp(*get("created_at")),
    }
    for column in _COUNTS:
        row[column] = reader.count(*get(column))
    for column in _FLAGS:
        row[column] = reader.flag(*get(column))
    row["blue_verified"] = reader.flag(user.get("is_blue_verified"), child_path(path, "is_blue_verified"))
    row["default_profile_image"] = _default_profile_image(user, path, shape, ctx, reader)
    row["source_shape"] = shape
    return {column: row[column] for column in _COLUMN_ORDER}


def _is_unavailable(result: Any) -> bool:
    return isinstance(result, Mapping) and result.get("__typename") in _NOT_A_USER


def _rows(found: Iterator[_Candidate], keyword: str) -> ParsedRows:
    """Each candidate read as a row, skipped (unavailable) or quarantined."""

    def read(result: Any, where: str, notes: dict[str, str]) -> dict | None:
        if _is_unavailable(result):
            return None
        return parse_twitter_user(result, keyword, where, notes)

    return read_rows(found, read)


def _page(found: Iterator[_Candidate], keyword: str, cursor: str | None) -> TwitterPage:
    parsed = _rows(found, keyword)
    return TwitterPage(users=parsed.rows, cursor=cursor, quarantined=parsed.quarantined)


def _wrapped_user(wrapper: Any, path: str, ctx: PayloadContext, *, empty_is_transient: bool):
    """The User inside ``{"result": User}``; ``None`` when the account was not found."""
    wrapper = require_mapping(wrapper, path, ctx)
    result = wrapper.get("result")
    if result is None:
        if empty_is_transient:
            # RapidAPI answers {"user": {}} when it is overloaded (REFERENCE §3.1): retry, not "gone".
            raise ctx.error(
                child_path(path, "result"), "is missing (the API's transient empty answer; retry)"
            )
        return None
    return None if _is_unavailable(result) else result


def _timeline_item_users(item: Any, path: str, ctx: PayloadContext) -> Iterator[_Candidate]:
    item = require_mapping(item, path, ctx)
    if "user_results" in item:
        where = child_path(path, "user_results")
        result = require_mapping(item["user_results"], where, ctx).get("result")
        yield require_mapping(result, child_path(where, "result"), ctx), child_path(where, "result")
    elif "tweet_results" in item:
        where = child_path(path, "tweet_results")
        results = require_mapping(item["tweet_results"], where, ctx)
        where = child_path(where, "result")
        tweet = require_mapping(results.get("result"), where, ctx)
        if tweet.get("__typename") == "TweetWithVisibilityResults":
            where = child_path(where, "tweet")
            tweet = require_mapping(tweet.get("tweet"), where, ctx)
        if tweet.get("__typename") in _NOT_A_TWEET:
            return
        where = child_path(where, "core.user_results")
        results = require_mapping(_dig(tweet, "", ("core", "user_results"), ctx)[0], where, ctx)
        yield (
            require_mapping(results.get("result"), child_path(where, "result"), ctx),
            child_path(where, "result"),
        )


class _Timeline:
    """Walks SearchTimeline instructions, collecting users and the Bottom cursor.

    An entry (or a module item) whose user cannot be located is one ``Unfound`` candidate: it
    is quarantined like an unreadable user, and the walk goes on.
    """

    def __init__(self, ctx: PayloadContext) -> None:
        self.ctx = ctx
        self.cursor: str | None = None

    def entries(self, instruction: Mapping, path: str) -> Iterator[_Candidate]:
        for key in ("entries", "moduleItems"):
            if key in instruction:
                for i, entry in enumerate(require_list(instruction[key], child_path(path, key), self.ctx)):
                    yield from self.entry(entry, f"{path}.{key}[{i}]")
        if "entry" in instruction:  # TimelineReplaceEntry / TimelinePinEntry
            yield from self.entry(instruction["entry"], child_path(path, "entry"))

    def entry(self, entry: Any, path: str) -> Iterator[_Candidate]:
        try:
            found = list(self._entry_users(entry, path))
        except PayloadError as error:
            found = [(Unfound(error, entry), path)]
        yield from found

    def _entry_users(self, entry: Any, path: str) -> Iterator[_Candidate]:
        entry = require_mapping(entry, path, self.ctx)
        key = "content" if "content" in entry else "item"
        content = require_mapping(entry.get(key), child_path(path, key), self.ctx)
        path = child_path(path, key)
        for node, where in ((content, path), (content.get("itemContent"), child_path(path, "itemContent"))):
            if isinstance(node, Mapping) and node.get("cursorType") == "Bottom":
                self.cursor = read_cursor(node.get("value"), child_path(where, "value"), self.ctx)
        if "itemContent" in content:
            yield from _timeline_item_users(content["itemContent"], child_path(path, "itemContent"), self.ctx)
        if "items" in content:  # a TimelineTimelineModule such as the "People" carousel
            for i, item in enumerate(require_list(content["items"], child_path(path, "items"), self.ctx)):
                yield from self.entry(item, f"{path}.items[{i}]")


def _parse_timeline(body: Mapping, keyword: str, ctx: PayloadContext) -> TwitterPage:
    node: Mapping = body
    path = ""
    for key in ("data", "search_by_raw_query", "search_timeline", "timeline"):
        path = child_path(path, key)
        node = require_mapping(node.get(key), path, ctx)
    path = child_path(path, "instructions")
    walker = _Timeline(ctx)
    found: list[_Candidate] = []
    for i, instruction in enumerate(require_list(node.get("instructions"), path, ctx)):
        where = f"{path}[{i}]"
        found.extend(walker.entries(require_mapping(instruction, where, ctx), where))
    return _page(iter(found), keyword, walker.cursor)


def _missing_data_detail(body: Mapping) -> str:
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        message = str(errors[0].get("message", ""))[:120]
        return f"is missing; the API reported an error: {message!r}"
    keys = sorted(str(k) for k in body)[:8]
    return f"is missing (top-level keys: {keys})"


def parse_twitter_page(
    payload: Mapping | str | bytes, keyword: str, *, fail_if_no_row_readable: bool = False
) -> TwitterPage:
    """Every profile in one X response page, with the cursor for the next page.

    Strings and bytes are JSON-decoded first. For the RapidAPI search, an absent, ``null`` or
    empty ``cursor`` means there is no further page. A SearchTimeline always carries a Bottom
    cursor, even past the last result, so callers stop on a page without users.

    Unreadable users are in ``quarantined``; with ``fail_if_no_row_readable`` (the client's
    rule for a fresh page) a page whose users are all unreadable raises instead.
    """
    ctx = PayloadContext(PLATFORM, keyword)
    page = _parse_envelope(decode_json_body(payload, ctx), keyword, ctx)
    if fail_if_no_row_readable:
        require_a_readable_row(len(page.users), page.quarantined, ctx)
    return page


def _parse_envelope(body: Mapping, keyword: str, ctx: PayloadContext) -> TwitterPage:
    data = body.get("data")
    if data is None:
        if "user" in body:
            user = _wrapped_user(body["user"], "user", ctx, empty_is_transient=True)
            return _page(iter([(user, "user.result")] if user else []), keyword, None)
        raise ctx.error("data", _missing_data_detail(body))
    if isinstance(data, list):
        cursor = read_cursor(body.get("cursor"), "cursor", ctx)
        return _page(((item, f"data[{i}]") for i, item in enumerate(data)), keyword, cursor)
    if not isinstance(data, Mapping):
        raise ctx.error("data", f"must be a list of users, got {describe(data)}")
    if "search_by_raw_query" in data:
        return _parse_timeline(body, keyword, ctx)
    if "user" in data:
        user = _wrapped_user(data["user"], "data.user", ctx, empty_is_transient=False)
        return _page(iter([(user, "data.user.result")] if user else []), keyword, None)
    if not data:  # GraphQL's answer for an unknown screen name
        return TwitterPage(users=[], cursor=None)
    keys = sorted(str(k) for k in data)[:8]
    raise ctx.error(
        "data", f"must be a list of users or a known GraphQL object, got an object with keys {keys}"
    )
