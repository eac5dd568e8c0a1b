"""A batch of stored raw pages -> profile appearances, column-wise, with the per-row parser as referee.

``columnar_appearances`` returns exactly what ``stored_pages.rowwise_appearances`` returns for the
same pages (same rows in the same order, same types and values, same quarantine entries), at a
fraction of the cost per row:

1. raw text checks (``page_needs_reference``) set aside the few pages whose JSON the decoder
   might read differently from Python (escaped keys, ``{}`` blocks the reference treats as absent);
2. the rest are decoded with an explicit, typed schema per platform by Arrow's JSON reader,
   which refuses what Python would read differently (a value of another type, a duplicated
   key, a lone surrogate); a batch that fails to decode is halved until the failing pages are
   isolated;
3. each column is read by a vectorised reader that flags (``refer``) every value the reference
   would note, refuse or read by a branch not mirrored here;
4. every page with a flagged row, an unusual envelope or a decode failure goes to the per-row
   parser whole, which also words every quarantine entry. A page the columnar path keeps has
   no quarantine entry by construction: the reference would have written none.

Rows are then de-duplicated by id within a page (first wins) and merged with the referred
pages' rows in page order.
"""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pyarrow as pa
import pyarrow.json as pa_json

import resources.platforms.columnar_bluesky as bluesky
import resources.platforms.columnar_twitter as twitter
from resources.platforms.stored_pages import (
    APPEARANCE_SCHEMA,
    QUARANTINE_SCHEMA,
    empty_results,
    rowwise_appearances,
)

_MIN_BLOCK_BYTES = 1 << 22  # Arrow parses blocks in parallel; a page must fit in one block


