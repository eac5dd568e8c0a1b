"""Hostile platform answers inside the search chain: one bad answer costs one keyword, never the run.

Real Dagster materializations of ``keywords -> raw_searches -> profiles -> has_scores ->
profiles_to_score`` against the sandbox's fault modes, on DuckDB and PostgreSQL. Each test
proves what the run stored (every good page once, every attempt in ``api_calls`` with its
``error_kind``), the keyword's state afterwards (continues, stopped, exhausted), and that
nothing retried the step or the run on top of the HTTP client. The closed-warehouse test runs
``scout run`` itself.
"""

from __future__ import annotations

import time

import dagster as dg
import polars as pl
import pytest

from resources.platforms.bluesky import SEARCH_PATH as BSKY_SEARCH
from resources.platforms.twitter import SEARCH_PATH as X_SEARCH
from scout_assets.assets.keywords import stored_pages
from scout_assets.config_files import ConfigFiles
from scout_assets.domain.keyword_state import keyword_states
from scout_assets.partitions import partition_key, today_utc
from scout_assets.resources_binding import current_settings
from scout_cli.main import main
from scout_sandbox import Fault
from tests.pipeline_support import FAST_RETRIES, MAIN_ASSETS, assets, materialize, resources_for, table

SEARCH_PATHS = {"twitter": X_SEARCH, "bluesky": BSKY_SEARCH}
PLATFORMS = ["twitter", "bluesky"]


@pytest.fixture
def three_keywords(tmp_path, monkeypatch) -> list[str]:
    keywords = ["ethnography", "sociologist", "postdoc"]
    path = tmp_path / "keywords.csv"
    path.write_text("keyword,platforms,tags,enabled\n" + "".join(f"{k},*,,\n" for k in keywords))
    monkeypatch.setenv("SCOUT_KEYWORD_FILE", str(path))
    return keywords


def states(warehouse, platform: str) -> dict[str, dict]:
    """Each keyword's state as the ledger says now (the keyword file is the one the test set)."""
    entries = ConfigFiles.from_settings(current_settings()).keyword_entries()
    frame = keyword_states(entries, platform, stored_pages(warehouse, platform, None))
    return {row["keyword"]: row for row in frame.iter_rows(named=True)}


def searched_keywords(sandbox, platform: str) -> list[str]:
    param = "keyword" if platform == "twitter" else "q"
    return [r.query[param][0] for r in sandbox.requests if r.path == SEARCH_PATHS[platform]]


def step_events(result, event_type: dg.DagsterEventType) -> list:
    return [e for e in result.all_events if e.event_type == event_type]


