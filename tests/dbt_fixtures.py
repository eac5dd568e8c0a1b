"""Demo warehouse rows and a real dbt runner, shared by the dbt and dashboard tests.

The rows are small enough to compute every mart number by hand (the expectations live in
``tests/test_dbt_build.py`` next to their arithmetic). They are written in two phases:
``PHASE_ONE`` covers 2026-03-01 and 2026-03-02 (plus two older keyword days for the trend),
``PHASE_TWO`` adds 2026-03-03, including a late label for an account discovered on
2026-03-01, so the second, windowed dbt run must reach back to that day. People's reviews come
in both phases (they carry no partition day): the second run must find them and reweigh the
models of their audience.

dbt runs in-process through its programmatic runner, with the project, profile and vars
Dagster's ``DbtCliResource`` uses, and its target and log folders in a temporary directory so
test runs never touch ``dbt_project/target``.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from resources.warehouse.location import parse_warehouse_url
from scout_assets.domain.has import has_config, queued
from scout_contract.paths import DBT_PROJECT_DIR
from scout_contract.tables import polars_schema, table

D1, D2, D3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)
UX = "ux_research_leads.v1"
THELAI = "thelai_customers.v3"
MINILM, HAIKU, GEMINI = "local-minilm", "claude-haiku-4.5", "gemini-flash-2.0"
PRICE = {MINILM: 0.0, HAIKU: 0.002, GEMINI: 0.001}  # USD per label in the demo
MARTS = (
    "mart_audience_leads",
    "mart_discovery_funnel",
    "mart_keyword_performance",
    "mart_model_agreement",
    "mart_model_comparison",
    "mart_outreach_funnel",
    "mart_pipeline_health",
    "mart_plan_accuracy",
    "mart_review_queue",
    "mart_spend_vs_budget",
)
# The marts rebuilt whole on every run (not incremental).
WHOLE_MARTS = (
    "mart_model_agreement",
    "mart_model_comparison",
    "mart_outreach_funnel",
    "mart_review_queue",
    "mart_spend_vs_budget",
)


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute)


def rows(table_name: str, *records: dict[str, Any]) -> pl.DataFrame:
    """A frame of ``table_name`` with the given columns set and every other column null."""
    spec = table(table_name)
    full = [{name: record.get(name) for name in spec.column_names} for record in records]
    unknown = {key for record in records for key in record} - set(spec.column_names)
    if unknown:
        raise ValueError(f"demo rows for {table_name!r} name unknown column(s) {sorted(unknown)}")
    return pl.DataFrame(full, schema=polars_schema(spec.columns), orient="row")


# --- accounts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    platform: str
    platform_id: str
    handle: str
    followers: int
    sightings: tuple[tuple[date, str, float], ...]  # (day, keyword, HAS that day)


ACCOUNTS = {
    "t1": Account(
        "twitter", "t1", "ada_research", 1500, ((D1, "ux research", 0.90), (D2, "ux research", 0.92))
    ),
    "t2": Account("twitter", "t2", "bo_interviews", 300, ((D1, "user interviews", 0.70),)),
    # Exactly at the threshold: the queue test is strict (HAS > 0.65), so t3 is not above it.
    "t3": Account("twitter", "t3", "cy_edge", 80, ((D1, "ux research", 0.65),)),
    "t4": Account("twitter", "t4", "dee_bot", 5, ((D1, "user interviews", 0.30),)),
    "t5": Account("twitter", "t5", "eve_ops", 900, ((D2, "ux research", 0.80),)),
    "t6": Account("twitter", "t6", "fin_diary", 450, ((D3, "user interviews", 0.85),)),
    "b1": Account("bluesky", "b1", "gia.bsky.social", 640, ((D1, "ux research", 0.75),)),
    "b2": Account("bluesky", "b2", "hal.bsky.social", 20, ((D1, "ux research", 0.50),)),
    "b3": Account("bluesky", "b3", "ivy.bsky.social", 210, ((D2, "ux research", 0.66),)),
}
PHASE_ONE_ACCOUNTS = ("t1", "t2", "t3", "t4", "t5", "b1", "b2", "b3")
PHASE_TWO_ACCOUNTS = ("t6",)


def _account_rows(keys: tuple[str, ...]) -> dict[str, pl.DataFrame]:
    snapshots, sightings, profiles, scores = [], [], [], []
    for key in keys:
        account = ACCOUNTS[key]
        ident = {"platform": account.platform, "platform_id": account.platform_id, "handle": account.handle}
        for day, keyword, has in account.sightings:
            snapshots.append(
                {
                    **ident,
                    "name": account.handle.title(),
                    "followers": account.followers,
                    "following": 100,
                    "statuses": 1000,
                    "partition_date": day,
                    "first_seen_at": at(day, 9),
                    "last_seen_at": at(day, 10),
                    "last_request_id": f"r-{account.platform}-{day:%d}",
                }
            )
            sightings.append(
                {
                    "platform": account.platform,
                    "platform_id": account.platform_id,
                    "keyword": keyword,
                    "partition_date": day,
                    "first_request_id": f"r-{account.platform}-{day:%d}",
                    "first_seen_at": at(day, 9),
                    "times_seen": 1,
                }
            )
            scores.append(
                {
                    **ident,
                    "partition_date": day,
                    "has": has,
                    "likely_is": "person" if has > 0.5 else "bot",
                    "raw_score": has,
                    "penalty": 1.0,
                    "s_person": has,
                    "s_creator": 0.2,
                    "s_entity": 0.1,
                    "s_bot": 1 - has,
                    "has_version": "has-v1",
                    "as_of": at(day + timedelta(days=1), 0),
                }
            )
        first, last = account.sightings[0][0], account.sightings[-1][0]
        keywords = sorted({keyword for _, keyword, _ in account.sightings})
        profiles.append(
            {
                **ident,
                "name": account.handle.title(),
                "bio": f"{account.handle} does user research",
                "followers": account.followers,
                "following": 100,
                "statuses": 1000,
                "verified": False,
                "first_seen_at": at(first, 9),
                "last_seen_at": at(last, 10),
                "first_partition_date": first,
                "last_partition_date": last,
                "keywords": ", ".join(keywords),
                "keyword_count": len(keywords),
            }
        )
    return {
        "profile_snapshots": rows("profile_snapshots", *snapshots),
        "profile_sightings": rows("profile_sightings", *sightings),
        "profiles": rows("profiles", *profiles),
        # is_queued as the has_scores asset writes it: through the one queue rule.
        "has_scores": rows("has_scores", *scores).with_columns(queued(has_config())),
    }


# --- searches and calls ----------------------------------------------------------------------------


def _page(request_id: str, platform: str, keyword: str, day: date, page: int, result_count: int) -> dict:
    return {
        "request_id": request_id,
        "platform": platform,
        "keyword": keyword,
        "partition_date": day,
        "page": page,
        "status": 200,
        "result_count": result_count,
        "payload": "{}",
        "cursor_out": f"c{page + 1}",
        "fetched_at": at(day, 9, page),
    }


def _call(
    call_id: str,
    request_id: str,
    platform: str,
    day: date,
    attempt: int,
    status: int | None,
    latency_ms: float,
    error: str | None = None,
) -> dict:
    return {
        "call_id": call_id,
        "request_id": request_id,
        "platform": platform,
        "endpoint": "search",
        "attempt": attempt,
        "status": status,
        "latency_ms": latency_ms,
        "error": error,
        "called_at": at(day, 9, attempt),
        "partition_date": day,
    }


def _label(key: str, model: str, audience: str, day: date, label: bool | None, reason: str) -> dict:
    account = ACCOUNTS[key]
    return {
        "platform": account.platform,
        "platform_id": account.platform_id,
        "handle": account.handle,
        "model": model,
        "model_id": f"id/{model}",
        "audience": audience,
        "audience_hash": "h",
        "partition_date": day,
        "label": label,
        "reason": reason,
        "prompt_version": "p1",
        "input_tokens": 100,
        "output_tokens": 10,
        "cost_usd": PRICE[model],
        "latency_ms": 40.0,
        "run_id": f"run-{day:%d}",
        "labeled_at": at(day, 15),
    }


def _keyword_stat(platform: str, keyword: str, day: date, **values: Any) -> dict:
    return {"platform": platform, "keyword": keyword, "day": day, **values}


def _keyword_state(
    platform: str, keyword: str, day: date, pages_searched: int, exhausted: bool = False
) -> dict:
    return {
        "platform": platform,
        "keyword": keyword,
        "partition_date": day,
        "tags": "#ux",
        "enabled": True,
        "still_valid": not exhausted,
        "exhausted": exhausted,
        "pages_searched": pages_searched,
        "state_reason": "no cursor after the last page" if exhausted else None,
    }


def _quarantined(
    day: date, platform: str, request_id: str, page: int, row_index: int, field: str, severity: str
) -> dict:
    return {
        "partition_date": day,
        "platform": platform,
        "keyword": "ux research",
        "request_id": request_id,
        "page": page,
        "row_index": row_index,
        "field": field,
        "severity": severity,
        "reason": "is missing",
        "raw_row": "{}",
    }


def _review(
    review_id: str, key: str, label: bool | None, at_time: datetime, *, by_handle: str | None = None
) -> dict:
    """A person's review of a demo account for UX; ``by_handle`` leaves platform_id out (an import)."""
    account = ACCOUNTS[key] if key in ACCOUNTS else Account("twitter", key, key, 0, ())
    return {
        "review_id": review_id,
        "platform": account.platform,
        "platform_id": None if by_handle else account.platform_id,
        "handle": by_handle or account.handle,
        "name": account.handle.title(),
        "bio": f"{account.handle} does user research",
        "followers": account.followers,
        "audience": UX,
        "audience_hash": "h",
        "label": label,
        "reason": "checked by hand",
        "reviewer": "ana",
        "source": "dashboard" if by_handle is None else "import:labels.jsonl",
        "reviewed_at": at_time,
    }


