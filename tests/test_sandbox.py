"""The API sandbox over real HTTP on 127.0.0.1: wire formats, determinism, pagination, faults.

Every test talks to a running ``SandboxServer`` with httpx, the way Scout's clients do; nothing is
mocked. Expected values come from the recorded fixtures and lexicon in tests/fixtures or from the
sandbox's own pool (``server.directory``), never hard-coded.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scout_sandbox import Fault, SandboxServer, get_sandbox
from scout_sandbox.server import SandboxRequest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEARCH_X = "/api/search/people"
DETAIL_X = "/api/user/detail"
SEARCH_BSKY = "/xrpc/app.bsky.actor.searchActors"
PROFILES_BSKY = "/xrpc/app.bsky.actor.getProfiles"
FAKE_KEY = "sk-sandbox-test-key-7f3a9c"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    headers = {"x-rapidapi-host": "twitter-x-api.p.rapidapi.com", "x-rapidapi-key": FAKE_KEY}
    with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=30) as http:
        yield http
    sandbox.reset()


def lexicon_properties(definition: str) -> set[str]:
    """The properties the app.bsky.actor lexicon allows in ``definition`` (e.g. profileView)."""
    defs = json.loads((FIXTURES / "bluesky/lexicons/app.bsky.actor.defs.json").read_text())["defs"]
    return set(defs[definition]["properties"])


def x_pages(client: httpx.Client, keyword: str, count: int = 20, headers: dict | None = None) -> list[dict]:
    pages, cursor = [], None
    while True:
        params = {"keyword": keyword, "count": count} | ({"cursor": cursor} if cursor else {})
        response = client.get(SEARCH_X, params=params, headers=headers or {})
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = pages[-1]["cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, f"pagination of {keyword!r} does not end"


def bsky_pages(client: httpx.Client, keyword: str, limit: int = 25) -> list[dict]:
    pages, cursor = [], None
    while True:
        params = {"q": keyword, "limit": limit} | ({"cursor": cursor} if cursor else {})
        response = client.get(SEARCH_BSKY, params=params)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = pages[-1].get("cursor")
        if cursor is None:
            return pages
        assert len(pages) < 50, f"pagination of {keyword!r} does not end"


def x_shape(user: dict) -> str:
    if "legacy" not in user:
        return "core"
    return "legacy" if "screen_name" in user["legacy"] else "transitional"


def x_handle(user: dict) -> str:
    return user["legacy"]["screen_name"] if x_shape(user) == "legacy" else user["core"]["screen_name"]


# -- wire formats --------------------------------------------------------------------------------


def test_x_search_has_the_rapidapi_envelope(client: httpx.Client) -> None:
    response = client.get(SEARCH_X, params={"keyword": "ethnography", "count": 20})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    page = response.json()
    assert set(page) == {"data", "cursor"}
    assert len(page["data"]) == 20
    assert isinstance(page["cursor"], str) and page["cursor"]
    assert all(user["__typename"] == "User" and user["rest_id"].isdigit() for user in page["data"])


def test_x_mixed_setting_serves_all_three_user_shapes_with_the_fixture_keys(client: httpx.Client) -> None:
    users = [u for page in x_pages(client, "qualitative researcher") for u in page["data"]]
    by_shape: dict[str, list[dict]] = {}
    for user in users:
        by_shape.setdefault(x_shape(user), []).append(user)
    assert set(by_shape) == {"legacy", "transitional", "core"}
    files = {
        "legacy": "2025-03.legacy",
        "transitional": "2026-07.core-plus-legacy",
        "core": "2026-08.no-legacy",
    }
    # Keys that real accounts only sometimes have (banner, website, professional category, verification...).
    optional = {
        "professional",
        "verification_info",
        "banner",
        "website",
        "profile_banner_url",
        "url",
        "verified_type",
    }
    for shape, stem in files.items():
        path = FIXTURES / "twitter" / f"x-graphql.UserByScreenName.{stem}.twscrape.json"
        recorded = json.loads(path.read_text())["data"]["user"]["result"]
        for user in by_shape[shape]:
            assert set(recorded) - optional <= set(user), f"{shape} user lacks keys the recording has"
            assert set(user) <= set(recorded), f"{shape} user has keys X never sent"
            recorded_legacy, legacy = set(recorded.get("legacy", {})), set(user.get("legacy", {}))
            assert recorded_legacy - optional <= legacy
            assert legacy <= recorded_legacy | {"protected"}


def test_x_shape_header_overrides_the_setting_and_rejects_unknown_shapes(client: httpx.Client) -> None:
    for shape in ("legacy", "transitional", "core"):
        page = client.get(SEARCH_X, params={"keyword": "postdoc"}, headers={"x-sandbox-shape": shape}).json()
        assert {x_shape(u) for u in page["data"]} == {shape}
    bad = client.get(SEARCH_X, params={"keyword": "postdoc"}, headers={"x-sandbox-shape": "v2"})
    assert bad.status_code == 400
    assert "x-sandbox-shape" in bad.json()["message"] and "'v2'" in bad.json()["message"]


def test_x_shape_setting_applies_to_every_user() -> None:
    with SandboxServer(pool_size=300, twitter_shape="core") as server:
        page = httpx.get(f"{server.base_url}{SEARCH_X}", params={"keyword": "sociologist"}).json()
    assert page["data"] and {x_shape(u) for u in page["data"]} == {"core"}
    with pytest.raises(ValueError, match="twitter_shape 'newest'"):
        SandboxServer(twitter_shape="newest")


def test_x_user_detail_finds_handles_case_insensitively_and_answers_empty_for_unknown(
    client: httpx.Client,
) -> None:
    first = client.get(SEARCH_X, params={"keyword": "epidemiologist"}).json()["data"][0]
    found = client.get(DETAIL_X, params={"username": x_handle(first).upper()}).json()
    assert found["user"]["result"] == first
    missing = client.get(DETAIL_X, params={"username": "nobody_here_xyz"})
    assert missing.status_code == 200 and missing.json() == {}
    assert client.get(DETAIL_X).status_code == 400


def test_bluesky_search_returns_profile_views_without_counts(client: httpx.Client) -> None:
    page = client.get(SEARCH_BSKY, params={"q": "ethnography", "limit": 25}).json()
    assert list(page) == ["actors", "cursor"]  # cursor comes after actors, as recorded
    assert page["cursor"] == "25"
    for actor in page["actors"]:
        assert actor["did"].startswith("did:plc:") and "." in actor["handle"]
        assert not {"followersCount", "followsCount", "postsCount"} & set(actor)
    allowed = lexicon_properties("profileView")
    assert all(set(actor) <= allowed for actor in page["actors"])


def test_bluesky_get_profiles_returns_detailed_views_with_counts(client: httpx.Client) -> None:
    actors = [a for p in bsky_pages(client, "public health researcher") for a in p["actors"]][:25]
    response = client.get(PROFILES_BSKY, params={"actors": [a["did"] for a in actors]})
    assert response.status_code == 200
    profiles = response.json()["profiles"]
    assert [p["did"] for p in profiles] == [a["did"] for a in actors]
    for profile in profiles:
        assert all(isinstance(profile[k], int) for k in ("followersCount", "followsCount", "postsCount"))
    with_record = [p for p in profiles if "displayName" in p]
    assert with_record and all("createdAt" in p and "indexedAt" in p for p in with_record)
    allowed = lexicon_properties("profileViewDetailed")
    assert all(set(p) <= allowed for p in profiles)
    # Handles work as well as DIDs; unknown actors are left out rather than failing the call.
    by_handle = client.get(
        PROFILES_BSKY, params={"actors": [actors[0]["handle"], "did:plc:unknown0000000000000000"]}
    )
    assert [p["did"] for p in by_handle.json()["profiles"]] == [actors[0]["did"]]


def test_bluesky_get_profiles_rejects_more_than_25_actors_like_the_appview(client: httpx.Client) -> None:
    actors = [a["did"] for p in bsky_pages(client, "postdoc") for a in p["actors"]][:26]
    assert len(actors) == 26
    too_many = client.get(PROFILES_BSKY, params={"actors": actors})
    assert too_many.status_code == 400
    assert too_many.json()["error"] == "InvalidRequest" and "25" in too_many.json()["message"]
    assert client.get(PROFILES_BSKY, params={"actors": actors[:25]}).status_code == 200
    assert client.get(PROFILES_BSKY).json()["error"] == "InvalidRequest"


def test_invalid_parameters_get_errors_naming_the_parameter(client: httpx.Client) -> None:
    assert "limit" in client.get(SEARCH_BSKY, params={"q": "x", "limit": 101}).json()["message"]
    assert "cursor" in client.get(SEARCH_BSKY, params={"q": "x", "cursor": "abc"}).json()["message"]
    assert "count" in client.get(SEARCH_X, params={"keyword": "x", "count": "many"}).json()["message"]
    assert "keyword" in client.get(SEARCH_X).json()["message"]
    # A cursor issued for one keyword is not accepted for another.
    cursor = client.get(SEARCH_X, params={"keyword": "postdoc"}).json()["cursor"]
    wrong = client.get(SEARCH_X, params={"keyword": "ethnography", "cursor": cursor})
    assert wrong.status_code == 400 and "another keyword" in wrong.json()["message"]


def test_unknown_paths_and_methods_answer_json_errors(client: httpx.Client) -> None:
    missing = client.get("/api/search/tweets")
    assert missing.status_code == 404 and missing.json()["error"] == "NotFound"
    assert client.post(SEARCH_X, params={"keyword": "x"}).status_code == 405


# -- determinism, pagination, identity -----------------------------------------------------------


def test_same_request_gives_byte_identical_bodies_across_servers_and_processes(
    sandbox: SandboxServer,
) -> None:
    requests = [
        (SEARCH_X, {"keyword": "Grounded  Theory", "count": "20"}),
        (SEARCH_BSKY, {"q": "thematic analysis", "limit": "30", "cursor": "30"}),
    ]
    bodies = [httpx.get(f"{sandbox.base_url}{path}", params=params).content for path, params in requests]
    with SandboxServer() as second:
        assert [httpx.get(f"{second.base_url}{p}", params=q).content for p, q in requests] == bodies
    # Another interpreter with another hash seed: only SHA-256 seeding survives this.
    env = os.environ | {"PYTHONHASHSEED": "4242"}
    command = [sys.executable, "-m", "scout_sandbox", "--port", "0"]
    with subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            base_url = process.stdout.readline().strip().rsplit(" ", 1)[-1]
            assert base_url.startswith("http://127.0.0.1:")
            other = [httpx.get(f"{base_url}{p}", params=q, timeout=60).content for p, q in requests]
        finally:
            process.terminate()
    assert other == bodies


FINGERPRINT = """
import hashlib
from scout_sandbox.pool import ProfilePool
digest = hashlib.sha256()
for platform in ("twitter", "bluesky"):
    pool = ProfilePool(platform, 1200)
    for index in range(pool.size):
        digest.update(repr(pool.profile(index)).encode())
    digest.update(repr(pool.hits("qualitative research")).encode())
