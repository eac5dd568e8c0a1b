"""What the Review page reads and the one thing the dashboard writes: a person's review.

Every other page reads the dbt marts only, cached for a minute. The Review page cannot: a verdict
must take its account off the queue at once, so it reads ``mart_review_queue`` anti-joined with
the live ``reviews`` table, and each model's label from ``llm_labels``, without a cache. Those two
tables live in the warehouse's default schema (DuckDB ``main``, PostgreSQL ``public``), where the
assets write them. A review is appended through the warehouse's own write path
(``WarehouseTransaction.append``, with its frame checks), never with SQL written here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from resources.warehouse.location import WarehouseLocation
from resources.warehouse.operations import WarehouseClient
from scout_contract.reviews import review_queue_sql
from scout_contract.tables import REVIEWS, polars_schema
from scout_leads.reader import MartReader
from scout_leads.sql import Query, check_schema

# How long a write waits for a DuckDB file another process (a Dagster run, dbt) is writing.
WRITE_LOCK_WAIT_SECONDS = 15.0
QUEUE_PAGE = 20  # profiles fetched per rerun: the one shown and what comes after it


def queue_audiences(schema: str) -> Query:
    """Audiences with a review queue, the longest queue first."""
    return Query(
        f"select audience, count(*) as queued from {check_schema(schema)}.mart_review_queue "
        "group by audience order by queued desc, audience"
    )


def review_queue(schema: str, audience: str, skipped: Sequence[str] = (), limit: int = QUEUE_PAGE) -> Query:
    """The next profiles to review (not reviewed, not skipped), most valuable first."""
    return Query(review_queue_sql(check_schema(schema), limit, len(skipped)), (audience, *skipped))


def queue_size(schema: str, audience: str, skipped: Sequence[str] = ()) -> Query:
    """How many profiles are left to review for ``audience`` (skipped ones not counted)."""
    inner = review_queue_sql(check_schema(schema), None, len(skipped))
    return Query(f"select count(*) as left_to_review from ({inner}) as queue", (audience, *skipped))


def model_labels(platform: str, platform_id: str, audience: str) -> Query:
    """Every model's latest label of one account for one audience (with the local labeler's p_true)."""
    return Query(
        "select model, label, reason, p_true, deferred, labeled_at, audience_hash from llm_labels "
        "where platform = $1 and platform_id = $2 and audience = $3 order by model, labeled_at desc",
        (platform, platform_id, audience),
    )


def writer(location: WarehouseLocation) -> WarehouseClient:
    """The warehouse for the dashboard's writes (reviews, lead states, exclusions): waits for a writer."""
    return WarehouseClient(location, duckdb_lock_timeout_seconds=WRITE_LOCK_WAIT_SECONDS)


def read_now(location: WarehouseLocation, query: Query) -> pl.DataFrame:
    """Run ``query`` without any cache (``MartsUnavailable`` says why it cannot be read)."""
    return MartReader(location).read(query)


def ensure_tables(location: WarehouseLocation) -> list[str]:
    """Create the tables a warehouse older than the ``reviews`` table lacks (what every asset run does)."""
    return writer(location).ensure_schema()


def record_review(location: WarehouseLocation, row: dict[str, Any]) -> int:
    """Append one ``reviews`` row (built by ``scout_contract.reviews.review_row``); return rows added."""
    frame = pl.DataFrame([row], schema=polars_schema(REVIEWS.columns))
    return writer(location).append(REVIEWS.name, frame)
