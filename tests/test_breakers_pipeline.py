"""A platform 100% down, end to end: real ``raw_searches`` materializations against the sandbox.

X answers 503 to everything (the sandbox's ``down`` fault) while Bluesky works. With the shipped
policy (N = 5 failed pages in a row, 5-minute cool-down) each cool-down may cost X at most N + 1
calls: N to open the breaker, then one probe per cool-down. The client is set to one attempt per
request here, so the sandbox's request log counts exactly the calls the breaker decided on.
Time is the one thing moved by hand: the breaker's clock jumps across each cool-down.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import dagster as dg
import pytest

import scout_assets.breakers as breakers
from resources.platforms.twitter import TwitterSearch
from scout_assets.partitions import partition_key, today_utc
from scout_sandbox import Fault
from tests.llm_server import FakeLLMServer
from tests.pipeline_support import FAST_RETRIES, MAIN_ASSETS, assets, materialize, resources_for
from tests.test_labeling_asset import label

N = 5  # config/breakers.yaml: consecutive_failures
KEYWORDS_PER_RUN = 8  # more than N + 1: the breaker, not the run's size, bounds the calls


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, 0)

    def __call__(self) -> datetime:
        return self.now

    def pass_cooldown(self) -> None:
        self.now += timedelta(seconds=301)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(breakers, "utc_now", clock)
    return clock


def _search(warehouse, sandbox, platform: str) -> dg.ExecuteInProcessResult:
    resources = resources_for(warehouse, sandbox)
    resources["twitter"] = TwitterSearch(base_url=sandbox.base_url, **{**FAST_RETRIES, "max_attempts": 1})
    return dg.materialize(
        assets(["keywords", "raw_searches"]),
        partition_key=partition_key(today_utc(), platform),
        resources=resources,
        run_config={"ops": {"raw_searches": {"config": {"keywords_per_run": KEYWORDS_PER_RUN}}}},
        raise_on_error=False,
    )


def _x_calls(sandbox) -> int:
    return sum(1 for request in sandbox.requests if request.path == "/api/search/people")


def _breaker(warehouse, platform: str) -> dict:
    return warehouse.read("select * from circuit_breakers where name = $1", [platform]).row(0, named=True)


def _metadata(result: dg.ExecuteInProcessResult) -> dict:
    [materialization] = result.asset_materializations_for_node("raw_searches")
    return {key: value.value for key, value in materialization.metadata.items()}


@pytest.mark.slow
def test_a_platform_down_costs_n_plus_one_calls_per_cooldown_and_the_other_carries_on(
    warehouse, sandbox, clock
):
    sandbox.inject("/api/search/", Fault.down())  # X down until reset

    # 1. Closed: N failed pages open the breaker; the run's other keywords are not sent.
    first = _search(warehouse, sandbox, "twitter")
    assert not first.success  # nothing came back at all: the step fails, visibly
    assert _x_calls(sandbox) == N
    state = _breaker(warehouse, "twitter")
    assert (state["state"], state["consecutive_failures"]) == ("open", N)
    assert state["last_change"] == f"opened: {N} failed calls in a row"
    calls = warehouse.read(
        "select count(*) as n, count(error) as failed from api_calls where platform = 'twitter'"
    )
    assert calls.rows() == [(N, N)]  # every call sent is on the ledger; the refused ones were never sent

    # 2. Bluesky carries on: its own breaker, closed, pages stored.
    other = _search(warehouse, sandbox, "bluesky")
    assert other.success
    assert _metadata(other)["pages_fetched"] == KEYWORDS_PER_RUN
    assert _breaker(warehouse, "bluesky")["state"] == "closed"

    # 3. Within the cool-down: the X run skips without a call, and says so.
    clock.now += timedelta(seconds=299)
    skipped = _search(warehouse, sandbox, "twitter")
    assert skipped.success and _x_calls(sandbox) == N
    meta = _metadata(skipped)
    assert meta["skipped"].startswith(
        "circuit breaker platform twitter is open: open since 2026-03-01 12:00:00 UTC"
    )
    assert meta["circuit_breaker"]["state"] == "open"

    # 4. Each later cool-down: exactly one probe, which fails and reopens the breaker.
    for cycle in (1, 2):
        clock.pass_cooldown()
        probe = _search(warehouse, sandbox, "twitter")
        assert not probe.success
        assert _x_calls(sandbox) == N + cycle  # N + 1 in the first cool-down, + 1 in each after it
        assert _breaker(warehouse, "twitter")["last_change"] == "reopened: the probe failed"

    # 5. X is back: the next probe succeeds, the breaker closes and the run searches on.
    sandbox.reset()
    clock.pass_cooldown()
    back = _search(warehouse, sandbox, "twitter")
    assert back.success and _metadata(back)["pages_fetched"] == KEYWORDS_PER_RUN
    assert _breaker(warehouse, "twitter")["state"] == "closed"

    events = warehouse.read(
        "select event, count(*) as n from breaker_events where name = 'twitter' group by event order by event"
    )
    # one skip per refused run: the run that opened it, the one inside the cool-down, each failed probe's run
    assert dict(events.rows()) == {"closed": 1, "opened": 1, "probe": 3, "reopened": 2, "skipped": 4}
    assert warehouse.read("select count(*) as n from breaker_events where name = 'bluesky'")["n"][0] == 0


@pytest.mark.slow
def test_a_provider_that_refuses_every_batch_is_skipped_until_a_probe_succeeds(warehouse, sandbox, clock):
    """A model provider answering 401 to every batch: N batches open its breaker mid-run."""
    # a queue of more than N batches (groq's batch size is 25), so the breaker opens mid-run
    assert materialize(MAIN_ASSETS, warehouse, sandbox, "twitter", keywords_per_run=12).success
    assert warehouse.read("select count(*) as n from profiles_to_score")["n"][0] > (N + 1) * 25
    with FakeLLMServer("unauthorized") as server:
        first = label(warehouse, server, max_batches=8, raise_on_error=False)
        assert not first.success  # the 6th batch was refused: the step says so
        assert len(server.requests) == N
        failure = next(e for e in first.all_events if e.event_type_value == "STEP_FAILURE")
        assert (
            "circuit breaker provider groq refused the next batch" in failure.step_failure_data.error.message
        )

        skipped = label(warehouse, server, max_batches=8)
        assert skipped.success and len(server.requests) == N  # open: not one call
        [meta] = skipped.asset_materializations_for_node("llm_labels")
        assert meta.metadata["skipped"].value.startswith("circuit breaker provider groq is open")

        server.mode = "good"
        clock.pass_cooldown()
        back = label(warehouse, server, max_batches=2)
    assert back.success and len(server.requests) == N + 2  # the probe batch closed it, the next went through
    assert warehouse.read("select state from circuit_breakers where name = 'groq'")["state"][0] == "closed"
    llm = warehouse.read("select count(*) as n from llm_labels where model = 'meta-maverick-17b'")
    assert llm["n"][0] == 2 * 25
