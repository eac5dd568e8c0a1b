"""Budgets: the caps file and its overrides, and runs on the sandbox that stop at the caps exactly.

The searching runs are real materializations of ``raw_searches`` against the built-in sandbox
(real HTTP on loopback) into real DuckDB and PostgreSQL warehouses; the caps are lowered the way
an operator would, with ``SCOUT_BUDGET_*`` variables, read through the same settings object the
binding uses. The LLM side (dollar caps, the model-call ledger) is in test_cost_ledger.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from resources.platforms.twitter import TwitterSearch
from scout_assets.partitions import partition_key, today_utc
from scout_assets.spend.budgets import BudgetOverrideError, BudgetsError, BudgetsResource, load_budgets
from scout_assets.spend.usage import spend_status
from scout_contract.settings import ScoutSettings
from scout_sandbox import Fault
from tests.pipeline_support import FAST_RETRIES, assets, materialize, resources_for

TWITTER_PRICE = 0.0002  # budgets.yaml: the RapidAPI plan's USD per request


# --- the file and its overrides ---------------------------------------------------------------


def test_the_shipped_file_prices_every_platform_and_caps_what_it_says():
    budgets = load_budgets()
    assert budgets.price("twitter") == TWITTER_PRICE and budgets.price("bluesky") == 0.0
    twitter = budgets.platform("twitter")
    assert twitter.plan_requests_per_month == 500_000 and twitter.usd_per_run is None
    assert budgets.model("claude-haiku-4.5").usd_per_day == 5.0
    assert budgets.model("local-minilm").usd_per_run is None  # not listed: no cap
    caps = {(c.scope, c.name, c.field): c for c in budgets.caps()}
    assert ("platform", "twitter", "usd_per_run") not in caps  # a null cap is not a cap
    assert caps[("platform", "twitter", "plan_requests_per_month")].period == "month"
    assert caps[("model", "claude-sonnet-4.5", "usd_per_day")].unit == "usd"
    assert {c.source for c in budgets.caps()} == {"budgets.yaml"}


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        (
            "platforms:\n  twitter: {price_per_request_usd: 0.0002, calls_per_day: -1}\n"
            "  bluesky: {price_per_request_usd: 0}\n",
            "platforms.twitter.calls_per_day",
            "must be >= 0, got int -1",
        ),
        (
            "platforms:\n  twitter: {price_per_request_usd: 0.0002, calls_per_run: 2.5}\n"
            "  bluesky: {price_per_request_usd: 0}\n",
            "platforms.twitter.calls_per_run",
            "must be an integer",
        ),
        (
            "platforms:\n  twitter: {calls_per_run: 5}\n  bluesky: {price_per_request_usd: 0}\n",
            "platforms.twitter.price_per_request_usd",
            "is missing",
        ),
        ("platforms:\n  twitter: {price_per_request_usd: 0.0002}\n", "platforms", "missing: bluesky"),
        (
            "platforms:\n  twitter: {price_per_request_usd: 0}\n  bluesky: {price_per_request_usd: 0}\n"
            "models:\n  gpt-9: {usd_per_day: 1}\n",
            "models",
            "'gpt-9' is not a model of models.yaml",
        ),
        (
            "platforms:\n  twitter: {price_per_request_usd: 0, calls_per_week: 3}\n"
            "  bluesky: {price_per_request_usd: 0}\n",
            "platforms.twitter.calls_per_week",
            "is not a known field",
        ),
    ],
)
def test_a_broken_file_names_the_field(tmp_path: Path, text: str, field: str, problem: str):
    path = tmp_path / "budgets.yaml"
    path.write_text(text)
    with pytest.raises(BudgetsError) as error:
        load_budgets(path=path)
    assert error.value.field == field and problem in error.value.problem
    assert str(path) in str(error.value)


def test_environment_overrides_are_read_by_the_settings_and_applied_with_their_source():
    environ = {
        "SCOUT_BUDGET_TWITTER_CALLS_PER_DAY": " 40 ",
        "SCOUT_BUDGET_TWITTER_USD_PER_DAY": "none",  # removes the cap
        "SCOUT_BUDGET_CLAUDE_HAIKU_4_5_USD_PER_RUN": "0.05",
        "SCOUT_BUDGET_LOCAL_MINILM_USD_PER_DAY": "0",  # a model the file does not list
        "SCOUT_BUDGET_BLUESKY_CALLS_PER_RUN": "",  # blank: unset
        "SCOUT_WAREHOUSE_URL": "",
    }
    settings = ScoutSettings.from_environ(environ)
    assert set(settings.budget_overrides) == {
        "SCOUT_BUDGET_TWITTER_CALLS_PER_DAY",
        "SCOUT_BUDGET_TWITTER_USD_PER_DAY",
        "SCOUT_BUDGET_CLAUDE_HAIKU_4_5_USD_PER_RUN",
        "SCOUT_BUDGET_LOCAL_MINILM_USD_PER_DAY",
    }
    budgets = BudgetsResource.from_settings(settings).load()
    assert budgets.platform("twitter").calls_per_day == 40
    assert budgets.platform("twitter").usd_per_day is None
    assert budgets.platform("bluesky").calls_per_run == 100  # the file's
    assert budgets.model("claude-haiku-4.5").usd_per_run == 0.05
    assert budgets.model("local-minilm").usd_per_day == 0.0
    assert budgets.source("platform", "twitter", "calls_per_day") == "SCOUT_BUDGET_TWITTER_CALLS_PER_DAY"
    assert budgets.source("platform", "twitter", "calls_per_run") == "budgets.yaml"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SCOUT_BUDGET_TWITER_CALLS_PER_DAY", "5", "names no platform or model"),
        ("SCOUT_BUDGET_TWITTER_CALLS_PER_WEEK", "5", "'CALLS_PER_WEEK' is not a budget field of twitter"),
        ("SCOUT_BUDGET_CLAUDE_HAIKU_4_5_CALLS_PER_DAY", "5", "not a budget field of claude-haiku-4.5"),
        ("SCOUT_BUDGET_TWITTER_CALLS_PER_DAY", "1.5", "is not a whole number >= 0"),
        ("SCOUT_BUDGET_TWITTER_USD_PER_DAY", "-1", "is not a number of USD >= 0"),
        ("SCOUT_BUDGET_TWITTER_USD_PER_DAY", "ten", "is not a number of USD >= 0"),
        ("SCOUT_BUDGET_TWITTER_PRICE_PER_REQUEST_USD", "none", "a price cannot be removed"),
    ],
)
def test_a_bad_override_names_the_variable(variable: str, value: str, message: str):
    with pytest.raises(BudgetOverrideError) as error:
        load_budgets({variable: value})
    assert str(error.value).startswith(variable) and message in str(error.value)


# --- runs that stop at the caps ---------------------------------------------------------------


def search(warehouse, sandbox, platform="twitter", *, keywords=2, pages=2, resources=None):
    """One scheduled-style search run of today's partition; its materialization metadata."""
    if resources is None:
        result = materialize(
            ["raw_searches"], warehouse, sandbox, platform, keywords_per_run=keywords, pages=pages
        )
    else:
        result = dg.materialize(
            assets(["raw_searches"]),
            partition_key=partition_key(today_utc(), platform),
            resources=resources,
            run_config={
                "ops": {
                    "raw_searches": {"config": {"keywords_per_run": keywords, "pages_per_keyword": pages}}
                }
            },
        )
    assert result.success
    [event] = result.asset_materializations_for_node("raw_searches")
    return {name: value.value for name, value in event.metadata.items()}


