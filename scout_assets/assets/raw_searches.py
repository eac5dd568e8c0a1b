"""``raw_searches``: the only asset that calls a platform.

One row is one response page, kept verbatim with the request that produced it (and a copy
in the raw archive: a local folder, or S3 in production), with its profile rows parsed once,
typed, in ``page_profiles`` (``scout_assets/page_store.py``); every HTTP attempt goes to the
``api_calls`` usage ledger. Both tables are append-only ledgers: a run
of today's partition *adds* the next pages of the keywords it picks, and never rewrites or
deletes a stored response. A past day cannot be searched again (the platforms answer with
today's data), so materializing a past partition calls nothing and reports what is stored;
everything downstream re-derives from these rows.

Failures cost one keyword, never the run. The platform clients raise only typed errors
(``ErrorKind``) after their own, bounded retries; each is recorded (its attempts in
``api_calls``, with ``error_kind``) and the search goes on with the next keyword. A cursor
the keyword already had (in this run or in the ledger) stops the keyword: the page is stored
with a ``stop_reason`` and the keyword is never asked again; it is not marked exhausted.
This step is never retried (no ``RetryPolicy``): the HTTP client is the one layer that
retries a platform call. It fails (``dg.Failure``, not retryable) only when keywords were
searched and not one page came back; otherwise it succeeds and reports the failures in its
metadata, so the day's derived assets still run on what was fetched.

Budgets (``config/budgets.yaml``, docs/operations.md "Budgets and the cost ledger"): before each
page the run checks that the page's requests fit every cap of the platform (per run, per day,
the plan's monthly quota, in requests and in dollars), and the HTTP client asks the same
allowance before every attempt, retries included, so a run never sends one request past a cap.
At a cap the run stops cleanly: every page fetched is kept, one ``budget_stops`` row records the
cap, the figures and the keywords left, and the next run searches those keywords first. Every
attempt in ``api_calls`` is priced (``cost_usd``, the platform's ``price_per_request_usd``).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import polars as pl

from resources.archive import RawArchive
from resources.platforms.bluesky import BlueskySearch
from resources.platforms.scrub import drop_accounts
from resources.platforms.search_page import CallRecord, PlatformError, SearchPage
from resources.platforms.twitter import TwitterSearch
from resources.warehouse import Warehouse
from scout_assets.assets.common import INGEST_FRESHNESS, INGEST_GROUP, OWNERS, partition_of, run_id_of
from scout_assets.assets.keywords import stored_feedback, stored_pages
from scout_assets.breakers import platform_breaker
from scout_assets.config_files import ConfigFiles
from scout_assets.domain.keyword_file import KeywordEntry
from scout_assets.domain.keyword_state import SearchTarget, cursors_seen, keyword_states, select_targets
from scout_assets.page_store import append_pages
from scout_assets.partitions import daily_platform_partitions, today_utc
from scout_assets.spend.budgets import BudgetsResource
from scout_assets.spend.enforce import (
    BudgetRefusedError,
    PlatformAllowance,
    Refusal,
    record_caps,
    record_stop,
    resume_targets,
)
from scout_assets.spend.usage import utc_naive
from scout_assets.suppression_list import SuppressionList
from scout_contract.tables import API_CALLS, RAW_SEARCHES, polars_schema

REPEATING_CURSOR = "repeating_cursor"


class RawSearchConfig(dg.Config):
    """How much one scheduled run searches (the predecessor: 5-10 keywords, one page each, every 15 min)."""

    keywords_per_run: int = 10
    pages_per_keyword: int = 1
    allow_past_day: bool = False  # for tests that pin a day; real APIs cannot answer for the past
    # Search exactly these keywords (``POST /v1/searches``, docs/api.md) instead of picking from the
    # keyword file: each goes on from its stored page; one the file does not list is searched as a
    # new keyword of this platform; one exhausted, stopped or disabled is skipped. None: the file.
    keywords: list[str] | None = None


@dg.asset(
    key="raw_searches",
    deps=["keywords"],
    partitions_def=daily_platform_partitions,
    group_name=INGEST_GROUP,
    owners=OWNERS,
    freshness_policy=INGEST_FRESHNESS,
    kinds={"python", "api"},
    pool="platform_api",
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
    budgets: BudgetsResource,
    suppression: SuppressionList,
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

    breaker = platform_breaker(context, warehouse, platform)  # scout_assets/breakers.py
    if not breaker.check().allowed:  # open: skip the platform (recorded) until the cool-down ends
        return breaker.skipped_result()
    client = breaker.guard(twitter if platform == "twitter" else bluesky)  # asks it before each page
    spend_caps = budgets.load()
    started_at = utc_naive(datetime.now(UTC))
    record_caps(warehouse, spend_caps, "platform", platform, started_at.date(), started_at)
    allowance = PlatformAllowance.for_run(warehouse, spend_caps, platform, started_at)
    ledger = stored_pages(warehouse, platform, until=None)
    entries = config_files.keyword_entries()
    count = config.keywords_per_run
    if config.keywords:
        entries, count = requested_entries(entries, config.keywords, platform), len(config.keywords)
    states = keyword_states(
        entries,
        platform,
        ledger,
        stored_feedback(warehouse, platform, until=day + timedelta(days=1)),
    )
    targets, resumed = resume_targets(warehouse, platform, states, select_targets(states, count), count)
    if resumed:
        context.log.info(f"resuming after a budget stop: {len(resumed)} keyword(s) first: {resumed}")
    outcome = _search(client, targets, config.pages_per_keyword, cursors_seen(ledger), context.log, allowance)
    pages, calls, errors = outcome.pages, outcome.calls, outcome.errors
    # Accounts `scout forget` suppressed leave each page before it is archived or stored (docs/leads.md).
    is_suppressed, suppressed = suppression.is_suppressed(warehouse, platform), 0
    if is_suppressed is not None:
        scrubbed = [(page_no, drop_accounts(page, is_suppressed)) for page_no, page in pages]
        pages = [(page_no, page) for page_no, (page, _) in scrubbed]
        suppressed = sum(dropped for _, (_, dropped) in scrubbed)

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
        added_pages = append_pages(tx, _pages_frame(pages, day), day, platform)
        tx.append("api_calls", _calls_frame(calls, day, allowance.price, run_id_of(context)))
    stop_text = None
    if outcome.stop is not None:
        stop_text = _record_stop(warehouse, context, platform, day, outcome, config.pages_per_keyword)

    returned = sum(page.result_count for _, page in pages)
    exhausted = sum(1 for _, page in pages if page.cursor_out is None)
    metadata = {
        "dagster/row_count": added_pages,
        "keywords_searched": len({page.keyword for _, page in pages}),
        "keywords_exhausted_now": exhausted,
        "keywords_stopped_now": sum(1 for _, page in pages if page.stop_reason is not None),
        "pages_fetched": len(pages),
        "profiles_returned": returned,
        "suppressed_accounts_dropped": suppressed,
        "api_calls": len(calls),
        "api_cost_usd": round(len(calls) * allowance.price, 6),
        "api_errors": sum(1 for call in calls if call.error),
        "search_failures": len(errors),
        "failures_by_kind": dg.MetadataValue.json(outcome.failures_by_kind()),
        "sandbox": client.uses_sandbox,
        **breaker.metadata(),  # the platform's circuit breaker after this run
        "budget": dg.MetadataValue.json(allowance.figures()),  # spend against each cap, this run included
        "budget_stop": dg.MetadataValue.text(stop_text or "none: no cap was reached"),
        "keywords_resumed": dg.MetadataValue.json(resumed),
    }
    if errors and not pages:
        # Nothing came back: fail visibly, but never retried (the client already spent its
        # retries; the next scheduled run tries again). Every attempt is in api_calls above.
        raise dg.Failure(
            description=f"{len(errors)} of {len(targets)} keyword searches on {platform} failed, "
            "no page fetched: " + "; ".join(errors),
            metadata=metadata,
            allow_retries=False,
        )
    return dg.MaterializeResult(metadata=metadata)


@dataclass
class SearchOutcome:
    """What one run's searching produced: numbered pages, every HTTP attempt, what went wrong."""

    pages: list[tuple[int, SearchPage]] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    kinds: list[str] = field(
        default_factory=list
    )  # per error: its ErrorKind value, "repeating_cursor", or a class name
    # A budget stop: the cap refused, and the targets left (the first one maybe partly paged).
    stop: Refusal | None = None
    left: list[SearchTarget] = field(default_factory=list)
    pages_done_of_first_left: int = 0
    stopped_before: str = "the next page"  # or "a retry" (the HTTP client's gate refused an attempt)

    def failures_by_kind(self) -> dict[str, int]:
        return {kind: self.kinds.count(kind) for kind in sorted(set(self.kinds))}


