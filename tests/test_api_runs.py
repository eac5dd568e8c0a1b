"""A search through the API, end to end: a real Dagster webserver runs it, the API streams its progress.

One run for the whole suite (module scope): ``dagster-webserver`` starts on a free loopback port
with a temporary DAGSTER_HOME and SCOUT_DATA_DIR (the embedded default: DuckDB and the built-in
sandbox of the platforms), ``POST /v1/searches`` launches ``scout_main`` through Dagster's GraphQL
client, and the test follows the run's server-sent events until it ends. The instance launches
runs at once (``DefaultRunCoordinator``) instead of through the daemon's queue: without the daemon
no schedule or sensor starts other runs that would race this one for the DuckDB file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from resources.warehouse import WarehouseClient, parse_warehouse_url
from scout_leads.api_keys import create_key
from tests.api_support import api_settings, free_port, serve
from tests.dbt_fixtures import UX

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
KEYWORD = "api probe keyword"  # not in the keyword file: only the API's run config can ask for it
INSTANCE_YAML = """
telemetry:
  enabled: false
run_coordinator:
  module: dagster._core.run_coordinator
  class: DefaultRunCoordinator
"""


def _wait_for_webserver(url: str, process: subprocess.Popen, seconds: float = 180) -> None:
    query = "{ repositoriesOrError { ... on RepositoryConnection { nodes { jobs { name } } } } }"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dagster-webserver exited with {process.returncode}")
        try:
            nodes = httpx.post(f"{url}/graphql", json={"query": query}, timeout=10).json()["data"][
                "repositoriesOrError"
            ]["nodes"]
            if any(job["name"] == "scout_main" for node in nodes for job in node["jobs"]):
                return
        except (httpx.HTTPError, KeyError, TypeError, ValueError):
            pass
        time.sleep(1)
    raise RuntimeError(f"dagster-webserver did not serve scout_main at {url} within {seconds:g} s")


@dataclass(frozen=True)
class SearchRun:
    run_id: str
    key_id: str
    events: list[tuple[str, dict]]  # (event name, data) as streamed
    status: dict
    cost: dict
    warehouse: WarehouseClient


def _stream(client: httpx.Client, run_id: str) -> list[tuple[str, dict]]:
    """Every server-sent event of the run's stream, until the server ends it."""
    events, name = [], "message"
    with client.stream("GET", f"/v1/runs/{run_id}/events", timeout=httpx.Timeout(30, read=600)) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith(
            "text/event-stream"
        )
        for line in response.iter_lines():
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                events.append((name, json.loads(line.removeprefix("data:").strip())))
                name = "message"
    return events


@pytest.fixture(scope="module")
def search_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchRun]:
    work = tmp_path_factory.mktemp("api-runs")
    home, data = work / "dagster_home", work / "data"
    home.mkdir()
    data.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_YAML)
    port = free_port()
    dagster_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "SCOUT_DATA_DIR": str(data),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    env.pop("SCOUT_WAREHOUSE_URL", None)
    webserver = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dagster_webserver",
            "-w",
            "workspace.yaml",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for_webserver(dagster_url, webserver)
        warehouse_url = f"duckdb://{data / 'scout.duckdb'}"
        with serve(api_settings(warehouse_url, data, dagster_url=dagster_url), poll_seconds=0.5) as url:
            warehouse = WarehouseClient(parse_warehouse_url(warehouse_url))
            key, text = create_key(warehouse, "search-bot", "write", "test")
            with httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {text}"}, timeout=60
            ) as client:
                launched = client.post(
                    "/v1/searches",
                    json={"audience": UX, "keywords": [f"  {KEYWORD} "], "platforms": ["twitter"]},
                )
                assert launched.status_code == 202, launched.text
                body = launched.json()
                assert body["keywords"] == [KEYWORD] and [r["platform"] for r in body["runs"]] == ["twitter"]
                run_id = body["runs"][0]["run_id"]
                events = _stream(client, run_id)
                status = client.get(f"/v1/runs/{run_id}").json()
                cost = client.get(f"/v1/runs/{run_id}/cost").json()
            yield SearchRun(run_id, key.key_id, events, status, cost, warehouse)
    finally:
        os.killpg(webserver.pid, signal.SIGTERM)
        try:
            webserver.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(webserver.pid, signal.SIGKILL)


def test_the_search_runs_to_success_with_its_progress_streamed(search_run):
    names = [name for name, _ in search_run.events]
    assert names[-1] == "end" and set(names[:-1]) == {"progress"}, names
    final = search_run.events[-1][1]
    assert final["status"] == "SUCCESS" and final["finished"] is True
    # Five assets, one step each; every one done by the end, and the counts never go back.
    assert final["steps"]["total"] == 5 and final["steps"]["done"] == 5 and final["steps"]["failed"] == 0
    done = [data["steps"]["done"] for _, data in search_run.events]
    assert done == sorted(done)
    assert search_run.status == final
    assert final["tags"]["scout/source"] == "api" and final["tags"]["scout/api_key"] == search_run.key_id
    assert final["tags"]["dagster/partition"].endswith("|twitter")


def test_the_run_searched_the_given_keywords(search_run):
    pages = search_run.warehouse.read(
        "select platform, count(*) as n from raw_searches where keyword = $1 group by platform", [KEYWORD]
    )
    assert pages.rows() == [("twitter", 1)]  # one page of the given keyword, on the platform asked
    calls = search_run.warehouse.read(
        "select distinct keyword from api_calls where run_id = $1", [search_run.run_id]
    )
    assert calls["keyword"].to_list() == [KEYWORD]  # only the given keyword, none from the file


def test_the_cost_endpoint_is_the_ledger_sum(search_run):
    ledger = search_run.warehouse.read(
        "select count(*) as calls, sum(cost_usd) as usd from api_calls where run_id = $1", [search_run.run_id]
    ).row(0, named=True)
    assert ledger["calls"] >= 1 and ledger["usd"] > 0  # the sandboxed X plan is priced per request
    assert search_run.cost["platform_calls"] == ledger["calls"]
    assert search_run.cost["platform_usd"] == pytest.approx(ledger["usd"])
    assert search_run.cost["usd"] == pytest.approx(ledger["usd"]) and search_run.cost["model_calls"] == 0


def test_a_run_that_names_its_keywords_searches_only_those():
    """``RawSearchConfig.keywords``: the file's entry when it lists the keyword, else a new one."""
    from scout_assets.assets.raw_searches import requested_entries
    from scout_assets.domain.keyword_file import KeywordEntry

    listed = [
        KeywordEntry("ux research", ("twitter", "bluesky"), ("core",), enabled=True, line=2),
        KeywordEntry("old words", ("twitter",), (), enabled=False, line=3),
        KeywordEntry("sky only", ("bluesky",), (), enabled=True, line=4),
    ]
    chosen = requested_entries(
        listed, ["UX  Research", "old words", "sky only", "brand new", "brand new "], "twitter"
    )
    assert [(e.keyword, e.enabled, e.line) for e in chosen] == [
        ("ux research", True, 2),  # the file's entry (matched as the file matches: case-insensitively)
        ("old words", False, 3),  # disabled in the file: stays off
        ("sky only", True, 7),  # listed for another platform only: searched here as new
        ("brand new", True, 8),  # not listed: new, once (numbered after the file, by request order)
    ]
    assert all("twitter" in e.platforms for e in chosen)