def columnar_appearances(
    pages: pl.DataFrame, day: date, platform: str, counters: dict[str, int] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every profile appearance in ``pages`` and the ``quarantined_rows`` entries, as the reference
    (``rowwise_appearances``) gives them; see the module docstring for how.

    ``counters``, when given, gets ``pages_columnar`` and ``pages_referred`` added to it, so the
    share of pages the per-row parser still reads is visible in the asset's metadata.
    """
    if platform not in ("twitter", "bluesky"):
        raise ValueError(f"unknown platform {platform!r} for the columnar parser (twitter or bluesky)")
    if pages.height == 0:
        return empty_results()
    numbered = pages.with_row_index("page_no")
    if platform == "twitter":
        rows, referred = _twitter_rows(numbered)
    else:
        rows, referred = _bluesky_rows(numbered)
    if counters is not None:
        counters["pages_referred"] = counters.get("pages_referred", 0) + referred.len()
        counters["pages_columnar"] = counters.get("pages_columnar", 0) + pages.height - referred.len()
    referred_pages = numbered.filter(pl.col("page_no").is_in(referred.implode()))
    kept = rows.filter(~pl.col("page_no").is_in(referred.implode()))
    kept = (
        kept.unique(["page_no", "platform_id"], keep="first", maintain_order=True)
        .with_columns(pl.int_range(pl.len()).over("page_no").cast(pl.Int64).alias("position"))
        .join(
            numbered.select("page_no", "keyword", "request_id", "fetched_at"),
            on="page_no",
            maintain_order="left",
        )
        .with_columns(pl.lit(day, pl.Date).alias("partition_date"))
    )
    reference_rows, held = rowwise_appearances(referred_pages.drop("page_no"), day, platform)
    order = numbered.select("request_id", "page_no")
    merged = pl.concat(
        [
            kept.select("page_no", *APPEARANCE_SCHEMA).cast(APPEARANCE_SCHEMA),
            reference_rows.join(order, on="request_id", maintain_order="left").select(
                "page_no", *APPEARANCE_SCHEMA
            ),
        ]
    ).sort("page_no", "position", maintain_order=True)
    return merged.drop("page_no"), held.cast(QUARANTINE_SCHEMA)


def _twitter_rows(numbered: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    suspect = numbered.filter(twitter.page_needs_reference(pl.col("payload")))["page_no"]
    candidates = numbered.filter(~pl.col("page_no").is_in(suspect.implode())).select("page_no", "payload")
    decoded, failed = decode_isolating(candidates, {"payload": ("body", twitter.PAGE_SCHEMA)})
    users, odd = twitter.explode_pages(decoded)
    rows = twitter.rows(users)
    return rows, _referred(rows, suspect, failed, odd)


def _bluesky_rows(numbered: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    suspect = numbered.filter(
        bluesky.page_needs_reference(pl.col("payload"))
        | bluesky.page_needs_reference(pl.col("hydration_payload"))
    )["page_no"]
    candidates = numbered.filter(~pl.col("page_no").is_in(suspect.implode())).select(
        "page_no", "payload", pl.col("hydration_payload").replace("", None)
    )
    decoded, failed = decode_isolating(
        candidates,
        {
            "payload": ("search", bluesky.SEARCH_SCHEMA),
            "hydration_payload": ("hydration", bluesky.HYDRATION_SCHEMA),
        },
    )
    actors, odd = bluesky.explode_pages(decoded)
    rows = bluesky.rows(actors)
    return rows, _referred(rows, suspect, failed, odd)


def _referred(rows: pl.DataFrame, *page_sets: pl.Series) -> pl.Series:
    flagged = rows.filter(pl.col("refer"))["page_no"]
    return pl.concat([flagged, *(s.cast(flagged.dtype) for s in page_sets)]).unique().sort()


def decode_isolating(
    frame: pl.DataFrame, columns: dict[str, tuple[str, pl.DataType]]
) -> tuple[pl.DataFrame, pl.Series]:
    """``frame`` with each raw JSON column decoded (renamed as given), and the ``page_no`` of the
    rows that do not decode with the schema; a failing batch is halved until the failing rows
    are alone, so one bad page never costs the batch.

    Decoding is Arrow's JSON reader (multi-threaded, and strict: a value of another JSON type
    than the schema says, a duplicated key or a lone surrogate is an error, where polars'
    ``json_decode`` would coerce or pick one). Each page is one line ``{"<column>": <raw JSON>,
    ...}``; a page whose text holds a raw line break cannot be one line and is returned as failed.
    """
    if frame.height == 0:
        return _empty_decoded(frame, columns), frame["page_no"].clear()
    line_breaks = pl.any_horizontal(pl.col(raw).str.contains("[\r\n]").fill_null(False) for raw in columns)
    unlineable = frame.filter(line_breaks)
    if unlineable.height:
        decoded, failed = decode_isolating(frame.filter(~line_breaks), columns)
        return decoded, pl.concat([failed, unlineable["page_no"]])
    try:
        return _decoded(frame, columns), frame["page_no"].clear()
    except (pa.ArrowException, ValueError):
        if frame.height == 1:
            return _empty_decoded(frame, columns), frame["page_no"]
    half = frame.height // 2
    first, first_failed = decode_isolating(frame.slice(0, half), columns)
    second, second_failed = decode_isolating(frame.slice(half), columns)
    return pl.concat([first, second]), pl.concat([first_failed, second_failed])


def _decoded(frame: pl.DataFrame, columns: dict[str, tuple[str, pl.DataType]]) -> pl.DataFrame:
    parts: list[pl.Expr] = []
    for i, raw in enumerate(columns):
        parts += [pl.lit(("{" if i == 0 else ",") + json.dumps(raw) + ":"), pl.col(raw).fill_null("null")]
    lines = frame.select(pl.concat_str(*parts, pl.lit("}\n")).alias("line"))["line"]
    table = pa_json.read_json(
        pa.BufferReader(_joined_bytes(lines)),
        read_options=pa_json.ReadOptions(
            block_size=max(_MIN_BLOCK_BYTES, 2 * (lines.str.len_bytes().max() or 0))
        ),
        parse_options=pa_json.ParseOptions(
            explicit_schema=pa.schema(
                [pa.field(raw, _arrow_type(dtype)) for raw, (_, dtype) in columns.items()]
            ),
            unexpected_field_behavior="ignore",
        ),
    )
    if table.num_rows != frame.height:  # e.g. two objects on one line: not one page per line
        raise ValueError(f"{table.num_rows} JSON rows for {frame.height} pages")
    decoded = pl.from_arrow(table)
    assert isinstance(decoded, pl.DataFrame)
    names = {raw: name for raw, (name, _) in columns.items()}
    return decoded.rename(names).with_columns(frame["page_no"]).select("page_no", *names.values())


def _joined_bytes(lines: pl.Series) -> pa.Buffer:
    """The UTF-8 bytes of ``lines`` end to end, straight from the Arrow data buffer (no Python copy)."""
    array = lines.to_arrow(compat_level=pl.CompatLevel.oldest())  # large_string, not a string view
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    array = array.cast(pa.large_string())
    offsets = memoryview(array.buffers()[1]).cast("q")  # int64 offsets of large_string
    start, end = offsets[array.offset], offsets[array.offset + len(array)]
    return array.buffers()[2].slice(start, end - start)


def _empty_decoded(frame: pl.DataFrame, columns: dict[str, tuple[str, pl.DataType]]) -> pl.DataFrame:
    schema = {"page_no": frame.schema["page_no"]} | {name: dtype for name, dtype in columns.values()}
    return pl.DataFrame(schema=schema)


def _arrow_type(dtype: pl.DataType) -> pa.DataType:
    """The Arrow type of a decode schema (the JSON reader takes ``list``, not ``large_list``)."""
    if isinstance(dtype, pl.Struct):
        return pa.struct([pa.field(field.name, _arrow_type(field.dtype)) for field in dtype.fields])
    if isinstance(dtype, pl.List):
        return pa.list_(_arrow_type(dtype.inner))
    return {pl.String: pa.string(), pl.Int64: pa.int64(), pl.Boolean: pa.bool_()}[dtype.base_type()]