def _search(
    client: TwitterSearch | BlueskySearch,
    targets: list[SearchTarget],
    pages_per_keyword: int,
    seen: Mapping[str, frozenset[str]],
    log,
    allowance: PlatformAllowance,
) -> SearchOutcome:
    """Fetch up to ``pages_per_keyword`` pages per target, numbered; a failure costs one keyword.

    ``seen`` holds each keyword's cursors already in the ledger (``cursors_seen``). Whatever
    the kind of failure, the next keyword is tried: the client has already spent its retries on
    this one, and nothing here retries again. A budget cap ends the search: before a page whose
    requests would pass it, or at an attempt the HTTP client's ``call_gate`` refused.
    """
    http = client.http
    http.call_gate = allowance.gate  # asked before every attempt, retries included
    try:
        return _search_within(client, targets, pages_per_keyword, seen, log, allowance)
    finally:
        http.call_gate = None


def _search_within(
    client: TwitterSearch | BlueskySearch,
    targets: list[SearchTarget],
    pages_per_keyword: int,
    seen: Mapping[str, frozenset[str]],
    log,
    allowance: PlatformAllowance,
) -> SearchOutcome:
    outcome = SearchOutcome()
    for index, target in enumerate(targets):
        known = set(seen.get(target.keyword, frozenset()))
        cursor, page_no = target.cursor, target.page
        if cursor is not None:
            known.add(cursor)
        for done in range(pages_per_keyword):
            refused = allowance.refusal(client.requests_per_page)
            if refused is not None:  # the page's requests would pass a cap: stop before it
                outcome.stop = refused
                outcome.left = [SearchTarget(target.keyword, cursor, page_no), *targets[index + 1 :]]
                outcome.pages_done_of_first_left = done
                return outcome
            try:
                page = client.search(target.keyword, cursor)
            except BudgetRefusedError as exc:  # a retry would have passed a cap: the page is lost
                outcome.calls.extend(exc.calls)
                outcome.stop = exc.refusal
                outcome.stopped_before = f"a retry of {target.keyword!r} page {page_no}"
                outcome.left = [SearchTarget(target.keyword, cursor, page_no), *targets[index + 1 :]]
                outcome.pages_done_of_first_left = done
                log.warning(str(exc))
                return outcome
            except PlatformError as exc:  # every failure of the HTTP stack arrives typed, with its calls
                outcome.calls.extend(exc.calls)
                outcome.errors.append(str(exc))
                outcome.kinds.append(exc.kind.value if exc.kind else type(exc).__name__)
                log.error(str(exc))
                break
            outcome.calls.extend(page.calls)
            if page.cursor_out is not None and page.cursor_out in known:
                page = replace(page, stop_reason=_repeating(page, page_no))
                outcome.pages.append((page_no, page))
                outcome.errors.append(f"{page.platform} keyword {page.keyword!r} stopped: {page.stop_reason}")
                outcome.kinds.append(REPEATING_CURSOR)
                log.error(outcome.errors[-1])
                break
            outcome.pages.append((page_no, page))
            if page.cursor_out is None:
                break
            known.add(page.cursor_out)
            cursor, page_no = page.cursor_out, page_no + 1
    return outcome


