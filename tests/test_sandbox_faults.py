"""The sandbox's hostile fault modes, read off the wire with plain httpx, http.client and sockets.

Each test proves the server really sends the shape a fault promises (bad rows among good ones,
poisoned text, a lying Content-Encoding, a drip, a repeating cursor, huge pages/fields/bodies, an
outage), and that every slow writer stops when the client leaves or its cap passes. Scout's own
clients are not used here: the end-to-end tests drive them against these faults. Expected values
come from the same request answered without the fault, never from hard-coded profiles.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time

import httpx
import pytest

from scout_sandbox import Fault, SandboxServer
from scout_sandbox.faults import DEFECTS
from scout_sandbox.row_faults import AFFECTED_HEADER

SEARCH_X = "/api/search/people"
DETAIL_X = "/api/user/detail"
SEARCH_BSKY = "/xrpc/app.bsky.actor.searchActors"
PROFILES_BSKY = "/xrpc/app.bsky.actor.getProfiles"
X_PAGE = {"keyword": "postdoc", "count": 20}
BSKY_PAGE = {"q": "postdoc", "limit": 25}


def get(sandbox: SandboxServer, path: str, params: dict, **kwargs: object) -> httpx.Response:
    return httpx.get(f"{sandbox.base_url}{path}", params=params, timeout=10, **kwargs)


def twice(sandbox: SandboxServer, path: str, params: dict, fault: Fault) -> tuple[httpx.Response, dict]:
    """The faulty answer and the normal answer to the same request."""
    normal = get(sandbox, path, params).json()
    sandbox.inject(path, fault)
    return get(sandbox, path, params), normal


def handler_threads() -> int:
    return sum("process_request_thread" in t.name for t in threading.enumerate())


def wait_for_handlers(at_most: int, within: float = 5.0) -> int:
    """Poll until the server's request threads are down to ``at_most`` (5 s: a generous bound
    for a thread that notices a hang-up on its next write, 50 ms after it)."""
    deadline = time.monotonic() + within
    while handler_threads() > at_most and time.monotonic() < deadline:
        time.sleep(0.02)
    return handler_threads()


def x_counts(user: dict) -> object:
    legacy = user.get("legacy") or {}
    return (
        legacy["followers_count"] if "followers_count" in legacy else user["relationship_counts"]["followers"]
    )


def x_texts(user: dict) -> list[str]:
    """Every display name and bio field an X user of any shape carries."""
    return [
        block[key]
        for block in (user.get("legacy"), user.get("core"), user.get("profile_bio"))
        if isinstance(block, dict)
        for key in ("name", "description")
        if key in block
    ]


# -- 1. bad rows among good ones -------------------------------------------------------------------


def test_bad_rows_spoil_exactly_k_rows_of_an_x_page_and_report_them(sandbox: SandboxServer) -> None:
    defects = ("count_suffix", "count_word", "no_blocks")
    response, normal = twice(sandbox, SEARCH_X, X_PAGE, Fault.bad_rows(rows=3, defects=defects))
    assert response.status_code == 200
    rows, good = response.json()["data"], normal["data"]
    assert len(rows) == len(good) == 20 and response.json()["cursor"] == normal["cursor"]
    affected = sandbox.requests[-1].affected
    assert [a.defect for a in affected] == list(defects)
    assert response.headers[AFFECTED_HEADER] == ",".join(f"{a.position}={a.defect}" for a in affected)
    spoiled = {a.position: a for a in affected}
    for position, (row, original) in enumerate(zip(rows, good, strict=True)):
        if position not in spoiled:
            assert row == original
            continue
        assert spoiled[position].platform_id == original["rest_id"] == row["rest_id"]
        defect = spoiled[position].defect
        if defect == "no_blocks":
            assert "legacy" not in row and "core" not in row
        else:
            assert x_counts(row) == {"count_suffix": "1.2K", "count_word": "many"}[defect]
    # One request, one fault: the page is whole again afterwards.
    assert get(sandbox, SEARCH_X, X_PAGE).json() == normal


@pytest.mark.parametrize("defect", sorted(set(DEFECTS) - {"no_blocks"}))
def test_every_defect_reaches_the_wire_on_both_platforms(sandbox: SandboxServer, defect: str) -> None:
    x_response, x_normal = twice(sandbox, SEARCH_X, X_PAGE, Fault.bad_rows(defects=(defect,)))
    dids = [a["did"] for a in get(sandbox, SEARCH_BSKY, BSKY_PAGE).json()["actors"]][:25]
    b_response, b_normal = twice(sandbox, PROFILES_BSKY, {"actors": dids}, Fault.bad_rows(defects=(defect,)))
    for response, normal, key, platform in (
        (x_response, x_normal, "data", "twitter"),
        (b_response, b_normal, "profiles", "bluesky"),
    ):
        (position,) = [int(item.split("=")[0]) for item in response.headers[AFFECTED_HEADER].split(",")]
        row, original = response.json()[key][position], normal[key][position]
        if defect == "not_object":
            assert row == "oops"
            continue
        if platform == "twitter":
            count, date = x_counts(row), (row.get("core") or row["legacy"]).get("created_at")
            has_id, true_count = "rest_id" in row, x_counts(original)
        else:
            count, date = row["followersCount"], row.get("createdAt")
            has_id, true_count = "did" in row, original["followersCount"]
        expected_count = {"count_suffix": "1.2K", "count_separator": "12,345", "count_word": "many"}
        if defect in expected_count:
            assert count == expected_count[defect]
        elif defect == "count_string":
            assert count == str(true_count)
        elif defect == "bad_date":
            assert date == "sometime last year"
        elif defect == "no_id":
            assert not has_id and row != original


def test_bluesky_actor_without_a_did_and_misused_defects_are_named(sandbox: SandboxServer) -> None:
    response, normal = twice(sandbox, SEARCH_BSKY, BSKY_PAGE, Fault.bad_rows(rows=2, defects=("no_id",)))
    missing = [a for a in response.json()["actors"] if "did" not in a]
    assert len(missing) == 2
    assert {a.platform_id for a in sandbox.requests[-1].affected} == {
        a["did"] for a in normal["actors"] if a["handle"] in {m["handle"] for m in missing}
    }
    sandbox.inject(SEARCH_BSKY, Fault.bad_rows(defects=("count_word",)))
    misuse = get(sandbox, SEARCH_BSKY, BSKY_PAGE)
    assert misuse.status_code == 500 and misuse.json()["error"] == "SandboxFaultMisuse"
    assert "getProfiles" in misuse.json()["message"]
    with pytest.raises(ValueError, match="unknown defect"):
        Fault.bad_rows(defects=("count_emoji",))


def test_bad_rows_are_seeded_by_the_request(sandbox: SandboxServer) -> None:
    sandbox.inject(SEARCH_X, Fault.bad_rows(rows=4), Fault.bad_rows(rows=4))
    first, second = get(sandbox, SEARCH_X, X_PAGE).content, get(sandbox, SEARCH_X, X_PAGE).content
    assert first == second != get(sandbox, SEARCH_X, X_PAGE).content


# -- 2. hostile text -------------------------------------------------------------------------------


def test_hostile_text_sends_lone_surrogates_as_json_escapes_and_raw_controls(sandbox: SandboxServer) -> None:
    response, normal = twice(sandbox, SEARCH_X, X_PAGE, Fault.hostile_text(rows=3))
    body = response.content
    body.decode("utf-8")  # the body itself is valid UTF-8: surrogates travel as escapes
    assert b"\\ud83d" in body and b"\\udc00" in body and b"\\u0000" in body
    assert "\u202e".encode() in body and "\u2067".encode() in body
    affected = sandbox.requests[-1].affected
    assert len(affected) == 3
    rows = response.json()["data"]
    for a in affected:
        texts = x_texts(rows[a.position])
        assert any(t.startswith("\u202e") and t.endswith("\x00\ud83d") for t in texts)  # display name
        assert any(t.startswith("\x00") and "\udc00\x07" in t for t in texts)  # bio
        with pytest.raises(UnicodeEncodeError):
            "".join(texts).encode("utf-8")  # what crashed `profiles` in issue 9
    untouched = set(range(20)) - {a.position for a in affected}
    assert all(rows[i] == normal["data"][i] for i in untouched)


def test_hostile_text_reaches_bluesky_names_and_bios(sandbox: SandboxServer) -> None:
    response, _ = twice(sandbox, SEARCH_BSKY, BSKY_PAGE, Fault.hostile_text(rows=25))
    actors = response.json()["actors"]
    assert all(a["displayName"].endswith("\x00\ud83d") and "\u202a" in a["description"] for a in actors)


# -- 3. a body that lies about its encoding ------------------------------------------------------------


def test_bad_encoding_labels_a_plain_body_gzip(sandbox: SandboxServer) -> None:
    normal = get(sandbox, SEARCH_X, X_PAGE).content
    sandbox.inject(SEARCH_X, Fault.bad_encoding())
    connection = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=10)
    connection.request("GET", f"{SEARCH_X}?keyword=postdoc&count=20")
    raw = connection.getresponse()  # http.client does not decode: this is what was sent
    assert raw.status == 200 and raw.getheader("Content-Encoding") == "gzip"
    assert raw.read() == normal
    connection.close()
    sandbox.inject(SEARCH_BSKY, Fault.bad_encoding(mode="deflate"))
    with pytest.raises(httpx.DecodingError):
        get(sandbox, SEARCH_BSKY, BSKY_PAGE)


# -- 4. drip-feed ----------------------------------------------------------------------------------


def raw_get(sandbox: SandboxServer, target: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", sandbox.port), timeout=10)
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: sandbox\r\nConnection: close\r\n\r\n".encode())
    return sock


def test_drip_sends_headers_at_once_and_the_body_a_few_bytes_at_a_time(sandbox: SandboxServer) -> None:
    normal = get(sandbox, SEARCH_BSKY, {"q": "postdoc", "limit": 3}).content
    sandbox.inject(SEARCH_BSKY, Fault.drip(chunk=200, interval=0.02))
    started = time.monotonic()
    sock = raw_get(sandbox, f"{SEARCH_BSKY}?q=postdoc&limit=3")
    received, reads = b"", 0
    while chunk := sock.recv(65_536):
        received += chunk
        reads += 1
    sock.close()
    elapsed = time.monotonic() - started
    head, body = received.split(b"\r\n\r\n", 1)
    assert f"Content-Length: {len(normal)}".encode() in head
    assert body == normal  # the whole body, honestly announced, just slow
    pieces = -(-len(normal) // 200)
    assert reads >= pieces  # no read ever got more than one drip
    assert elapsed >= (pieces - 1) * 0.02  # the server really paused between drips (a lower bound)


def test_drip_stops_when_the_client_hangs_up(sandbox: SandboxServer) -> None:
    before = handler_threads()
    sandbox.inject(SEARCH_X, Fault.drip(chunk=1, interval=0.05, seconds=600))
    sock = raw_get(sandbox, f"{SEARCH_X}?keyword=postdoc")
    assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    assert handler_threads() == before + 1  # the dripping thread is alive...
    sock.close()
    assert wait_for_handlers(before) == before  # ...and ends soon after the hang-up, not in 600 s


def test_drip_gives_up_at_its_cap_with_the_body_unfinished(sandbox: SandboxServer) -> None:
    sandbox.inject(SEARCH_X, Fault.drip(chunk=1, interval=0.01, seconds=0.3))
    with pytest.raises(httpx.RemoteProtocolError):  # fewer bytes than Content-Length, then EOF
        get(sandbox, SEARCH_X, X_PAGE)
    assert get(sandbox, SEARCH_X, X_PAGE).status_code == 200


# -- 5. repeating cursor ---------------------------------------------------------------------------


def test_same_cursor_comes_back_for_ever_until_reset(sandbox: SandboxServer) -> None:
    first = get(sandbox, SEARCH_X, X_PAGE).json()
    second = get(sandbox, SEARCH_X, X_PAGE | {"cursor": first["cursor"]}).json()
    sandbox.inject(SEARCH_X, Fault.repeating_cursor())
    assert get(sandbox, SEARCH_X, X_PAGE).json() == first  # the first page is normal
    for _ in range(3):
        page = get(sandbox, SEARCH_X, X_PAGE | {"cursor": first["cursor"]}).json()
        assert page == second | {"cursor": first["cursor"]}
    sandbox.inject(SEARCH_BSKY, Fault.repeating_cursor())
    assert get(sandbox, SEARCH_BSKY, BSKY_PAGE | {"cursor": "25"}).json()["cursor"] == "25"
    sandbox.reset()
    assert get(sandbox, SEARCH_X, X_PAGE | {"cursor": first["cursor"]}).json() == second


@pytest.mark.parametrize(("path", "params"), [(SEARCH_X, X_PAGE), (SEARCH_BSKY, BSKY_PAGE)])
def test_cycling_cursors_point_pages_two_and_three_at_each_other(
    sandbox: SandboxServer, path: str, params: dict
) -> None:
    sandbox.inject(path, Fault.repeating_cursor(mode="cycle"))
    seen, cursor = [], None
    for _ in range(6):
        page = get(sandbox, path, params | ({"cursor": cursor} if cursor else {})).json()
        cursor = page["cursor"]
        seen.append(cursor)
    assert seen[0] != seen[1] and seen == [seen[0], seen[1]] * 3


# -- 6. huge pages, huge fields, oversized bodies ------------------------------------------------------


@pytest.mark.parametrize(("path", "params", "key", "id_key"), [
    (SEARCH_X, X_PAGE, "data", "rest_id"),
    (SEARCH_BSKY, BSKY_PAGE, "actors", "did"),
])  # fmt: skip
def test_huge_page_sends_a_thousand_distinct_accounts(
    sandbox: SandboxServer, path: str, params: dict, key: str, id_key: str
) -> None:
    sandbox.inject(path, Fault.huge_page(rows=1000))
    rows = get(sandbox, path, params).json()[key]
    assert len(rows) == 1000 == len({row[id_key] for row in rows})


def test_huge_field_sends_a_million_character_bio(sandbox: SandboxServer) -> None:
    response, normal = twice(sandbox, SEARCH_X, X_PAGE, Fault.huge_field())
    (affected,) = sandbox.requests[-1].affected
    row = response.json()["data"][affected.position]
    assert row["rest_id"] == affected.platform_id == normal["data"][affected.position]["rest_id"]
    bios = [t for t in x_texts(row) if len(t) > 1000]
    assert bios and all(len(b) == 1_000_000 for b in bios)
    sandbox.inject(SEARCH_BSKY, Fault.huge_field(size=300_000, rows=2))
    actors = get(sandbox, SEARCH_BSKY, BSKY_PAGE).json()["actors"]
    assert sorted(len(a.get("description", "")) for a in actors)[-2:] == [300_000, 300_000]


def test_oversized_body_is_streamed_chunked_and_valid_json(sandbox: SandboxServer) -> None:
    sandbox.inject(SEARCH_BSKY, Fault.oversized(size=200_000))
    small = get(sandbox, SEARCH_BSKY, BSKY_PAGE)
    assert "content-length" not in small.headers and small.headers["transfer-encoding"] == "chunked"
    assert len(small.content) >= 200_000 and small.json()["cursor"] == "25"
    sandbox.inject(SEARCH_X, Fault.oversized())  # 20 MB, counted as it arrives, never held
    total, head, tail = 0, b"", b""
    with httpx.stream("GET", f"{sandbox.base_url}{SEARCH_X}", params=X_PAGE, timeout=30) as response:
        for chunk in response.iter_raw():
            head = head or chunk[:9]
            tail = (tail + chunk)[-200:]
            total += len(chunk)
    normal = get(sandbox, SEARCH_X, X_PAGE)
    assert 20_000_000 <= total <= 20_000_000 + len(normal.content)
    assert head == b'{"data":[' and tail.endswith(b'}],"cursor":"' + normal.json()["cursor"].encode() + b'"}')


def test_oversized_stream_stops_when_the_client_hangs_up(sandbox: SandboxServer) -> None:
    before = handler_threads()
    sandbox.inject(SEARCH_X, Fault.oversized(size=10_000_000_000))  # 10 GB: only a hang-up ends it
    with httpx.stream("GET", f"{sandbox.base_url}{SEARCH_X}", params=X_PAGE, timeout=10) as response:
        read = 0
        for chunk in response.iter_raw():
            read += len(chunk)
            if read > 1_000_000:
                break
    assert wait_for_handlers(before) == before


# -- 7. a platform down for a while -------------------------------------------------------------------


def test_down_for_n_requests_answers_503_then_recovers_and_spares_the_other_platform(
    sandbox: SandboxServer,
) -> None:
    sandbox.inject("/xrpc/", Fault.down(requests=3))
    statuses = [get(sandbox, SEARCH_BSKY, BSKY_PAGE).status_code for _ in range(2)]
    assert get(sandbox, SEARCH_X, X_PAGE).status_code == 200  # X is not down
    statuses += [get(sandbox, PROFILES_BSKY, {"actors": ["a.bsky.social"]}).status_code for _ in range(2)]
    assert statuses == [503, 503, 503, 200]


def test_down_for_t_seconds_resets_connections_then_recovers(sandbox: SandboxServer) -> None:
    sandbox.inject(SEARCH_X, Fault.down(duration=0.5, mode="reset"))
    started = time.monotonic()
    with pytest.raises(httpx.ReadError, match="reset"):
        get(sandbox, SEARCH_X, X_PAGE)
    resets = 1
    while True:  # the window opened at the first request; 10 s is a generous bound for 0.5 s
        try:
            get(sandbox, SEARCH_X, X_PAGE)
            break
        except httpx.ReadError:
            resets += 1
            assert time.monotonic() - started < 10
            time.sleep(0.05)
    assert time.monotonic() - started >= 0.5
    assert [r.status for r in sandbox.requests if r.fault == "down"] == [0] * resets
    assert sandbox.pending_faults == []


def test_down_until_reset(sandbox: SandboxServer) -> None:
    sandbox.inject(SEARCH_BSKY, Fault.down(status=502))
    assert [get(sandbox, SEARCH_BSKY, BSKY_PAGE).status_code for _ in range(5)] == [502] * 5
    sandbox.reset()
    assert get(sandbox, SEARCH_BSKY, BSKY_PAGE).status_code == 200


# -- the control endpoint ------------------------------------------------------------------------------


def test_control_endpoint_queues_the_new_kinds_and_names_bad_fields(sandbox: SandboxServer) -> None:
    url = f"{sandbox.base_url}/_sandbox/faults"
    body = {
        "path": SEARCH_X,
        "faults": [
            {"kind": "bad_rows", "rows": 2, "defects": ["no_id", "count_word"]},
            {"kind": "down", "requests": 2, "mode": "reset"},
        ],
    }
    assert httpx.post(url, json=body).json()["queued"] == 2
    assert sandbox.pending_faults[0][1] == Fault.bad_rows(rows=2, defects=("no_id", "count_word"))
    assert sandbox.pending_faults[1][1] == Fault.down(requests=2, mode="reset")
    for fault, needle in (
        ({"kind": "bad_rows", "defects": "no_id"}, "'defects' must be a list"),
        ({"kind": "down", "mode": "sulk"}, "mode 'sulk'"),
        ({"kind": "drip", "interval": "slow"}, "'interval' must be a number"),
    ):
        bad = httpx.post(url, json={"path": SEARCH_X, "faults": [fault]})
        assert bad.status_code == 400 and needle in bad.json()["message"], bad.text