def _lead_event(
    event_id: str,
    platform_id: str,
    from_state: str,
    state: str,
    set_at: datetime,
    *,
    note: str | None = None,
    platform: str = "twitter",
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "platform": platform,
        "platform_id": platform_id,
        "audience": UX,
        "from_state": from_state,
        "state": state,
        "note": note,
        "set_by": "ana",
        "source": "cli",
        "set_at": set_at,
    }


def phase_one() -> dict[str, pl.DataFrame]:
    frames = _account_rows(PHASE_ONE_ACCOUNTS)
    frames["raw_searches"] = rows(
        "raw_searches",
        _page("tw-ux-0", "twitter", "ux research", D1, 0, 3),
        _page("tw-ux-1", "twitter", "ux research", D1, 1, 2),
        _page("tw-ui-0", "twitter", "user interviews", D1, 0, 2),
        _page("bs-ux-0", "bluesky", "ux research", D1, 0, 2),
        _page("tw-ux-2", "twitter", "ux research", D2, 2, 2),
        _page("bs-ux-1", "bluesky", "ux research", D2, 1, 1),
    )
    frames["api_calls"] = rows(
        "api_calls",
        _call("c1", "tw-ux-0", "twitter", D1, 1, 429, 100.0, "rate limited"),
        _call("c2", "tw-ux-0", "twitter", D1, 2, 200, 200.0),
        _call("c3", "tw-ux-1", "twitter", D1, 1, 200, 300.0),
        _call("c4", "tw-ui-0", "twitter", D1, 1, 200, 400.0),
        _call("c5", "bs-ux-0", "bluesky", D1, 1, 200, 50.0),
        _call("c6", "tw-ux-2", "twitter", D2, 1, 500, 1000.0, "server error"),
        _call("c7", "tw-ux-2", "twitter", D2, 2, 200, 120.0),
        _call("c8", "bs-ux-1", "bluesky", D2, 1, 200, 80.0),
    )
    frames["llm_labels"] = rows(
        "llm_labels",
        _label("t1", MINILM, UX, D1, True, "UX researcher at a product company"),
        _label("t1", HAIKU, UX, D1, True, "leads user research"),
        _label("t1", GEMINI, UX, D2, False, "looks like a designer"),
        _label("t1", HAIKU, THELAI, D1, False, "not an academic"),
        _label("t2", MINILM, UX, D1, False, "recruiter"),
        _label("t2", HAIKU, UX, D1, None, "adjacent role"),
        _label("t5", MINILM, UX, D2, True, "research ops"),
        _label("t5", HAIKU, UX, D2, True, "ReOps lead"),
        _label("b1", MINILM, UX, D1, None, "vague bio"),
        _label("b1", HAIKU, UX, D1, None, "partial signals"),
        _label("b3", MINILM, UX, D2, False, "student"),
    )
    # People's reviews for UX: t1 true (the models said true, true, false); b3 first false, then
    # true by an import that names only the handle (in other capitals): the latest wins, and it
    # overrides local-minilm's false; a review of an account the warehouse never saw stays out.
    frames["reviews"] = rows(
        "reviews",
        _review("rv1", "t1", True, at(D2, 10)),
        _review("rv2", "b3", False, at(D2, 11)),
        _review("rv3", "b3", True, at(D2, 12), by_handle="IVY.bsky.social"),
        _review("rv4", "zed_unknown", True, at(D2, 13), by_handle="zed_unknown"),
    )
    # Lead state (scout_contract/leads.py): t1, reviewed true, contacted on D2; b3 rejected.
    frames["lead_events"] = rows(
        "lead_events",
        _lead_event("le1", "t1", "reviewed", "contacted", at(D2, 14), note="DM'd"),
        _lead_event("le2", "b3", "reviewed", "rejected", at(D2, 15), platform="bluesky"),
    )
    frames["label_failures"] = rows(
        "label_failures",
        {
            "attempt_id": "f1",
            "platform": "twitter",
            "platform_id": "t3",
            "handle": "cy_edge",
            "model": GEMINI,
            "audience": UX,
            "partition_date": D1,
            "error": "invalid JSON",
            "attempted_at": at(D1, 15),
        },
        {
            "attempt_id": "f2",
            "platform": "twitter",
            "platform_id": "t3",
            "handle": "cy_edge",
            "model": GEMINI,
            "audience": UX,
            "partition_date": D2,
            "error": "invalid JSON",
            "attempted_at": at(D2, 15),
        },
    )
    frames["dead_letters"] = rows(
        "dead_letters",
        {
            "platform": "twitter",
            "platform_id": "t3",
            "handle": "cy_edge",
            "model": GEMINI,
            "audience": UX,
            "failures": 2,
            "last_error": "invalid JSON",
            "dead_at": at(D2, 16),
        },
    )
    # What the profiles asset quarantined: on D1 one unreadable Twitter row and one nulled
    # value, on D2 one stored Bluesky page that is not a page.
    frames["quarantined_rows"] = rows(
        "quarantined_rows",
        _quarantined(D1, "twitter", "tw-ux-0", 0, 2, "data[2].rest_id", "row"),
        _quarantined(D1, "twitter", "tw-ux-0", 0, 4, "data[4].legacy.followers_count", "field"),
        _quarantined(D2, "bluesky", "bs-ux-1", 1, -1, "<body>", "page"),
    )
    # The circuit breakers now: X open since D2 16:00 after five failed pages, Anthropic closed.
    frames["circuit_breakers"] = rows(
        "circuit_breakers",
        {
            "kind": "platform",
            "name": "twitter",
            "state": "open",
            "consecutive_failures": 5,
            "window_outcomes": "0011111",
            "error_rate": 5 / 7,
            "opened_at": at(D2, 16),
            "probe_after": at(D2, 16, 5),
            "times_opened": 1,
            "last_error": "HTTP 503",
            "last_change": "opened: 5 failed calls in a row",
            "updated_at": at(D2, 16),
        },
        {
            "kind": "provider",
            "name": "anthropic",
            "state": "closed",
            "window_outcomes": "00",
            "error_rate": 0.0,
        },
    )
    frames["profiles_to_score"] = rows(
        "profiles_to_score",
        {
            "platform": "bluesky",
            "platform_id": "b3",
            "partition_date": D2,
            "handle": "ivy.bsky.social",
            "has": 0.66,
            "likely_is": "person",
            "has_version": "has-v1",
            "queued_at": at(D2, 9),
        },
    )
    frames["keywords"] = rows(
        "keywords",
        _keyword_state("twitter", "ux research", D1, 2),
        _keyword_state("twitter", "user interviews", D1, 1),
        _keyword_state("bluesky", "ux research", D1, 1),
        _keyword_state("twitter", "ux research", D2, 3),
        _keyword_state("bluesky", "ux research", D2, 2),
    )
    frames["keyword_stats"] = rows(
        "keyword_stats",
        # Older days that only feed the 7-day trend (and the health mart's API cost).
        _keyword_stat(
            "twitter",
            "ux research",
            date(2026, 2, 20),
            pages=4,
            new_profiles=10,
            api_cost_usd=0.004,
            cost_usd=0.004,
        ),
        _keyword_stat(
            "bluesky",
            "ux research",
            date(2026, 2, 22),
            pages=1,
            new_profiles=1,
            api_cost_usd=0.0,
            cost_usd=0.0,
        ),
        _keyword_stat(
            "twitter",
            "ux research",
            D1,
            searches=1,
            pages=2,
            api_calls=3,
            api_errors=1,
            profiles_returned=5,
            unique_profiles=3,
            new_profiles=3,
            labels_true=2,
            labels_false=1,
            labels_null=1,
            api_cost_usd=0.003,
            label_cost_usd=0.004,
            cost_usd=0.007,
            still_valid=True,
            exhausted=False,
        ),
        _keyword_stat(
            "twitter",
            "user interviews",
            D1,
            searches=1,
            pages=1,
            api_calls=1,
            profiles_returned=2,
            unique_profiles=2,
            new_profiles=1,
            labels_true=0,
            labels_false=1,
            labels_null=1,
            api_cost_usd=0.001,
            label_cost_usd=0.002,
            cost_usd=0.003,
            still_valid=True,
            exhausted=False,
        ),
        _keyword_stat(
            "bluesky",
            "ux research",
            D1,
            searches=1,
            pages=1,
            api_calls=1,
            profiles_returned=2,
            unique_profiles=2,
            new_profiles=2,
            labels_null=2,
            api_cost_usd=0.0,
            label_cost_usd=0.002,
            cost_usd=0.002,
            still_valid=True,
            exhausted=False,
        ),
        _keyword_stat(
            "twitter",
            "ux research",
            D2,
            searches=1,
            pages=1,
            api_calls=2,
            api_errors=1,
            profiles_returned=2,
            unique_profiles=2,
            new_profiles=1,
            labels_true=2,
            labels_false=1,
            api_cost_usd=0.002,
            label_cost_usd=0.003,
            cost_usd=0.005,
            still_valid=True,
            exhausted=False,
        ),
        _keyword_stat(
            "bluesky",
            "ux research",
            D2,
            searches=1,
            pages=1,
            api_calls=1,
            profiles_returned=1,
            unique_profiles=1,
            new_profiles=1,
            labels_false=1,
            api_cost_usd=0.0,
            label_cost_usd=0.0,
            cost_usd=0.0,
            still_valid=True,
            exhausted=False,
        ),
    )
    return frames


