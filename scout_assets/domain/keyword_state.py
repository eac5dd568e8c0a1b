"""Where each keyword stands on a platform, derived from the raw-search ledger alone.

The ledger (``raw_searches``) is the single source of truth for pagination, exactly as the
predecessor's ``api_search_usage``: the highest page stored for a keyword carries the cursor
of the next page, and a highest page without a cursor means the keyword is exhausted. A
highest page with a ``stop_reason`` (a cursor that repeated: following it would loop for
ever) means the keyword is *stopped*: not exhausted, but never asked again either.
Deriving state instead of storing a mutable cursor is what lets any past day's keyword
state be rebuilt, and lets two runs on the same day continue where the last one stopped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from scout_assets.domain.keyword_file import KeywordEntry

LEDGER_COLUMNS = {
    "keyword": pl.String,
    "page": pl.Int64,
    "cursor_in": pl.String,
    "cursor_out": pl.String,
    "stop_reason": pl.String,
    "fetched_at": pl.Datetime("us"),
}
# Ledgers read before the stop column existed (and hand-made test ledgers) may lack these.
_OPTIONAL_LEDGER_COLUMNS = ("cursor_in", "stop_reason")


@dataclass(frozen=True)
class SearchTarget:
    """The next page to ask for: which keyword, with which cursor, as which page number."""

    keyword: str
    cursor: str | None
    page: int


FEEDBACK_COLUMNS = {
    "keyword": pl.String,
    "yield_exhausted": pl.Boolean,
    "label_invalid": pl.Boolean,
    "yield_per_call": pl.Float64,
    "feedback_reason": pl.String,
}


def keyword_states(
    entries: Iterable[KeywordEntry], platform: str, ledger: pl.DataFrame, feedback: pl.DataFrame | None = None
) -> pl.DataFrame:
    """One row per keyword of ``platform`` with its pagination state.

    ``ledger`` holds the stored pages to consider (``LEDGER_COLUMNS``; cursor_in and
    stop_reason may be absent); pass only pages up to the as-of time of the state you want.
    ``stopped`` is true when the last page carries a stop reason. ``feedback``
    (from ``keyword_stats.feedback``) adds the yield and label rules: a keyword whose pages
    stopped yielding new profiles is exhausted, one whose labels are rarely true is invalid.
    """
    if feedback is None:
        feedback = pl.DataFrame(schema=FEEDBACK_COLUMNS)
    feedback = feedback.select(list(FEEDBACK_COLUMNS)).cast(FEEDBACK_COLUMNS)
    listed = pl.DataFrame(
        [
            {
                "platform": platform,
                "keyword": entry.keyword,
                "tags": " ".join(entry.tags),
                "source_line": entry.line,
                "enabled": entry.enabled,
            }
            for entry in entries
            if platform in entry.platforms
        ],
        schema={
            "platform": pl.String,
            "keyword": pl.String,
            "tags": pl.String,
            "source_line": pl.Int64,
            "enabled": pl.Boolean,
        },
    )
    pages = _ledger(ledger)
    latest = (
        pages.sort(["keyword", "page", "fetched_at"])
        .group_by("keyword", maintain_order=True)
        .agg(
            pl.col("page").max().alias("last_page"),
            pl.col("cursor_out").last().alias("next_cursor"),
            pl.col("stop_reason").last().alias("stop_reason"),
            pl.col("fetched_at").max().alias("last_searched_at"),
            pl.col("page").n_unique().cast(pl.Int64).alias("pages_searched"),
        )
    )
    searched = pl.col("last_page").is_not_null()
    stopped = searched & pl.col("stop_reason").is_not_null()
    cursor_exhausted = searched & pl.col("next_cursor").is_null() & ~stopped
    return (
        listed.join(latest, on="keyword", how="left")
        .join(feedback, on="keyword", how="left")
        .with_columns(
            (cursor_exhausted | pl.col("yield_exhausted").fill_null(False)).alias("exhausted"),
            stopped.fill_null(False).alias("stopped"),
            pl.col("label_invalid").fill_null(False),
            pl.col("pages_searched").fill_null(0),
            pl.when(searched).then(pl.col("last_page") + 1).otherwise(0).cast(pl.Int64).alias("next_page"),
            pl.when(stopped)
            .then(pl.lit(None, pl.String))
            .otherwise(pl.col("next_cursor"))
            .alias("next_cursor"),
        )
        .with_columns(
            (pl.col("enabled") & ~pl.col("exhausted") & ~pl.col("stopped") & ~pl.col("label_invalid")).alias(
                "still_valid"
            ),
            pl.when(~pl.col("enabled"))
            .then(pl.lit("disabled in the keyword file"))
            .when(pl.col("stopped"))
            .then(pl.format("stopped at page {}: {}", pl.col("last_page"), pl.col("stop_reason")))
            .when(cursor_exhausted)
            .then(pl.format("exhausted: page {} returned no cursor", pl.col("last_page")))
            .when(pl.col("feedback_reason").is_not_null())
            .then(pl.col("feedback_reason"))
            .when(searched)
            .then(pl.format("paging: next page {}", pl.col("next_page")))
            .otherwise(pl.lit("never searched"))
            .alias("state_reason"),
        )
        .select(
            "platform",
            "keyword",
            "tags",
            "source_line",
            "enabled",
            "still_valid",
            "exhausted",
            "stopped",
            "next_cursor",
            "next_page",
            "pages_searched",
            "last_searched_at",
            "state_reason",
            "yield_per_call",
        )
        .sort("source_line")
    )


def _ledger(ledger: pl.DataFrame) -> pl.DataFrame:
    """The ledger columns keyword state reads, typed; optional ones absent from ``ledger`` are null."""
    missing = [pl.lit(None).alias(name) for name in _OPTIONAL_LEDGER_COLUMNS if name not in ledger.columns]
    return ledger.with_columns(missing).select(list(LEDGER_COLUMNS)).cast(LEDGER_COLUMNS)


def cursors_seen(ledger: pl.DataFrame) -> dict[str, frozenset[str]]:
    """Every cursor each keyword was already asked with or handed (``cursor_in`` and ``cursor_out``).

    A page whose next cursor is in this set would lead back to a page already fetched: that is a
    repeating cursor, and following it would loop for ever.
    """
    pages = _ledger(ledger)
    cursors = pl.concat(
        [
            pages.select("keyword", pl.col("cursor_in").alias("cursor")),
            pages.select("keyword", pl.col("cursor_out").alias("cursor")),
        ]
    ).drop_nulls()
    grouped = cursors.group_by("keyword").agg(pl.col("cursor").unique())
    return {row["keyword"]: frozenset(row["cursor"]) for row in grouped.iter_rows(named=True)}


def select_targets(states: pl.DataFrame, count: int) -> list[SearchTarget]:
    """Pick up to ``count`` still-valid keywords to search next.

    Never-searched keywords come first (they must be tried to be judged), then the best
    yield per API call over the feedback window, then the ones idle longest; file order
    breaks ties, so the choice is deterministic.
    """
    chosen = (
        states.filter(pl.col("still_valid"))
        .with_columns(pl.col("last_searched_at").is_null().alias("never_searched"))
        .sort(
            ["never_searched", "yield_per_call", "last_searched_at", "source_line"],
            descending=[True, True, False, False],
            nulls_last=[False, True, False, False],
        )
        .head(count)
    )
    return [
        SearchTarget(keyword=row["keyword"], cursor=row["next_cursor"], page=row["next_page"])
        for row in chosen.iter_rows(named=True)
    ]
