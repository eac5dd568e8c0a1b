"""Stored X people-search pages (``{"data": [User...], "cursor": ...}``) -> profile rows, column-wise.

One explicit schema covers the three User shapes (``twitter_wire``: legacy, transitional,
core), since a page may mix them; each column is then read from the shape's own location first,
as ``twitter_wire._lookup`` does. Only this envelope is taken here; a GraphQL timeline, a user
detail, a suspended account, or anything a reader refers (``columnar_text``) sends the page to
the per-row parser.
"""

from __future__ import annotations

import polars as pl

import resources.platforms.columnar_text as read
from resources.platforms.twitter_wire import _COUNTS, _DEFAULT_AVATAR_MARK, _FLAGS, _LOCATIONS, _NOT_A_USER

PLATFORM = "twitter"

_TEXT, _COUNT, _FLAG = pl.String(), pl.Int64(), pl.Boolean()
_LEGACY = {
    **dict.fromkeys(("screen_name", "name", "created_at", "description", "location"), _TEXT),
    **dict.fromkeys(
        (
            "followers_count",
            "friends_count",
            "statuses_count",
            "favourites_count",
            "listed_count",
            "media_count",
        ),
        _COUNT,
    ),
    **dict.fromkeys(
        ("verified", "default_profile", "default_profile_image", "possibly_sensitive", "can_dm", "protected"),
        _FLAG,
    ),
    "profile_image_url_https": _TEXT,
}
_USER = pl.Struct(
    {
        "__typename": _TEXT,
        "rest_id": _TEXT,
        "is_blue_verified": _FLAG,
        "possibly_sensitive": _FLAG,
        "legacy": pl.Struct(_LEGACY),
        "core": pl.Struct(dict.fromkeys(("screen_name", "name", "created_at"), _TEXT)),
        "profile_bio": pl.Struct({"description": _TEXT}),
        "location": pl.Struct({"location": _TEXT}),
        "relationship_counts": pl.Struct({"followers": _COUNT, "following": _COUNT}),
        "tweet_counts": pl.Struct({"tweets": _COUNT, "media_tweets": _COUNT}),
        "action_counts": pl.Struct({"favorites_count": _COUNT}),
        "verification": pl.Struct({"verified": _FLAG}),
        "dm_permissions": pl.Struct({"can_dm": _FLAG}),
        "privacy": pl.Struct({"protected": _FLAG}),
        "avatar": pl.Struct({"image_url": _TEXT}),
        "professional": pl.Struct({"category": pl.List(pl.Struct({"name": _TEXT}))}),
    }
)
PAGE_SCHEMA = pl.Struct({"data": pl.List(_USER), "cursor": _TEXT})
_BLOCK_KEYS = ("legacy", "core")


def page_needs_reference(payload: pl.Expr) -> pl.Expr:
    """True for raw pages the columnar reader cannot vouch for before decoding them."""
    return read.unusual_escapes(payload) | read.empty_object_under_keys(payload, _BLOCK_KEYS)


def _located(column: str, shape: pl.Expr) -> pl.Expr:
    """The column's value from the shape's own location first, then the other one."""
    newer, older = _LOCATIONS[column]
    older_value = pl.col("user").struct.field(older[0]).struct.field(older[1])
    if newer is None:
        return older_value
    newer_value = pl.col("user").struct.field(newer[0])
    if len(newer) == 2:
        newer_value = newer_value.struct.field(newer[1])
    return (
        pl.when(shape == "legacy")
        .then(pl.coalesce(older_value, newer_value))
        .otherwise(pl.coalesce(newer_value, older_value))
    )


def rows(users: pl.DataFrame) -> pl.DataFrame:
    """Profile columns and a ``refer`` flag for exploded users (a ``user`` struct column).

    ``users`` keeps its other columns (the page keys); dropping duplicates and ordering is the
    caller's business.
    """
    user = pl.col("user")
    legacy, core = user.struct.field("legacy"), user.struct.field("core")
    shape = (
        pl.when(core.is_not_null())
        .then(pl.when(legacy.is_not_null()).then(pl.lit("transitional")).otherwise(pl.lit("core")))
        .when(legacy.is_not_null())
        .then(pl.lit("legacy"))
    )
    frame = users.with_columns(shape.alias("source_shape"))
    shape = pl.col("source_shape")
    handle = _located("handle", shape)
    name = read.text(_located("name", shape), "name")
    bio = read.text(_located("bio", shape), "bio")
    location = read.text(_located("location", shape), "location")
    categories = user.struct.field("professional").struct.field("category")
    category = read.text(categories.list.first().struct.field("name"), "category")
    created_at = read.timestamp(_located("created_at", shape))
    counts = {column: read.count(_located(column, shape)) for column in _COUNTS}
    flags = {column: _located(column, shape) for column in _FLAGS}
    avatar = _located("avatar", shape)
    refer = pl.any_horizontal(
        user.is_null(),
        user.struct.field("__typename").is_in(list(_NOT_A_USER)).fill_null(False),
        shape.is_null(),
        read.identity_problem(user.struct.field("rest_id")),
        read.identity_problem(handle),
        # a first category that is null is a note in the reference
        ((categories.list.len() > 0) & categories.list.first().is_null()).fill_null(False),
        *(r.refer for r in (name, bio, location, category, created_at)),
        *(r.refer for r in counts.values()),
    )
    return frame.with_columns(
        pl.lit(PLATFORM).alias("platform"),
        user.struct.field("rest_id").alias("platform_id"),
        handle.alias("handle"),
        name.value.fill_null("").alias("name"),
        read.predecessor_clean(bio.value).alias("bio"),
        read.predecessor_clean(location.value).alias("location"),
        read.predecessor_clean(category.value).alias("category"),
        created_at.value.alias("created_at"),
        *(r.value.alias(column) for column, r in counts.items()),
        *(value.alias(column) for column, value in flags.items()),
        user.struct.field("is_blue_verified").alias("blue_verified"),
        pl.coalesce(
            _located("default_profile_image", shape), avatar.str.contains(_DEFAULT_AVATAR_MARK, literal=True)
        ).alias("default_profile_image"),
        refer.alias("refer"),
    )


def explode_pages(decoded: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """Users of decoded pages (``body`` struct column, ``page_no``) with their position in the page,
    and the page numbers whose envelope is not a people-search page or whose cursor the
    reference refuses (left to the reference)."""
    data = pl.col("body").struct.field("data")
    cursor = pl.col("body").struct.field("cursor")
    referred = decoded.filter(pl.col("body").is_null() | data.is_null() | read.unsafe_in_cursor(cursor))
    users = (
        decoded.join(referred.select("page_no"), on="page_no", how="anti")
        .with_columns(data.alias("user"))
        .drop("body")
        .explode("user")
        .with_columns(pl.int_range(pl.len()).over("page_no").alias("row_index"))
    )
    return users, referred["page_no"]