def pages_of(warehouse) -> list[dict]:
    return list(
        warehouse.read(
            "select keyword, page, cursor_in, cursor_out, fetched_at from raw_searches order by fetched_at, page"
        ).iter_rows(named=True)
    )


def calls_and_cost(warehouse) -> tuple[int, float]:
    row = warehouse.read("select count(*) as n, sum(cost_usd) as usd from api_calls").row(0)
    return int(row[0]), float(row[1] or 0.0)


def stops(warehouse) -> list[dict]:
    return list(warehouse.read("select * from budget_stops order by stopped_at").iter_rows(named=True))


def test_a_day_of_runs_stops_at_the_caps_exactly_and_the_next_run_resumes(warehouse, sandbox, monkeypatch):
    # 3 requests a run, 7 a day; each run wants 2 keywords x 2 pages = 4 requests (one per X page).
    monkeypatch.setenv("SCOUT_BUDGET_TWITTER_CALLS_PER_RUN", "3")
    monkeypatch.setenv("SCOUT_BUDGET_TWITTER_CALLS_PER_DAY", "7")
    seen: list[int] = []

    first = search(warehouse, sandbox)
    seen.append(calls_and_cost(warehouse)[0])
    one = pages_of(warehouse)
    # k1 pages 0 and 1, k2 page 0; k2's page 1 would have been the 4th request of the run.
    k1, k2 = one[0]["keyword"], one[2]["keyword"]
    assert [(p["keyword"], p["page"]) for p in one] == [(k1, 0), (k1, 1), (k2, 0)]
    assert "calls_per_run" in first["budget_stop"] and first["budget"]["calls_per_run"]["used"] == 3
    [stop] = stops(warehouse)
    assert (stop["scope"], stop["name"], stop["cap_field"], stop["period"], stop["unit"]) == (
        "platform",
        "twitter",
        "calls_per_run",
        "run",
        "calls",
    )
    assert (stop["used"], stop["cap"], stop["next_cost"]) == (3.0, 3.0, 1.0)
    assert json.loads(stop["left_keywords"]) == [k2] and stop["left_count"] == 1

    # Run 2 resumes k2 where it stopped (page 1, from its cursor) before any never-searched
    # keyword, although never-searched keywords normally go first.
    second = search(warehouse, sandbox)
    seen.append(calls_and_cost(warehouse)[0])
    two = pages_of(warehouse)[len(one) :]
    assert (two[0]["keyword"], two[0]["page"]) == (k2, 1)
    assert two[0]["cursor_in"] == one[2]["cursor_out"]
    assert second["keywords_resumed"] == [k2]
    k3 = next(p["keyword"] for p in two if p["keyword"] != k2)

    # Run 3 meets the day's cap after one request; run 4 cannot send any.
    third = search(warehouse, sandbox)
    seen.append(calls_and_cost(warehouse)[0])
    fourth = search(warehouse, sandbox)
    seen.append(calls_and_cost(warehouse)[0])
    assert seen == [3, 6, 7, 7]  # exactly the caps, never one request more
    assert "calls_per_day" in third["budget_stop"] and "calls_per_day" in fourth["budget_stop"]
    assert fourth["api_calls"] == 0 and fourth["pages_fetched"] == 0
    fields = [(s["cap_field"], s["used"], s["cap"]) for s in stops(warehouse)]
    assert fields == [
        ("calls_per_run", 3.0, 3.0),
        ("calls_per_run", 3.0, 3.0),
        ("calls_per_day", 7.0, 7.0),
        ("calls_per_day", 7.0, 7.0),
    ]
    left = json.loads(stops(warehouse)[-1]["left_keywords"])
    assert left[0] == k3  # still owed: its second page

    # The ledger: every request priced, the total is requests x price to the cent.
    calls, usd = calls_and_cost(warehouse)
    assert round(usd, 2) == round(calls * TWITTER_PRICE, 2) and usd == pytest.approx(
        7 * TWITTER_PRICE, abs=1e-12
    )
    now = datetime.now(UTC)
    status = {
        (u.name, u.period, u.unit): u
        for u in spend_status(
            warehouse,
            now,
            BudgetsResource.from_settings(
                ScoutSettings.from_environ({"SCOUT_BUDGET_TWITTER_CALLS_PER_DAY": "7"})
            ).load(),
        )
    }
    day_calls = status[("twitter", "day", "calls")]
    assert (day_calls.used, day_calls.cap, day_calls.share) == (7.0, 7.0, 1.0)
    assert status[("twitter", "month", "requests")].used == 7.0
    assert status[("twitter", "day", "usd")].used == pytest.approx(7 * TWITTER_PRICE, abs=1e-12)
    assert ("twitter", "run", "calls") not in status  # per-run caps are the runs' own metadata

    # Lift the day's cap (as tomorrow would): the next run starts with what the stop left.
    monkeypatch.setenv("SCOUT_BUDGET_TWITTER_CALLS_PER_DAY", "none")
    fifth = search(warehouse, sandbox)
    resumed = pages_of(warehouse)[len(one) + len(two) + 1 :]
    assert fifth["keywords_resumed"][0] == k3 and resumed[0]["keyword"] == k3
    assert calls_and_cost(warehouse)[0] == 10