HOSTILE = {
    "bad_encoding": (Fault.bad_encoding(), "Content-Encoding"),
    "oversized": (Fault.oversized(size=20_000_000), "larger than the limit of 5000000 bytes"),
    "huge_page": (Fault.huge_page(rows=1000), "more than the limit of"),
}


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_hostile_answer_costs_one_keyword_and_the_chain_goes_on(
    warehouse, sandbox, platform, hostile, three_keywords
):
    first = three_keywords[0]  # never-searched keywords go in file order: the first one meets the fault
    fault, says = HOSTILE[hostile]
    sandbox.inject(SEARCH_PATHS[platform], fault)
    result = materialize(MAIN_ASSETS, warehouse, sandbox, platform, keywords_per_run=3)
    assert result.success  # the other keywords, profiles, HAS and the queue all ran

    pages = table(warehouse, "raw_searches", ["request_id"])
    assert sorted(pages["keyword"]) == sorted(three_keywords[1:])  # every good page once
    calls = table(warehouse, "api_calls", ["call_id"])
    bad = calls.filter(pl.col("keyword") == first)
    assert bad.height == 1, "an invalid payload is never retried"
    assert bad["error_kind"].to_list() == ["invalid_payload"] and says in bad["error"][0]
    assert calls.filter(pl.col("keyword") != first)["error"].is_null().all()
    assert table(warehouse, "profiles", ["platform_id"]).height > 0
    meta = result.asset_materializations_for_node("raw_searches")[0].metadata
    assert meta["search_failures"].value == 1
    assert meta["failures_by_kind"].value == {"invalid_payload": 1}

    state = states(warehouse, platform)[first]  # continues: asked again from its first page next time
    assert state["still_valid"] and not state["exhausted"] and not state["stopped"]
    assert state["next_page"] == 0 and state["next_cursor"] is None
    assert not step_events(result, dg.DagsterEventType.STEP_UP_FOR_RETRY)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_repeating_cursor_stops_the_keyword_for_good(warehouse, sandbox, platform, three_keywords):
    """Pages 2 and 3 point at each other: page 3's cursor is already in the ledger (stored by earlier runs)."""
    keyword = three_keywords[0]
    sandbox.inject(SEARCH_PATHS[platform], Fault.repeating_cursor(mode="cycle"))
    for _ in range(3):  # one page per keyword per run: the repeat is found in the ledger, not in memory
        assert materialize(
            ["keywords", "raw_searches"], warehouse, sandbox, platform, keywords_per_run=3
        ).success

    pages = table(warehouse, "raw_searches", ["keyword", "page"]).filter(pl.col("keyword") == keyword)
    assert pages["page"].to_list() == [0, 1, 2]
    last = pages.row(2, named=True)
    assert last["cursor_out"] == pages["cursor_in"][1], "the platform pointed back at page 1"
    assert last["stop_reason"].startswith("repeating cursor") and pages["stop_reason"][:2].is_null().all()

    state = states(warehouse, platform)[keyword]
    assert state["stopped"] and not state["exhausted"] and not state["still_valid"]
    assert state["state_reason"].startswith("stopped at page 2: repeating cursor")

    # Later runs never ask for it again, and store nothing new for it (idempotent).
    asked = len(searched_keywords(sandbox, platform))
    assert materialize(["keywords", "raw_searches"], warehouse, sandbox, platform, keywords_per_run=3).success
    assert keyword not in searched_keywords(sandbox, platform)[asked:]
    again = table(warehouse, "raw_searches", ["keyword", "page"]).filter(pl.col("keyword") == keyword)
    assert again.equals(pages)
    stored = table(warehouse, "keywords", ["keyword"]).filter(
        pl.col("keyword") == keyword
    )  # what the UI shows
    assert stored.select("still_valid", "exhausted").row(0) == (False, False)
    assert stored["state_reason"][0].startswith("stopped at page 2: repeating cursor")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_repeating_cursor_within_one_run_is_caught_before_the_next_request(
    warehouse, sandbox, platform, three_keywords
):
    keyword = three_keywords[0]
    sandbox.inject(SEARCH_PATHS[platform], Fault.repeating_cursor(mode="same"))
    result = materialize(
        ["keywords", "raw_searches"], warehouse, sandbox, platform, keywords_per_run=1, pages=10
    )
    assert result.success
    pages = table(warehouse, "raw_searches", ["page"])
    assert pages["page"].to_list() == [0, 1] and pages["stop_reason"][1] is not None
    assert searched_keywords(sandbox, platform) == [keyword, keyword], (
        "no third request for a repeated cursor"
    )
    meta = result.asset_materializations_for_node("raw_searches")[0].metadata
    assert meta["keywords_stopped_now"].value == 1 and meta["keywords_exhausted_now"].value == 0


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_drip_fed_keyword_is_cut_at_the_deadline_and_the_others_are_stored(
    warehouse, sandbox, platform, three_keywords
):
    first = three_keywords[0]
    sandbox.inject(SEARCH_PATHS[platform], *[Fault.drip(chunk=16, interval=0.05, seconds=30)] * 2)
    resources = resources_for(warehouse, sandbox)
    client = resources[platform] = type(resources[platform])(
        base_url=sandbox.base_url, **FAST_RETRIES, deadline_s=0.5
    )
    started = time.monotonic()
    result = dg.materialize(
        assets(["keywords", "raw_searches"]),
        partition_key=partition_key(today_utc(), platform),
        resources=resources,
        run_config={"ops": {"raw_searches": {"config": {"keywords_per_run": 3, "pages_per_keyword": 1}}}},
    )
    elapsed = time.monotonic() - started
    assert result.success
    assert sorted(table(warehouse, "raw_searches", ["request_id"])["keyword"]) == sorted(three_keywords[1:])
    cut = table(warehouse, "api_calls", ["call_id"]).filter(pl.col("keyword") == first)
    assert cut.height == client.max_attempts and (cut["error_kind"] == "transient").all()
    assert cut["error"].str.contains("deadline of 0.5s").all()
    # The drip alone would hold each attempt 30 s; the slack covers the other keywords' pages
    # and Dagster's in-process run set-up.
    assert elapsed <= client.worst_case_request_s() + 20, elapsed
    assert states(warehouse, platform)[first]["still_valid"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_platform_down_fails_the_step_once_without_retries_within_the_worst_case(
    warehouse, sandbox, platform, three_keywords
):
    sandbox.inject(SEARCH_PATHS[platform], Fault.down())  # every request, until reset
    resources = resources_for(warehouse, sandbox)
    client = resources[platform]
    started = time.monotonic()
    result = dg.materialize(
        assets(MAIN_ASSETS),
        partition_key=partition_key(today_utc(), platform),
        resources=resources,
        run_config={"ops": {"raw_searches": {"config": {"keywords_per_run": 3, "pages_per_keyword": 1}}}},
        raise_on_error=False,
    )
    elapsed = time.monotonic() - started
    assert not result.success
    [failure] = step_events(result, dg.DagsterEventType.STEP_FAILURE)
    assert failure.step_key == "raw_searches" and "no page fetched" in failure.step_failure_data.error.message
    assert not step_events(result, dg.DagsterEventType.STEP_UP_FOR_RETRY), "the step is never retried"
    started_steps = {e.step_key for e in step_events(result, dg.DagsterEventType.STEP_START)}
    assert started_steps == {"keywords", "raw_searches"}, "nothing runs on a failed upstream"

    calls = table(warehouse, "api_calls", ["call_id"])
    attempts = client.max_attempts
    assert calls.height == 3 * attempts == len(sandbox.requests)  # the client's budget, per keyword
    assert (calls["error_kind"] == "transient").all() and calls["status"].to_list() == [503] * calls.height
    assert table(warehouse, "raw_searches", ["request_id"]).is_empty()
    # Three keywords, each at most one request's worst case (docs/operations.md); 20 s of slack
    # covers Dagster's in-process run set-up, which the formula does not count.
    assert elapsed <= 3 * client.worst_case_request_s() + 20, elapsed
    for keyword in three_keywords:  # still valid: an outage says nothing about the keyword
        assert states(warehouse, platform)[keyword]["still_valid"]


@pytest.mark.slow
def test_a_closed_warehouse_stops_scout_run_in_seconds(tmp_path, monkeypatch, capsys):
    """Port 1 refuses at once: the first job fails, nothing after it is launched (it was 7.5 minutes)."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("SCOUT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SCOUT_WAREHOUSE_URL", "postgresql://scout@127.0.0.1:1/scout")
    started = time.monotonic()
    assert main(["run", "--keywords", "2", "--seed", "7"]) == 1
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    launched = [line for line in out.splitlines() if line.startswith("materializing ")]
    assert len(launched) == 1 and "failed on infrastructure" in err
    for job in (
        "scout_main",
        "scout_label",
        "scout_keyword_stats",
        "scout_dbt_models",
        "scout_dbt_marts",
        "scout_dbt_docs",
    ):
        assert f"not materializing {job}" in out
    assert "(not run)" in err and "cannot connect to warehouse" in err
    # One in-process run (definitions load, a refused connection, no step retry): well under a
    # minute on a loaded CI machine, against the 7.5 minutes of the step retries it replaces.
    assert elapsed <= 60, elapsed