def phase_two() -> dict[str, pl.DataFrame]:
    frames = _account_rows(PHASE_TWO_ACCOUNTS)
    frames["raw_searches"] = rows("raw_searches", _page("tw-ui-1", "twitter", "user interviews", D3, 1, 1))
    frames["api_calls"] = rows("api_calls", _call("c9", "tw-ui-1", "twitter", D3, 1, 200, 150.0))
    frames["llm_labels"] = rows(
        "llm_labels",
        _label("t6", MINILM, UX, D3, True, "diary studies"),
        # A late label for an account discovered on D1: it changes D1's funnel and t2's consensus.
        _label("t2", GEMINI, UX, D3, True, "runs user interviews"),
    )
    # Reviews carry no partition day: the windowed run must still find them. t5 false (both
    # models said true: the weights of UX move); t3, which no model labeled, true.
    frames["reviews"] = rows(
        "reviews",
        _review("rv5", "t5", False, at(D3, 10)),
        _review("rv6", "t3", True, at(D3, 11)),
    )
    # t1 replies on D3 (no label, sighting or score of t1 in D3's window: the run must still find
    # the new state). Exclusions: tests/test_lead_exports.py.
    frames["lead_events"] = rows(
        "lead_events", _lead_event("le3", "t1", "contacted", "replied", at(D3, 9), note="keen")
    )
    frames["keywords"] = rows("keywords", _keyword_state("twitter", "user interviews", D3, 2, exhausted=True))
    frames["keyword_stats"] = rows(
        "keyword_stats",
        _keyword_stat(
            "twitter",
            "user interviews",
            D3,
            searches=1,
            pages=1,
            api_calls=1,
            profiles_returned=1,
            unique_profiles=1,
            new_profiles=1,
            labels_true=2,
            api_cost_usd=0.001,
            label_cost_usd=0.001,
            cost_usd=0.002,
            still_valid=False,
            exhausted=True,
        ),
    )
    return frames