def test_a_retry_that_would_pass_the_cap_is_not_sent(duckdb_warehouse, sandbox, monkeypatch):
    # Two 503s, then the third attempt would be the run's third request: the gate refuses it.
    monkeypatch.setenv("SCOUT_BUDGET_TWITTER_CALLS_PER_RUN", "2")
    sandbox.inject("/api/search/people", Fault.down(requests=2, status=503))
    resources = resources_for(duckdb_warehouse, sandbox)
    resources["twitter"] = TwitterSearch(base_url=sandbox.base_url, **{**FAST_RETRIES, "max_attempts": 3})
    meta = search(duckdb_warehouse, sandbox, keywords=1, pages=1, resources=resources)
    calls = duckdb_warehouse.read("select status, attempt, cost_usd from api_calls order by attempt")
    assert calls["status"].to_list() == [503, 503] and calls["attempt"].to_list() == [1, 2]
    assert calls["cost_usd"].to_list() == [TWITTER_PRICE, TWITTER_PRICE]  # failed attempts are billed too
    assert len([r for r in sandbox.requests if r.path.startswith("/api/search/people")]) == 2
    assert meta["pages_fetched"] == 0 and "calls_per_run" in meta["budget_stop"]
    [stop] = stops(duckdb_warehouse)
    assert (stop["cap_field"], stop["used"], stop["next_cost"], stop["left_count"]) == (
        "calls_per_run",
        2.0,
        1.0,
        1,
    )


