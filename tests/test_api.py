"""The HTTP API, driven over real HTTP on loopback against the demo marts (DuckDB and PostgreSQL).

The app is the real one (``scout_api.app.create_app``) under uvicorn; the warehouse is a copy of
the demo warehouse ``tests/dbt_fixtures.py`` builds with a real dbt run (DuckDB), or the same demo
built on a fresh PostgreSQL database. Expectations come from the same ``scout_leads`` functions
the dashboard and the CLI use (lead list order, current state) and from the demo rows. Searches
and run progress against a real Dagster webserver are in tests/test_api_runs.py; here Dagster is
unreachable on purpose, to check the 503.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from resources.warehouse import WarehouseClient, parse_warehouse_url
from scout_contract.settings import ScoutSettings
from scout_leads import lead_list
from scout_leads.api_keys import create_key, revoke_key
from scout_leads.lead_list import LeadFilters
from scout_leads.reader import MartReader
from scout_leads.state import current_state
from tests.api_support import api_settings, serve
from tests.conftest import postgres_database
from tests.dbt_fixtures import UX, build_demo, demo_duckdb_marts

EVERY_VERDICT = lead_list.VERDICTS
SQL_LOOKING = "x' or 1=1; drop table profiles; --"


@dataclass(frozen=True)
class ApiUnderTest:
    url: str  # the API's base URL
    warehouse_url: str
    settings: ScoutSettings
    read_key: str
    write_key: str
    write_key_name: str

    @property
    def warehouse(self) -> WarehouseClient:
        return WarehouseClient(parse_warehouse_url(self.warehouse_url))

    def client(self, key: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


BACKENDS = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param("postgres", id="postgres", marks=[pytest.mark.postgres, pytest.mark.slow]),
]


@pytest.fixture(scope="module", params=BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiUnderTest]:
    """The API over the demo marts, with a read key and a write key; one per backend and module."""
    work = tmp_path_factory.mktemp(f"api-{request.param}")
    if request.param == "duckdb":
        # A copy: the shared demo file stays as the other tests expect it.
        copy = work / "scout.duckdb"
        shutil.copyfile(demo_duckdb_marts().path, copy)
        yield from _api_over(f"duckdb://{copy}", work)
    else:
        with postgres_database() as url:
            build_demo(url, work)
            yield from _api_over(url, work)


def _api_over(warehouse_url: str, work: Path) -> Iterator[ApiUnderTest]:
    settings = api_settings(warehouse_url, work)
    with serve(settings) as url:  # the app's start syncs the schema: api_keys exists from here on
        warehouse = WarehouseClient(parse_warehouse_url(warehouse_url))
        _, read_key = create_key(warehouse, "crm-export", "read", "test")
        write, write_key = create_key(warehouse, "outreach-bot", "write", "test")
        yield ApiUnderTest(url, warehouse_url, settings, read_key, write_key, write.name)


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body  # one shape for every error
    assert {"code", "message"} <= set(body["error"])
    return body["error"]


# --- keys -----------------------------------------------------------------------------------------


def test_a_request_without_a_key_is_401(api):
    with api.client(None) as client:
        response = client.get("/v1/leads", params={"audience": UX})
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert error_of(response)["code"] == "missing_api_key"


@pytest.mark.parametrize(
    "wrong",
    [
        "not-a-key",
        "scout_0123456789ab_wrong-secret",  # well-formed, unknown id
        "READ-WITH-WRONG-SECRET",  # the read key's id with another secret (built below)
    ],
)
def test_a_wrong_key_is_401_and_never_echoed(api, wrong):
    if wrong == "READ-WITH-WRONG-SECRET":
        wrong = api.read_key[: len("scout_0123456789ab_")] + "x" * 43
    with api.client(wrong) as client:
        response = client.get("/v1/leads", params={"audience": UX})
    assert response.status_code == 401
    error = error_of(response)
    assert error["code"] == "invalid_api_key"
    assert wrong not in response.text


def test_a_revoked_key_is_refused_at_once(api):
    warehouse = api.warehouse
    key, text = create_key(warehouse, "short-lived", "write", "test")
    with api.client(text) as client:
        assert client.get("/v1/exclusions").status_code == 200
        revoke_key(warehouse, key.key_id, "test")
        response = client.get("/v1/exclusions")
    assert response.status_code == 401
    assert error_of(response)["code"] == "revoked_api_key"
    assert key.key_id in response.json()["error"]["message"] and text not in response.text


def test_a_read_key_cannot_write(api):
    before = api.warehouse.read("select count(*) as n from lead_events")["n"][0]
    with api.client(api.read_key) as client:
        moved = client.post(
            "/v1/leads/twitter/bo_interviews/state", json={"audience": UX, "state": "contacted"}
        )
        excluded = client.post(
            "/v1/exclusions",
            json={"platform": "twitter", "kind": "handle", "value": "bo_interviews", "reason": "test"},
        )
        assert client.get("/v1/exclusions").status_code == 200  # reading is what it may do
    for response in (moved, excluded):
        assert response.status_code == 403
        assert error_of(response)["code"] == "insufficient_scope"
    assert api.warehouse.read("select count(*) as n from lead_events")["n"][0] == before


def test_the_cli_manages_the_keys_the_api_accepts(api, monkeypatch, capsys):
    from scout_cli.main import main

    monkeypatch.setenv("SCOUT_WAREHOUSE_URL", api.warehouse_url)
    assert main(["api-key", "create", "--name", "cli-made", "--scope", "read", "--by", "ana"]) == 0
    created = capsys.readouterr()
    key = created.out.strip()
    key_id = key.split("_")[1]
    assert key.startswith("scout_") and "shown only now" in created.err
    with api.client(key) as client:
        assert client.get("/v1/exclusions").status_code == 200
        assert main(["api-key", "list"]) == 0
        listing = capsys.readouterr().out
        assert f"{key_id}\tcli-made\tread\tactive\tana" in listing and key.split("_", 2)[2] not in listing
        assert main(["api-key", "revoke", key_id, "--by", "ana"]) == 0
        assert client.get("/v1/exclusions").status_code == 401
    assert main(["api-key", "revoke", key_id]) == 2  # already revoked: bad input, exit 2
    assert main(["api-key", "create", "--name", " ", "--scope", "read"]) == 2


def test_keys_are_stored_as_digests_only(api):
    rows = api.warehouse.read("select * from api_keys")
    stored = " ".join(str(value) for row in rows.iter_rows() for value in row)
    for key in (api.read_key, api.write_key):
        secret = key.split("_", 2)[2]
        assert secret not in stored and key not in stored


# --- bodies and values ----------------------------------------------------------------------------


def test_an_oversized_body_is_413_before_parsing(api):
    big = {"platform": "twitter", "kind": "handle", "value": "x", "reason": "y" * 70_000}
    with api.client(api.write_key) as client:
        declared = client.post("/v1/exclusions", json=big)

        def chunks():  # no Content-Length: the limit is counted as the body streams in
            yield b'{"platform": "twitter", "reason": "'
            for _ in range(80):
                yield b"y" * 1024
            yield b'"}'

        streamed = client.post(
            "/v1/exclusions", content=chunks(), headers={"content-type": "application/json"}
        )
    for response in (declared, streamed):
        assert response.status_code == 413
        assert error_of(response)["code"] == "body_too_large"


def test_malformed_json_is_422(api):
    with api.client(api.write_key) as client:
        response = client.post(
            "/v1/exclusions", content=b'{"platform": "twitter",', headers={"content-type": "application/json"}
        )
    assert response.status_code == 422
    assert error_of(response)["code"] == "malformed_json"


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "field"),
    [
        ("get", "/v1/leads", {"audience": UX, "limit": 100_000}, None, "query.limit"),
        ("get", "/v1/leads", {"audience": UX, "verdicts": "yes"}, None, "query.verdicts"),
        ("get", "/v1/leads", {"audience": UX, "has_min": "high"}, None, "query.has_min"),
        ("get", "/v1/leads", {}, None, "query.audience"),
        ("get", "/v1/leads/mastodon/ada", {"audience": UX}, None, "path.platform"),
        ("post", "/v1/exclusions", None, {"platform": "twitter", "kind": "nope", "value": "a", "reason": "b"}, "body.kind"),
        ("post", "/v1/exclusions", None, {"platform": "twitter", "kind": "domain", "value": "not a domain", "reason": "b"}, "domain"),
        ("post", "/v1/leads/twitter/ada_research/state", None, {"audience": UX, "state": "won"}, "body.state"),
        ("post", "/v1/searches", None, {"audience": "nobody.v9", "keywords": ["ux"]}, "body.audience"),
        ("post", "/v1/searches", None, {"audience": UX, "keywords": []}, "body.keywords"),
        ("get", "/v1/runs/not-a-run-id", None, None, "path.run_id"),
    ],
)  # fmt: skip
def test_invalid_values_are_422_naming_the_field(api, method, path, params, body, field):
    with api.client(api.write_key) as client:
        response = client.request(method, path, params=params, json=body)
    assert response.status_code == 422, response.text
    assert field in error_of(response)["message"]


def test_sql_looking_filters_are_plain_values(api):
    with api.client(api.read_key) as client:
        for params in (
            {"audience": UX, "search": SQL_LOOKING, "verdicts": list(EVERY_VERDICT)},
            {"audience": UX, "keyword": "ux research' or '1'='1", "verdicts": list(EVERY_VERDICT)},
            {"audience": SQL_LOOKING},
        ):
            response = client.get("/v1/leads", params=params)
            assert response.status_code == 200, response.text
            assert (response.json()["total"], response.json()["items"]) == (0, [])
        detail = client.get(f"/v1/leads/twitter/{SQL_LOOKING}", params={"audience": UX})
        assert detail.status_code == 404 and error_of(detail)["code"] == "lead_not_found"
    # Nothing was dropped: the profiles and the marts are all there.
    assert api.warehouse.read("select count(*) as n from profiles")["n"][0] == 9
    with api.client(api.read_key) as client:
        assert client.get("/v1/leads", params={"audience": UX, "search": "ada"}).json()["total"] == 1


# --- leads ----------------------------------------------------------------------------------------


def test_pages_follow_the_dashboard_query_order(api):
    reader = MartReader(parse_warehouse_url(api.warehouse_url))
    filters = LeadFilters(audience=UX, verdicts=EVERY_VERDICT)
    expected = reader.read(lead_list.leads(api.settings.marts_schema, filters))["handle"].to_list()
    assert len(expected) >= 5
    seen: list[str] = []
    offset: int | None = 0
    with api.client(api.read_key) as client:
        while offset is not None:
            page = client.get(
                "/v1/leads",
                params={"audience": UX, "verdicts": list(EVERY_VERDICT), "limit": 2, "offset": offset},
            ).json()
            assert page["total"] == len(expected) and page["limit"] == 2
            seen += [item["handle"] for item in page["items"]]
            offset = page["next_offset"]
        matches = client.get("/v1/leads", params={"audience": UX}).json()  # default: verdict match
    assert seen == expected
    assert {item["verdict"] for item in matches["items"]} == {"match"}
    assert set(matches["items"][0]) == set(lead_list.LEAD_COLUMNS)


def test_lead_state_set_through_the_api_is_the_state_everyone_reads(api, monkeypatch, capsys):
    with api.client(api.write_key) as client:
        moved = client.post(
            "/v1/leads/twitter/@FIN_DIARY/state", json={"audience": UX, "state": "contacted", "note": "DM'd"}
        )
        assert moved.status_code == 200, moved.text
        listed = client.get(
            "/v1/leads", params={"audience": UX, "states": "contacted", "verdicts": list(EVERY_VERDICT)}
        )
        refused = client.post(
            "/v1/leads/twitter/ada_research/state", json={"audience": UX, "state": "contacted"}
        )
        unknown = client.post(
            "/v1/leads/twitter/nobody_at_all/state", json={"audience": UX, "state": "contacted"}
        )
        detail = client.get("/v1/leads/twitter/t6", params={"audience": UX}).json()
    body = moved.json()
    assert (body["platform_id"], body["state"], body["note"], body["set_by"]) == (
        "t6",
        "contacted",
        "DM'd",
        api.write_key_name,
    )
    # The same state scout_leads (the CLI's and the dashboard's reader) sees, with source api.
    state = current_state(api.warehouse, "twitter", "t6", UX)
    assert (state["state"], state["set_by"], state["note"]) == ("contacted", api.write_key_name, "DM'd")
    source = api.warehouse.read("select source from lead_events where platform_id = 't6'")["source"].to_list()
    assert source == ["api"]
    assert "fin_diary" in {item["handle"] for item in listed.json()["items"]}
    # A move the CLI would refuse is refused with the same words (ada has replied already).
    assert refused.status_code == 409
    assert error_of(refused)["message"].startswith("cannot move a lead from replied to contacted")
    assert unknown.status_code == 404 and error_of(unknown)["code"] == "lead_not_found"
    assert [event["state"] for event in detail["history"]] == ["contacted"] and detail[
        "handle"
    ] == "fin_diary"
    if api.warehouse_url.startswith("duckdb"):  # `scout lead show` reads the same state
        from scout_cli.main import main

        monkeypatch.setenv("SCOUT_WAREHOUSE_URL", api.warehouse_url)
        assert main(["lead", "show", "twitter", "fin_diary", "--audience", UX]) == 0
        assert f"for {UX}: contacted since" in capsys.readouterr().out


# --- exclusions -----------------------------------------------------------------------------------


def test_exclusions_add_and_remove_with_an_audit_trail(api):
    every = {"audience": UX, "verdicts": list(EVERY_VERDICT)}
    entry = {
        "platform": "twitter",
        "kind": "handle",
        "value": "@BO_interviews",
        "reason": "asked not to be contacted",
    }
    with api.client(api.write_key) as client:
        added = client.post("/v1/exclusions", json=entry)
        assert added.status_code == 201, added.text
        exclusion_id = added.json()["exclusion_id"]
        assert added.json()["accounts"] == 1
        listed = {e["exclusion_id"]: e for e in client.get("/v1/exclusions").json()}
        without = {item["handle"] for item in client.get("/v1/leads", params=every).json()["items"]}
        no_reason = client.delete(f"/v1/exclusions/{exclusion_id}")
        removed = client.delete(f"/v1/exclusions/{exclusion_id}", params={"reason": "consent given"})
        again = client.delete(f"/v1/exclusions/{exclusion_id}", params={"reason": "consent given"})
        back = {item["handle"] for item in client.get("/v1/leads", params=every).json()["items"]}
    assert listed[exclusion_id]["value"] == "bo_interviews" and listed[exclusion_id]["accounts"] == 1
    assert listed[exclusion_id]["actor"] == api.write_key_name
    assert "bo_interviews" not in without and "bo_interviews" in back
    assert no_reason.status_code == 422 and "reason" in error_of(no_reason)["message"]
    assert removed.status_code == 200 and removed.json()["exclusion_id"] == exclusion_id
    assert again.status_code == 404 and error_of(again)["code"] == "exclusion_not_found"
    audit = api.warehouse.read(
        "select action, actor, reason from exclusion_events where exclusion_id = $1 order by event_at",
        [exclusion_id],
    )
    assert audit.rows() == [
        ("add", api.write_key_name, "asked not to be contacted"),
        ("remove", api.write_key_name, "consent given"),
    ]


# --- rate limit, Dagster down, cost ---------------------------------------------------------------


def test_each_key_is_rate_limited_with_retry_after(api, tmp_path):
    settings = api_settings(api.warehouse_url, tmp_path, per_minute=3)
    with serve(settings) as url:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {api.read_key}"}) as client:
            statuses = [client.get("/v1/exclusions").status_code for _ in range(3)]
            limited = client.get("/v1/exclusions")
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {api.write_key}"}) as other:
            assert other.get("/v1/exclusions").status_code == 200  # another key has its own allowance
    assert statuses == [200, 200, 200]
    assert limited.status_code == 429 and error_of(limited)["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 20  # 3 a minute: one more every 20 s


def test_dagster_unavailable_is_503(api):
    with api.client(api.write_key) as client:
        launched = client.post("/v1/searches", json={"audience": UX, "keywords": ["ux research"]})
        status = client.get(f"/v1/runs/{uuid.uuid4()}")
    for response in (launched, status):
        assert response.status_code == 503 and response.headers["retry-after"]
        assert error_of(response)["code"] == "dagster_unavailable"


def test_cost_of_a_run_is_the_ledger_sum(api):
    """Ledger rows written here stand in for a run's calls; the real run is in test_api_runs.py."""
    import polars as pl

    from scout_contract.tables import API_CALLS, MODEL_CALLS, polars_schema

    run_id = str(uuid.uuid4())
    calls = [
        {"call_id": f"api-{run_id}-{n}", "platform": "twitter", "cost_usd": 0.25, "run_id": run_id}
        for n in range(3)
    ]
    model = [{"call_id": f"model-{run_id}", "run_id": run_id, "model": "claude-haiku-4.5", "cost_usd": 0.5}]
    other = [
        {
            "call_id": f"api-other-{run_id}",
            "platform": "twitter",
            "cost_usd": 9.0,
            "run_id": str(uuid.uuid4()),
        }
    ]
    with api.warehouse.transaction() as tx:
        tx.append("api_calls", pl.DataFrame(calls + other, schema=polars_schema(API_CALLS.columns)))
        tx.append("model_calls", pl.DataFrame(model, schema=polars_schema(MODEL_CALLS.columns)))
    with api.client(api.read_key) as client:
        cost = client.get(f"/v1/runs/{run_id}/cost").json()
    assert cost == {
        "run_id": run_id, "usd": 1.25, "platform_calls": 3, "platform_usd": 0.75, "model_calls": 1, "model_usd": 0.5,
    }  # fmt: skip


def test_openapi_documents_every_endpoint(api):
    with httpx.Client(base_url=api.url) as client:
        spec = client.get("/openapi.json").json()
        assert client.get("/docs").status_code == 200
    assert {
        "/v1/leads", "/v1/leads/{platform}/{handle_or_id}", "/v1/leads/{platform}/{handle_or_id}/state",
        "/v1/exclusions", "/v1/exclusions/{exclusion_id}", "/v1/searches", "/v1/runs/{run_id}",
        "/v1/runs/{run_id}/events", "/v1/runs/{run_id}/cost",
    } <= set(spec["paths"])  # fmt: skip
    assert "ScoutApiKey" in spec["components"]["securitySchemes"]


def test_concurrent_reads_and_writes_all_answer(api):
    """Requests run in parallel threads; on DuckDB the marts reader (read-only) and the warehouse
    (read-write) must not open the file with both configurations at once in one process."""
    from concurrent.futures import ThreadPoolExecutor

    def call(n: int) -> int:
        with api.client(api.write_key) as client:
            if n % 2:
                return client.get("/v1/leads", params={"audience": UX, "limit": 5}).status_code
            return client.get("/v1/exclusions").status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(call, range(12)))
    assert statuses == [200] * 12