def write_demo(warehouse, frames: dict[str, pl.DataFrame]) -> None:
    """Create the schema and append the demo frames through the real ``Warehouse`` resource."""
    warehouse.ensure_schema()
    with warehouse.transaction() as tx:
        for name, frame in frames.items():
            tx.append(name, frame)


# --- dbt ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DbtRun:
    """One dbt invocation: did it succeed, what it logged, and the status of each node."""

    success: bool
    log: str
    statuses: dict[str, str]  # unique_id -> status (success, pass, error, fail, warn, skipped ...)


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the block, then restore the previous values."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def release_duckdb_file() -> None:
    """Close the DuckDB instance dbt-duckdb keeps open in-process after an invocation.

    Until it is closed this process holds the file's lock, and another process (the
    dashboard under test, a later subprocess) cannot open the warehouse.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    cached = getattr(DuckDBConnectionManager, "_ENV", None)
    DuckDBConnectionManager.close_all_connections()
    if cached is not None:
        cached.close()


def run_dbt(warehouse_url: str, work_dir: Path, *args: str, check: bool = True) -> DbtRun:
    """Run ``dbt <args>`` in-process (dbt's programmatic runner) against ``warehouse_url``.

    In-process rather than a subprocess only to save dbt's ~4 s start-up per call on a
    2-core machine; profile, project and flags are the ones Dagster's subprocess uses. With
    ``check``, a failed invocation fails the test with dbt's log.
    """
    from dbt.cli.main import dbtRunner

    lines: list[str] = []
    env = {
        **parse_warehouse_url(warehouse_url).dbt_profile_env("analytics"),
        "DBT_TARGET_PATH": str(work_dir / "target"),
        "DBT_LOG_PATH": str(work_dir / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
    }
    with environment(env):
        outcome = dbtRunner(callbacks=[lambda event: lines.append(event.info.msg)]).invoke(
            [*args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
        )
    release_duckdb_file()
    statuses = {}
    for node_result in getattr(outcome.result, "results", None) or []:
        statuses[node_result.node.unique_id] = str(node_result.status)
    run = DbtRun(success=outcome.success, log="\n".join(lines), statuses=statuses)
    if check and not run.success:
        raise AssertionError(f"dbt {' '.join(args)} failed ({outcome.exception}):\n{run.log}")
    return run


def window_vars(start: date, end: date) -> str:
    return f'{{"min_date": "{start.isoformat()}", "max_date": "{end.isoformat()}"}}'


# A row outside the second run's window and untouched by its data: a windowed (incremental)
# run leaves it alone, a full rebuild would recompute it (to 0).
SENTINEL_DAY, SENTINEL_PLATFORM, SENTINEL_RETRIES = date(2026, 2, 20), "twitter", 7


def _sentinel_retries(warehouse) -> int:
    frame = warehouse.read(
        "select retries from analytics.mart_pipeline_health where day = $1 and platform = $2",
        [SENTINEL_DAY, SENTINEL_PLATFORM],
    )
    return int(frame["retries"][0])


def _set_sentinel_retries(warehouse, retries: int) -> None:
    warehouse.execute(
        "update analytics.mart_pipeline_health set retries = $1 where day = $2 and platform = $3",
        [retries, SENTINEL_DAY, SENTINEL_PLATFORM],
    )


@dataclass(frozen=True)
class DemoBuild:
    """What the two dbt runs reported, the leads mart as the first run left it, and the sentinel."""

    first_build: DbtRun
    second_build: DbtRun
    leads_after_first_run: pl.DataFrame
    sentinel_after_second_run: int  # SENTINEL_RETRIES if the second run was incremental


def build_demo(warehouse_url: str, work_dir: Path) -> DemoBuild:
    """Phase one + full ``dbt build``; phase two + a build of the incremental models over [D3, D3+1).

    Between the runs a mart row outside the window is overwritten (the sentinel); after the
    second run its value is recorded and the true value put back, so the marts end exactly
    as a correct pipeline leaves them.
    """
    from resources.warehouse import Warehouse

    warehouse = Warehouse(url=warehouse_url)
    write_demo(warehouse, phase_one())
    first = run_dbt(warehouse_url, work_dir, "build")
    leads = warehouse.read("select * from analytics.mart_audience_leads")
    original = _sentinel_retries(warehouse)
    _set_sentinel_retries(warehouse, SENTINEL_RETRIES)
    write_demo(warehouse, phase_two())
    # What Dagster's partitioned dbt asset runs: the incremental models, with the partition's window.
    window = window_vars(D3, D3 + timedelta(days=1))
    second = run_dbt(
        warehouse_url, work_dir, "build", "--select", "config.materialized:incremental", "--vars", window
    )
    survived = _sentinel_retries(warehouse)
    _set_sentinel_retries(warehouse, original)
    return DemoBuild(first, second, leads, survived)


@dataclass(frozen=True)
class DemoMarts:
    """A DuckDB warehouse after both phases and both dbt runs."""

    url: str
    path: Path
    work_dir: Path
    build: DemoBuild


@functools.cache
def demo_duckdb_marts() -> DemoMarts:
    """Build the demo marts on DuckDB once per test process (the dbt and dashboard tests share it)."""
    work_dir = Path(tempfile.mkdtemp(prefix="scout-dbt-demo-"))
    atexit.register(shutil.rmtree, work_dir, True)
    path = work_dir / "scout.duckdb"
    url = f"duckdb://{path}"
    return DemoMarts(url=url, path=path, work_dir=work_dir, build=build_demo(url, work_dir))
