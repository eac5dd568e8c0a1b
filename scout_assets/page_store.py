"""Store fetched pages: verbatim in ``raw_searches``, and their rows parsed once in ``page_profiles``.

Decoding a page's JSON is the dearest step between the API and the scores (a sandbox-shaped X
user is 1.6 kB of JSON; docs/performance.md). Done when the page arrives, it costs well under a
millisecond beside a request that took hundreds, and it is already paid for: the client read the
same page to find its cursor. Re-deriving a day then reads typed rows, not JSON. The verbatim
page stays the source of truth: a page whose parse left any quarantine entry gets no typed rows
and no ``parser_version``, and a later parser (``parser_version.py``) ignores the typed rows of
an earlier one; both are parsed from the payload by ``profiles``, exactly as before.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from resources.platforms.columnar import columnar_appearances
from resources.platforms.parser_version import PARSER_VERSION
from resources.platforms.stored_pages import PAGE_COLUMNS
from resources.warehouse.transaction import WarehouseTransaction


def append_pages(tx: WarehouseTransaction, pages: pl.DataFrame, day: date, platform: str) -> int:
    """Append ``pages`` (``raw_searches`` rows of one day x platform) and the rows of each page
    the parser read without a quarantine entry; return how many pages were added.

    Both tables are ledgers keyed by request (and position): appending the same pages again
    adds nothing. The parse is the one ``profiles`` runs, so the typed rows are what a
    re-derivation from the payload would give (tests/test_page_store.py).
    """
    if not pages.height:
        return 0
    appearances, held = columnar_appearances(pages.select(PAGE_COLUMNS), day, platform)
    clean = ~pl.col("request_id").is_in(held["request_id"].unique().implode())
    stamped = pages.with_columns(
        pl.when(clean).then(pl.lit(PARSER_VERSION)).otherwise(pl.lit(None, pl.String)).alias("parser_version")
    )
    added = tx.append("raw_searches", stamped)
    tx.append(
        "page_profiles",
        appearances.filter(clean).with_columns(pl.lit(PARSER_VERSION).alias("parser_version")),
    )
    return added