def _repeating(page: SearchPage, page_no: int) -> str:
    return (
        f"repeating cursor: page {page_no} pointed to cursor {page.cursor_out!r}, which this keyword "
        "already had; following it would fetch the same pages for ever"
    )


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
            "stop_reason": page.stop_reason,
        }
        for page_no, page in pages
    ]
    return pl.DataFrame(rows, schema=polars_schema(RAW_SEARCHES.columns))


def _record_stop(
    warehouse: Warehouse,
    context: dg.AssetExecutionContext,
    platform: str,
    day: date,
    outcome: SearchOutcome,
    pages_per_keyword: int,
) -> str:
    """Record the run's budget stop (``budget_stops``) and say what was left undone."""
    assert outcome.stop is not None
    left = outcome.left
    pages_left = pages_per_keyword * len(left) - outcome.pages_done_of_first_left
    keywords = [target.keyword for target in left]
    first = left[0] if left else None
    where = f"; next: {first.keyword!r} page {first.page}" if first is not None else ""
    not_done = (
        f"{platform}: {len(keywords)} keyword(s) not searched to plan, {pages_left} page(s) left"
        f"{where}: {', '.join(repr(k) for k in keywords[:20])}{' ...' if len(keywords) > 20 else ''}"
    )
    text = f"{outcome.stop.describe(outcome.stopped_before)}; {not_done}"
    context.log.warning(f"budget stop: {text}")
    record_stop(
        warehouse,
        run_id=context.run.run_id,
        scope="platform",
        name=platform,
        day=day,
        refusal=outcome.stop,
        not_done=not_done,
        left_count=pages_left,
        left_keywords=keywords,
        now=utc_naive(datetime.now(UTC)),
    )
    return text


def _calls_frame(calls: Iterable[CallRecord], day: date, price: float, run_id: str | None) -> pl.DataFrame:
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
            "error_kind": call.error_kind,
            # Every attempt sent is billed by a paid plan, whatever its status (budgets.yaml).
            "cost_usd": price,
            "run_id": run_id,
        }
        for call in calls
    ]
    return pl.DataFrame(rows, schema=polars_schema(API_CALLS.columns))


def requested_entries(entries: list[KeywordEntry], keywords: list[str], platform: str) -> list[KeywordEntry]:
    """The keyword entries of a run that names its keywords (``RawSearchConfig.keywords``).

    A keyword the file lists keeps its entry (so a disabled one stays off); any other becomes an
    enabled entry of ``platform`` numbered after the file's lines, so it is searched from page 0.
    """
    listed = {entry.keyword.casefold(): entry for entry in entries}
    last_line = max((entry.line for entry in entries), default=0)
    chosen: list[KeywordEntry] = []
    wanted = dict.fromkeys(" ".join(k.split()) for k in keywords if k.strip())  # as the file spells them
    for number, keyword in enumerate(wanted, start=1):
        entry = listed.get(keyword.casefold())
        if entry is None or platform not in entry.platforms:
            entry = KeywordEntry(keyword, (platform,), ("api",), enabled=True, line=last_line + number)
        chosen.append(entry)
    return chosen