print(digest.hexdigest())
"""


def test_every_profile_is_the_same_under_any_hash_seed() -> None:
    # Regression: Faker's it_IT city list comes from a set, so cities changed with the hash salt.
    digests = set()
    for seed in ("1", "2"):
        env = os.environ | {"PYTHONHASHSEED": seed, "PYTHONPATH": str(PROJECT_ROOT)}
        run = subprocess.run(
            [sys.executable, "-c", FINGERPRINT], env=env, capture_output=True, text=True, check=True
        )
        digests.add(run.stdout.strip())
    assert len(digests) == 1


@pytest.mark.parametrize("keyword", ["qualitative researcher", "digital humanities"])
def test_x_pagination_runs_out_without_repeating_anyone(
    sandbox: SandboxServer, client: httpx.Client, keyword: str
) -> None:
    pages = x_pages(client, keyword)
    ids = [u["rest_id"] for page in pages for u in page["data"]]
    assert len(pages) > 1 and pages[-1]["cursor"] is None
    assert len(ids) == len(set(ids)) == len(sandbox.directory.pool("twitter").hits(keyword))
    assert all(len(page["data"]) == 20 for page in pages[:-1])


def test_bluesky_pagination_runs_out_and_short_pages_still_carry_a_cursor(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    pool = sandbox.directory.pool("bluesky")
    short_page_with_cursor = False
    for keyword in ("qualitative researcher", "sociologist", "phd candidate", "human geography"):
        pages = bsky_pages(client, keyword)
        dids = [a["did"] for page in pages for a in page["actors"]]
        expected = [i for i in pool.hits(keyword) if not pool.profile(i).hidden_from_search]
        assert len(dids) == len(set(dids)) == len(expected)
        assert "cursor" not in pages[-1]
        assert all(p["cursor"] == str(25 * (n + 1)) for n, p in enumerate(pages[:-1]))
        short_page_with_cursor |= any(len(p["actors"]) < 25 for p in pages[:-1])
    assert short_page_with_cursor, "no page was shorter than its limit while more pages followed"


def test_results_relate_to_the_keyword(client: httpx.Client) -> None:
    users = [u for page in x_pages(client, "ethnography") for u in page["data"]]
    bios = [(u.get("legacy") or {}).get("description") or u["profile_bio"]["description"] for u in users]
    related = [b for b in bios if "ethnog" in b.lower()]
    assert len(related) > len(bios) / 2


def test_the_same_account_is_identical_in_every_keyword_it_appears_in(client: httpx.Client) -> None:
    x_first = {u["rest_id"]: u for p in x_pages(client, "qualitative researcher") for u in p["data"]}
    x_second = {u["rest_id"]: u for p in x_pages(client, "thematic analysis") for u in p["data"]}
    shared = x_first.keys() & x_second.keys()
    assert shared
    assert all(x_first[i] == x_second[i] for i in shared)
    b_first = {a["did"]: a for p in bsky_pages(client, "qualitative researcher") for a in p["actors"]}
    b_second = {a["did"]: a for p in bsky_pages(client, "interview study") for a in p["actors"]}
    assert b_first.keys() & b_second.keys()
    assert all(b_first[d] == b_second[d] for d in b_first.keys() & b_second.keys())


def test_rename_changes_the_handle_but_keeps_the_id(sandbox: SandboxServer, client: httpx.Client) -> None:
    user = client.get(SEARCH_X, params={"keyword": "postdoc"}).json()["data"][0]
    old_handle = x_handle(user)
    sandbox.rename("twitter", user["rest_id"], "renamed_acct")
    again = client.get(SEARCH_X, params={"keyword": "postdoc"}).json()["data"][0]
    assert again["rest_id"] == user["rest_id"] and x_handle(again) == "renamed_acct"
    assert client.get(DETAIL_X, params={"username": old_handle}).json() == {}
    assert (
        client.get(DETAIL_X, params={"username": "renamed_acct"}).json()["user"]["result"]["rest_id"]
        == user["rest_id"]
    )
    with pytest.raises(ValueError, match="not valid"):
        sandbox.rename("twitter", user["rest_id"], "has spaces")
    with pytest.raises(ValueError, match="no bluesky account"):
        sandbox.rename("bluesky", "did:plc:nobody", "someone.bsky.social")
    sandbox.reset()
    assert x_handle(client.get(SEARCH_X, params={"keyword": "postdoc"}).json()["data"][0]) == old_handle


# -- synthetic population ---------------------------------------------------------------------


def test_population_mixes_archetypes_with_their_count_patterns(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    keywords = ("qualitative researcher", "sociologist", "ux researcher", "public health researcher")
    dids = sorted({a["did"] for k in keywords for p in bsky_pages(client, k) for a in p["actors"]})
    profiles = []
    for start in range(0, len(dids), 25):
        batch = client.get(PROFILES_BSKY, params={"actors": dids[start : start + 25]})
        profiles += batch.json()["profiles"]
    pool = sandbox.directory.pool("bluesky")
    archetype = {d: pool.profile(pool.index_of_id(d)).archetype for d in dids}
    assert {"researcher", "professional", "creator", "organization", "bot", "lurker"} <= set(
        archetype.values()
    )
    spammy = [
        p
        for p in profiles
        if p["followsCount"] >= 20 * max(p["followersCount"], 1) and p["followsCount"] >= 300
    ]
    broadcast = [p for p in profiles if p["followersCount"] >= 20 * max(p["followsCount"], 1)]
    assert spammy and broadcast
    assert any(archetype[p["did"]] == "bot" for p in spammy)
    assert {archetype[p["did"]] for p in broadcast} & {"organization", "creator"}
    assert any("avatar" not in p for p in profiles)  # default avatars
    assert any(not p.get("description") for p in profiles)  # empty bios
    bios = [p.get("description", "") for p in profiles]
    assert any("\n" in b for b in bios) and any("," in b for b in bios) and any('"' in b for b in bios)
    assert sum("research" in b.lower() for b in bios) > len(bios) / 3


def test_about_one_percent_of_bios_address_the_labeler() -> None:
    with SandboxServer(pool_size=1500) as server:
        pool = server.directory.pool("twitter")
        hostile = [i for i in range(pool.size) if pool.profile(i).hostile]
        assert 0.003 * pool.size <= len(hostile) <= 0.02 * pool.size
        assert any("ignore" in pool.profile(i).bio.lower() for i in hostile)


# -- faults ----------------------------------------------------------------------------------------


def test_rate_limit_fault_then_normal(sandbox: SandboxServer, client: httpx.Client) -> None:
    sandbox.inject(SEARCH_X, Fault.rate_limit(retry_after=3))
    sandbox.inject("/xrpc/", Fault.rate_limit(retry_after=2))
    limited = client.get(SEARCH_X, params={"keyword": "postdoc"})
    assert limited.status_code == 429 and limited.headers["retry-after"] == "3"
    limited_bsky = client.get(SEARCH_BSKY, params={"q": "postdoc"})
    assert limited_bsky.status_code == 429 and limited_bsky.headers["retry-after"] == "2"
    assert limited_bsky.headers["ratelimit-remaining"] == "0" and "ratelimit-reset" in limited_bsky.headers
    assert limited_bsky.json()["error"] == "RateLimitExceeded"
    assert client.get(SEARCH_X, params={"keyword": "postdoc"}).status_code == 200
    assert client.get(SEARCH_BSKY, params={"q": "postdoc"}).status_code == 200


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_fault_then_normal(sandbox: SandboxServer, client: httpx.Client, status: int) -> None:
    sandbox.inject(PROFILES_BSKY, Fault.server_error(status))
    actors = {"actors": ["did:plc:unknown0000000000000000"]}
    assert client.get(PROFILES_BSKY, params=actors).status_code == status
    assert client.get(PROFILES_BSKY, params=actors).json() == {"profiles": []}


def test_timeout_fault_delays_only_its_own_request(sandbox: SandboxServer, client: httpx.Client) -> None:
    sandbox.inject(SEARCH_X, Fault.timeout(seconds=3))
    with pytest.raises(httpx.ReadTimeout):
        client.get(SEARCH_X, params={"keyword": "postdoc"}, timeout=0.3)
    assert client.get(SEARCH_X, params={"keyword": "postdoc"}).status_code == 200
    # A patient client gets the normal answer after the delay.
    sandbox.inject(SEARCH_X, Fault.timeout(seconds=0.2))
    normal = client.get(SEARCH_X, params={"keyword": "sociologist"}).content
    assert client.get(SEARCH_X, params={"keyword": "sociologist"}).content == normal


def test_truncated_fault_sends_half_the_real_body(sandbox: SandboxServer, client: httpx.Client) -> None:
    params = {"keyword": "postdoc", "count": 20}
    normal = client.get(SEARCH_X, params=params).content
    sandbox.inject(SEARCH_X, Fault.truncated())
    cut = client.get(SEARCH_X, params=params)
    assert cut.status_code == 200 and cut.headers["content-type"].startswith("application/json")
    assert cut.content == normal[: len(normal) // 2]
    with pytest.raises(json.JSONDecodeError):
        cut.json()
    assert client.get(SEARCH_X, params=params).content == normal


def test_malformed_and_empty_faults_then_normal(sandbox: SandboxServer, client: httpx.Client) -> None:
    sandbox.inject(SEARCH_X, Fault.malformed(), Fault.empty())
    sandbox.inject(SEARCH_BSKY, Fault.malformed())
    assert not isinstance(client.get(SEARCH_X, params={"keyword": "postdoc"}).json()["data"], list)
    empty = client.get(SEARCH_X, params={"keyword": "postdoc"})
    assert empty.status_code == 200 and empty.content == b""
    actors = client.get(SEARCH_BSKY, params={"q": "postdoc"}).json()["actors"]
    assert actors and all("did" not in a for a in actors)
    assert isinstance(client.get(SEARCH_X, params={"keyword": "postdoc"}).json()["data"], list)
    assert all("did" in a for a in client.get(SEARCH_BSKY, params={"q": "postdoc"}).json()["actors"])


def test_faults_go_to_matching_paths_in_fifo_order(sandbox: SandboxServer, client: httpx.Client) -> None:
    sandbox.inject("/xrpc/", Fault.server_error(503), Fault.rate_limit())
    assert client.get(SEARCH_X, params={"keyword": "postdoc"}).status_code == 200  # not matching
    assert client.get(PROFILES_BSKY, params={"actors": "a.bsky.social"}).status_code == 503
    assert client.get(SEARCH_BSKY, params={"q": "postdoc"}).status_code == 429
    assert client.get(SEARCH_BSKY, params={"q": "postdoc"}).status_code == 200
    assert sandbox.pending_faults == []
    with pytest.raises(ValueError, match="fault kind 'explode'"):
        Fault("explode")
    with pytest.raises(ValueError, match="status 418"):
        Fault.server_error(418)


def test_control_endpoint_injects_faults_and_resets(sandbox: SandboxServer, client: httpx.Client) -> None:
    body = {
        "path": SEARCH_X,
        "faults": [{"kind": "rate_limit", "retry_after": 1}, {"kind": "server_error", "status": 502}],
    }
    queued = client.post("/_sandbox/faults", json=body)
    assert queued.status_code == 200 and queued.json()["queued"] == 2
    assert client.get(SEARCH_X, params={"keyword": "postdoc"}).status_code == 429
    assert client.post("/_sandbox/reset").json() == {"reset": True}
    assert sandbox.pending_faults == [] and sandbox.requests == []
    assert client.get(SEARCH_X, params={"keyword": "postdoc"}).status_code == 200
    bad = client.post(
        "/_sandbox/faults", json={"path": SEARCH_X, "faults": [{"kind": "rate_limit", "retry": 1}]}
    )
    assert (
        bad.status_code == 400 and "faults[0]" in bad.json()["message"] and "retry" in bad.json()["message"]
    )
    assert client.post("/_sandbox/faults", content=b"{not json").status_code == 400
    assert client.get("/_sandbox/health").json()["ok"] is True


# -- request log and secrets -------------------------------------------------------------------------


def test_requests_are_recorded_without_secrets(
    sandbox: SandboxServer, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="scout_sandbox")
    sandbox.inject(SEARCH_BSKY, Fault.rate_limit())
    client.get(SEARCH_X, params={"keyword": "postdoc", "count": 5, "api_key": FAKE_KEY})
    client.get(SEARCH_BSKY, params={"q": "postdoc"})
    assert sandbox.requests == [
        SandboxRequest("GET", SEARCH_X, {"keyword": ["postdoc"], "count": ["5"]}, 200, None),
        SandboxRequest("GET", SEARCH_BSKY, {"q": ["postdoc"]}, 429, "rate_limit"),
    ]
    remote_log = client.get("/_sandbox/requests").text
    assert "postdoc" in remote_log and FAKE_KEY not in remote_log
    assert all(FAKE_KEY not in record.getMessage() for record in caplog.records)


def test_get_sandbox_is_one_running_server_per_process() -> None:
    seen: list[SandboxServer] = []
    threads = [threading.Thread(target=lambda: seen.append(get_sandbox())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(s) for s in seen}) == 1
    assert httpx.get(f"{seen[0].base_url}/_sandbox/health").json()["ok"] is True