def test_a_bluesky_page_starts_only_when_all_its_requests_fit(duckdb_warehouse, sandbox, monkeypatch):
    # A Bluesky page is searchActors + getProfiles: 2 requests. A cap of 5 admits 2 pages (4),
    # and the third page is never started (it would take the 6th).
    monkeypatch.setenv("SCOUT_BUDGET_BLUESKY_CALLS_PER_RUN", "5")
    meta = search(duckdb_warehouse, sandbox, "bluesky", keywords=3, pages=1)
    assert meta["api_calls"] == 4 and meta["pages_fetched"] == 2
    [stop] = stops(duckdb_warehouse)
    assert (stop["used"], stop["cap"], stop["next_cost"]) == (4.0, 5.0, 2.0)
    assert calls_and_cost(duckdb_warehouse) == (4, 0.0)  # the public AppView is free


def test_a_dollar_cap_stops_like_a_request_cap(duckdb_warehouse, sandbox, monkeypatch):
    # USD 0.001 a day at USD 0.0002 a request: exactly 5 requests, whatever the float sums say.
    monkeypatch.setenv("SCOUT_BUDGET_TWITTER_USD_PER_DAY", "0.001")
    meta = search(duckdb_warehouse, sandbox, keywords=3, pages=2)
    assert meta["api_calls"] == 5 and "usd_per_day" in meta["budget_stop"]
    [stop] = stops(duckdb_warehouse)
    assert (
        stop["unit"] == "usd" and stop["used"] == pytest.approx(0.001) and stop["next_cost"] == TWITTER_PRICE
    )
    # the caps in effect are recorded for the mart, with where each came from
    caps = duckdb_warehouse.read("select * from budget_caps where name = 'twitter'")
    row = caps.filter(caps["cap_field"] == "usd_per_day").row(0, named=True)
    assert row["cap"] == 0.001 and row["source"] == "SCOUT_BUDGET_TWITTER_USD_PER_DAY"
