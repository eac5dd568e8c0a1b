"""Stored Bluesky pages (a searchActors body and its getProfiles bodies) -> profile rows, column-wise.

The search body is decoded with the ``profileView`` schema, the stored hydration array with the
``{"profiles": [profileViewDetailed...]}`` schema; actors and detailed views are joined by DID
(first view of a DID wins, as in ``bluesky_wire.merge_bluesky``), and every column is read from
the detailed view first, then from the search view. Bare or ``response``-wrapped getProfile
bodies, unreadable views, and anything a reader refers (``columnar_text``) send the page to the
per-row parser.
"""

from __future__ import annotations

import polars as pl

import resources.platforms.columnar_text as read
from resources.platforms.bluesky_wire import _CHAT_CAN_DM, SENSITIVE_LABELS

PLATFORM = "bluesky"

_TEXT = pl.String()
_VIEW_FIELDS: dict[str, pl.DataType] = {
    **dict.fromkeys(
        ("did", "handle", "displayName", "description", "avatar", "createdAt", "indexedAt"), _TEXT
    ),
    "labels": pl.List(pl.Struct({"val": _TEXT, "neg": pl.Boolean()})),
    "verification": pl.Struct({"verifiedStatus": _TEXT}),
    "associated": pl.Struct({"chat": pl.Struct({"allowIncoming": _TEXT})}),
}
_VIEW = pl.Struct(_VIEW_FIELDS)
_DETAILED = pl.Struct(
    _VIEW_FIELDS | dict.fromkeys(("followersCount", "followsCount", "postsCount"), pl.Int64())
)
SEARCH_SCHEMA = pl.Struct({"actors": pl.List(_VIEW), "cursor": pl.String})
HYDRATION_SCHEMA = pl.List(pl.Struct({"profiles": pl.List(_DETAILED)}))
_COUNT_KEYS = {"followers": "followersCount", "following": "followsCount", "statuses": "postsCount"}


def page_needs_reference(raw: pl.Expr) -> pl.Expr:
    """True for raw search or hydration text the columnar reader cannot vouch for before decoding."""
    return read.unusual_escapes(raw).fill_null(False)


