"""A batch of stored raw pages -> profile appearances and quarantine entries, one row at a time.

This is the reference path: every page goes through ``raw_pages.profiles_from_page`` (the same
parsers the clients run on a fresh page), so it decides what a stored page means and words every
error. The columnar path (``columnar.py``) must produce exactly what this produces, and hands it
every page it cannot take. Both build frames with :data:`APPEARANCE_SCHEMA` and the
``quarantined_rows`` schema, so their outputs compare with ``DataFrame.equals``.

``pages`` holds ``request_id, keyword, page, payload, hydration_payload, fetched_at`` of one
day x platform, in the order the day is read (``fetched_at, request_id``).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from resources.platforms.quarantine import PAGE, PAGE_INDEX, ParsedRows, quarantine
from resources.platforms.raw_pages import profiles_from_page
from scout_contract.errors import PayloadError
from scout_contract.tables import APPEARANCE_COLUMNS, QUARANTINED_ROWS, polars_schema

PAGE_COLUMNS = ("request_id", "keyword", "page", "payload", "hydration_payload", "fetched_at")
# One appearance: the profile row plus where and when it was seen (the ``page_profiles`` table).
APPEARANCE_SCHEMA = polars_schema(APPEARANCE_COLUMNS)
QUARANTINE_SCHEMA = polars_schema(QUARANTINED_ROWS.columns)


def empty_results() -> tuple[pl.DataFrame, pl.DataFrame]:
    """No appearances and no quarantine entries, typed."""
    return pl.DataFrame(schema=APPEARANCE_SCHEMA), pl.DataFrame(schema=QUARANTINE_SCHEMA)


def rowwise_appearances(pages: pl.DataFrame, day: date, platform: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every profile appearance in ``pages`` (page order, then position in the page) and the
    ``quarantined_rows`` entries of what could not be read: one page at a time, one row at a time."""
    rows: list[dict] = []
    held: list[dict] = []
    for page in pages.iter_rows(named=True):
        source = {
            "partition_date": day,
            "platform": platform,
            "keyword": page["keyword"],
            "request_id": page["request_id"],
            "page": page["page"],
        }
        try:
            parsed = profiles_from_page(platform, page["keyword"], page["payload"], page["hydration_payload"])
        except PayloadError as exc:  # a stored page that is not a page: it costs itself, not the day
            parsed = ParsedRows([], (quarantine(PAGE_INDEX, exc.field, exc.detail, page["payload"], PAGE),))
        held.extend(
            {
                **source,
                "row_index": entry.row_index,
                "field": entry.field,
                "severity": entry.severity,
                "reason": entry.reason,
                "raw_row": entry.raw_row,
            }
            for entry in parsed.quarantined
        )
        for position, profile in enumerate(parsed.rows):
            rows.append(
                {
                    **profile,
                    "keyword": page["keyword"],
                    "request_id": page["request_id"],
                    "fetched_at": page["fetched_at"],
                    "position": position,
                    "partition_date": day,
                }
            )
    return (
        pl.DataFrame(rows, schema=APPEARANCE_SCHEMA),
        pl.DataFrame(held, schema=QUARANTINE_SCHEMA),
    )
