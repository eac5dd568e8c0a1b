"""``raw_searches``: the only asset that calls a platform.

One row is one response page, kept verbatim with the request that produced it (and a copy
in the raw archive: a local folder, or S3 in production); every HTTP attempt goes to the
``api_calls`` usage ledger. Both tables are append-only ledgers: a run
of today's partition *adds* the next pages of the keywords it picks, and never rewrites or
deletes a stored response. A past day cannot be searched again (the platforms answer with
today's data), so materializing a past partition calls nothing and reports what is stored;
everything downstream re-derives from these rows.
"""

from collections.abc import Iterable
from datetime import date, timedelta

import dagster as dg
import polars as pl

from resources.archive import RawArchive
from resources.platforms.bluesky import BlueskySearch
from resources.platforms.search_page import CallRecord, PlatformError, SearchPage
from resources.platforms.twitter import TwitterSearch
from resources.warehouse import Warehouse
from scout_assets.assets.common import INGEST_FRESHNESS, INGEST_GROUP, OWNERS, partition_of
from scout_assets.assets.keywords import stored_feedback, stored_pages
from scout_assets.config_files import ConfigFiles
from scout_assets.domain.keyword_state import SearchTarget, keyword_states, select_targets
from scout_assets.partitions import daily_platform_partitions, today_utc
from scout_contract.errors import PayloadError
from scout_contract.tables import API_CALLS, RAW_SEARCHES, polars_schema


class RawSearchConfig(dg.Config):
    """How much one scheduled run searches (the predecessor: 5-10 keywords, one page each, every 15 min)."""

    keywords_per_run: int = 10
    pages_per_keyword: int = 1
    allow_past_day: bool = False  # for tests that pin a day; real APIs cannot answer for the past


@dg.asset(
    key="raw_searches",
    deps=["keywords"],
    partitions_def=daily_platform_partitions,
    group_name=INGEST_GROUP,
    owners=OWNERS,
    freshness_policy=INGEST_FRESHNESS,
    kinds={"python", "api"},
    pool="platform_api",
    retry_policy=dg.RetryPolicy(
        max_retries=3, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
    ),
    description=__doc__,
)
def raw_searches(
    context: dg.AssetExecutionContext,
    config: RawSearchConfig,
    warehouse: Warehouse,
    twitter: TwitterSearch,
    bluesky: BlueskySearch,
    archive: RawArchive,
    config_files: ConfigFiles,
) -> dg.MaterializeResult:
    day, platform = partition_of(context)
    warehouse.ensure_schema()
    if day != today_utc() and not config.allow_past_day:
        stored = warehouse.read(
            "select count(*) as pages from raw_searches where partition_date = $1 and platform = $2",
            [day, platform],
        )["pages"][0]
        context.log.info(
            f"{day} is past: no API call; {stored} stored pages serve every downstream re-derivation"
        )
        return dg.MaterializeResult(
            metadata={"api_calls": 0, "pages_fetched": 0, "pages_stored_for_day": int(stored)}
        )

    client = twitter if platform == "twitter" else bluesky
    states = keyword_states(
        config_files.keyword_entries(),
        platform,
        stored_pages(warehouse, platform, until=None),
        stored_feedback(warehouse, platform, until=day + timedelta(days=1)),
    )
    targets = select_targets(states, config.keywords_per_run)
    pages, calls, errors = _search(client, targets, config.pages_per_keyword, context)

    # The archive copy goes first: a page is in the warehouse only once it is also archived
    # (local folder by default, S3 in production). Writes there are idempotent per request id.
    for page_no, page in pages:
        archive.put_page(
            platform, day, page.request_id, page.payload, {"keyword": page.keyword, "page": str(page_no)}
        )
        if page.hydration_payload is not None:
            archive.put_page(
                platform,
                day,
                f"{page.request_id}-hydration",
                page.hydration_payload,
                {"keyword": page.keyword, "page": str(page_no)},
            )
    with warehouse.transaction() as tx:
        added_pages = tx.append("raw_searches", _pages_frame(pages, day))
        tx.append("api_calls", _calls_frame(calls, day))

    returned = sum(page.result_count for _, page in pages)
    exhausted = sum(1 for _, page in pages if page.cursor_out is None)
    metadata = {
        "dagster/row_count": added_pages,
        "keywords_searched": len({page.keyword for _, page in pages}),
        "keywords_exhausted_now": exhausted,
        "pages_fetched": len(pages),
        "profiles_returned": returned,
        "api_calls": len(calls),
        "api_errors": sum(1 for call in calls if call.error),
        "search_failures": len(errors),
        "sandbox": client.uses_sandbox,
    }
    if errors:
        # Pages fetched before the failure are stored above; failing now makes the problem
        # visible and lets the retry policy continue from the stored cursors.
        raise dg.Failure(
            description=f"{len(errors)} of {len(targets)} keyword searches on {platform} failed: "
            + "; ".join(errors),
            metadata=metadata,
        )
    return dg.MaterializeResult(metadata=metadata)


def _search(
    client: TwitterSearch | BlueskySearch, targets: list[SearchTarget], pages_per_keyword: int, context
) -> tuple[list[tuple[int, SearchPage]], list[CallRecord], list[str]]:
    """Fetch up to ``pages_per_keyword`` pages per target, numbered; collect every call, keep going past failures."""
    pages: list[tuple[int, SearchPage]] = []
    calls: list[CallRecord] = []
    errors: list[str] = []
    for target in targets:
        cursor, page_no = target.cursor, target.page
        for _ in range(pages_per_keyword):
            try:
                page = client.search(target.keyword, cursor)
            except (PlatformError, PayloadError) as exc:
                calls.extend(getattr(exc, "calls", []) or [])
                errors.append(str(exc))
                context.log.error(str(exc))
                break
            calls.extend(page.calls)
            pages.append((page_no, page))
            if page.cursor_out is None:
                break
            cursor, page_no = page.cursor_out, page_no + 1
    return pages, calls, errors


def _pages_frame(pages: Iterable[tuple[int, SearchPage]], day: date) -> pl.DataFrame:
    rows = [
        {
            "request_id": page.request_id,
            "platform": page.platform,
            "keyword": page.keyword,
            "partition_date": day,
            "page": page_no,
            "cursor_in": page.cursor_in,
            "cursor_out": page.cursor_out,
            "status": page.status,
            "request_url": page.request_url,
            "request_params": page.request_params,
            "payload": page.payload,
            "hydration_payload": page.hydration_payload,
            "result_count": page.result_count,
            "ids_hash": page.ids_hash,
            "fetched_at": page.fetched_at,
        }
        for page_no, page in pages
    ]
    return pl.DataFrame(rows, schema=polars_schema(RAW_SEARCHES.columns))


def _calls_frame(calls: Iterable[CallRecord], day: date) -> pl.DataFrame:
    rows = [
        {
            "call_id": call.call_id,
            "request_id": call.request_id,
            "platform": call.platform,
            "endpoint": call.endpoint,
            "keyword": call.keyword,
            "cursor": call.cursor,
            "attempt": call.attempt,
            "status": call.status,
            "latency_ms": call.latency_ms,
            "result_count": call.result_count,
            "error": call.error,
            "called_at": call.called_at,
            "partition_date": day,
        }
        for call in calls
    ]
    return pl.DataFrame(rows, schema=polars_schema(API_CALLS.columns))