def explode_pages(decoded: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """Actors of decoded pages (``search`` and ``hydration`` struct columns, ``page_no``) joined to
    their detailed view (``actor``, ``detail``, ``row_index``), and the page numbers to refer."""
    actors = pl.col("search").struct.field("actors")
    cursor = pl.col("search").struct.field("cursor")
    bodies = pl.col("hydration")
    broken_body = bodies.list.eval(
        pl.element().is_null() | pl.element().struct.field("profiles").is_null()
    ).list.any()
    referred = decoded.filter(
        pl.col("search").is_null()
        | actors.is_null()
        | read.unsafe_in_cursor(cursor)
        | broken_body.fill_null(False)
    )["page_no"]
    kept = decoded.filter(~pl.col("page_no").is_in(referred.implode()))
    details = (
        kept.select("page_no", bodies.alias("body"))
        .explode("body")
        .select("page_no", pl.col("body").struct.field("profiles").alias("detail"))
        .explode("detail")
    )
    bad_detail = details.filter(
        pl.col("detail").is_null()
        | read.identity_problem(pl.col("detail").struct.field("did"))
        | read.identity_problem(pl.col("detail").struct.field("handle"))
    )
    # An empty hydration array explodes to a null body: no detailed view, not a broken one.
    bad_detail = bad_detail.join(_pages_with_views(kept), on="page_no", how="semi")["page_no"]
    details = (
        details.filter(pl.col("detail").is_not_null())
        .with_columns(pl.col("detail").struct.field("did").alias("did"))
        .unique(["page_no", "did"], keep="first", maintain_order=True)
    )
    actor_rows = (
        kept.select("page_no", actors.alias("actor"))
        .explode("actor")
        .with_columns(pl.int_range(pl.len()).over("page_no").alias("row_index"))
        .with_columns(pl.col("actor").struct.field("did").alias("did"))
        .join(
            details.select("page_no", "did", "detail"),
            on=["page_no", "did"],
            how="left",
            maintain_order="left",
        )
    )
    empty = kept.filter(actors.list.len() == 0)["page_no"]
    actor_rows = actor_rows.filter(~pl.col("page_no").is_in(empty.implode()))
    return actor_rows, pl.concat([referred, bad_detail]).unique()


def _pages_with_views(kept: pl.DataFrame) -> pl.DataFrame:
    counts = pl.col("hydration").list.eval(pl.element().struct.field("profiles").list.len()).list.sum()
    return kept.filter(counts.fill_null(0) > 0).select("page_no")


def _either(key: str) -> pl.Expr:
    """The detailed view's value, else the search view's (``_Views.get``)."""
    return pl.coalesce(pl.col("detail").struct.field(key), pl.col("actor").struct.field(key))


def rows(actors: pl.DataFrame) -> pl.DataFrame:
    """Profile columns and a ``refer`` flag for the joined actors of :func:`explode_pages`."""
    actor, detail = pl.col("actor"), pl.col("detail")
    handle = _either("handle")
    display = read.text(_either("displayName"), "name")
    bio = read.text(_either("description"), "bio")
    created, indexed = _either("createdAt"), _either("indexedAt")
    created_read, indexed_read = read.timestamp(created), read.timestamp(indexed)
    counts = {column: read.count(detail.struct.field(key)) for column, key in _COUNT_KEYS.items()}
    verification = _either("verification")
    verified = (
        pl.when(verification.is_null())
        .then(None)
        .otherwise((verification.struct.field("verifiedStatus") == "valid").fill_null(False))
    )
    labels = _either("labels")
    label = pl.element()
    # a label counts unless ``neg`` is the JSON ``true`` (the decoder refuses any other type)
    sensitive = label.struct.field("val").is_in(list(SENSITIVE_LABELS)).fill_null(
        False
    ) & ~label.struct.field("neg").fill_null(False)
    chat = _either("associated").struct.field("chat")
    avatar = _either("avatar")
    refer = pl.any_horizontal(
        actor.is_null(),
        read.identity_problem(actor.struct.field("did")),
        read.identity_problem(actor.struct.field("handle")),
        labels.list.eval(label.is_null()).list.any().fill_null(False),
        display.refer,
        bio.refer,
        created_read.refer,
        created.is_null() & indexed_read.refer,
        *(r.refer for r in counts.values()),
    )
    return actors.with_columns(
        pl.lit(PLATFORM).alias("platform"),
        actor.struct.field("did").alias("platform_id"),
        handle.alias("handle"),
        pl.when(display.value.is_not_null() & (display.value.str.strip_chars() != ""))
        .then(display.value)
        .otherwise(handle)
        .alias("name"),
        read.predecessor_clean(bio.value).alias("bio"),
        pl.lit(None, pl.String).alias("location"),
        pl.lit(None, pl.String).alias("category"),
        pl.when(created.is_not_null())
        .then(created_read.value)
        .otherwise(indexed_read.value)
        .alias("created_at"),
        *(r.value.alias(column) for column, r in counts.items()),
        *(pl.lit(None, pl.Int64).alias(column) for column in ("favorites", "listed", "media")),
        verified.alias("verified"),
        verified.alias("blue_verified"),
        pl.lit(None, pl.Boolean).alias("default_profile"),
        (avatar.is_null() | (avatar == "")).alias("default_profile_image"),
        pl.when(labels.is_null())
        .then(None)
        .otherwise(labels.list.eval(sensitive).list.any())
        .alias("possibly_sensitive"),
        chat.struct.field("allowIncoming")
        .replace_strict(_CHAT_CAN_DM, default=None, return_dtype=pl.Boolean)
        .alias("can_dm"),
        pl.lit(None, pl.Boolean).alias("protected"),
        pl.lit(PLATFORM).alias("source_shape"),
        refer.alias("refer"),
    )
