"""Scout's platform clients (TwitterSearch, BlueskySearch) over real HTTP on 127.0.0.1.

Every test runs the real resources against a fresh ``SandboxServer`` (its own port, fault queue
and request log), so nothing is mocked at the HTTP level. Two process-level parts are swapped
through ``with_runtime_hooks`` so that waits are observed instead of spent:

* ``sleep``: a recorder for server-requested waits (Retry-After). stamina does its own
  exponential-backoff sleeps, kept to milliseconds by the tiny backoff settings below.
* ``rate_gate``: a real pyrate-limiter gate at the production rate, driven by a fake clock
  whose ``sleep`` advances it; pacing is asserted on that clock, never on wall time.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import math
import pickle
import threading
import uuid
from collections.abc import Iterator
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import dagster as dg
import pytest
from pyrate_limiter import AbstractClock

from resources.platforms.bluesky import PROFILES_PATH, PUBLIC_APPVIEW, BlueskySearch
from resources.platforms.bluesky import SEARCH_PATH as BSKY_SEARCH
from resources.platforms.platform_resource import (
    PlatformSearchResource,
    SandboxNotAllowedError,
    provide_sandbox,
)
from resources.platforms.rate_gate import RateGate
from resources.platforms.search_page import (
    CallRecord,
    ErrorKind,
    InvalidPayloadError,
    PermanentPlatformError,
    PlatformError,
    RateLimitedError,
    SearchPage,
    TransientPlatformError,
)
from resources.platforms.twitter import RAPIDAPI_HOST, TwitterSearch
from resources.platforms.twitter import SEARCH_PATH as X_SEARCH
from resources.retrying import retry_after_seconds
from scout_assets.resources_binding import build_resources, use_builtin_sandbox
from scout_sandbox import Fault, SandboxServer, get_sandbox

KEYWORD = "ethnography"
SEARCH_PATHS = {"twitter": X_SEARCH, "bluesky": BSKY_SEARCH}
FAST_RETRIES = {
    "backoff_initial_s": 0.001,
    "backoff_max_s": 0.005,
    "backoff_jitter_s": 0.001,
    "max_attempts": 3,
}
MAX_PAGES = 50  # the sandbox returns at most 200 results a keyword; more pages means pagination never ends


class FakeClock(AbstractClock):
    """Milliseconds that only move when someone sleeps on this clock."""

    def __init__(self) -> None:
        self.ms = 1_000_000
        self._lock = threading.Lock()

    def now(self) -> int:
        return self.ms

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.ms += math.ceil(seconds * 1000)


class RecordingGate(RateGate):
    """The production gate on a fake clock, noting the clock each time it lets a request go."""

    def __init__(self, requests_per_second: float) -> None:
        self.clock = FakeClock()
        super().__init__("test", requests_per_second, clock=self.clock, sleep=self.clock.sleep)
        self.admitted_at: list[int] = []

    def acquire(self) -> float:
        waited = super().acquire()
        self.admitted_at.append(self.clock.now())
        return waited


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(pool_size=600) as sandbox:
        yield sandbox


def make(
    platform: str, server: SandboxServer, **config
) -> tuple[PlatformSearchResource, list[float], RecordingGate]:
    """A resource of ``platform`` aimed at ``server``, with a sleep recorder and a fake-clock gate."""
    sleeps: list[float] = []
    resource_class = TwitterSearch if platform == "twitter" else BlueskySearch
    gate = RecordingGate(resource_class.model_fields["requests_per_second"].default)
    resource = resource_class(base_url=server.base_url, **{**FAST_RETRIES, **config})
    resource.with_runtime_hooks(sleep=sleeps.append, rate_gate=gate)
    return resource, sleeps, gate


def warm(resource: PlatformSearchResource, server: SandboxServer, cursor: str | None = None) -> None:
    """Fetch a page once so the sandbox has built its accounts, then forget that request."""
    resource.search(KEYWORD, cursor)
    server.reset()


def paths(server: SandboxServer) -> list[str]:
    return [request.path for request in server.requests]


def statuses(calls: tuple[CallRecord, ...]) -> list[int | None]:
    return [call.status for call in calls]


# --- paging through a keyword ----------------------------------------------------------------


@pytest.mark.parametrize("platform", ["twitter", "bluesky"])
def test_pages_through_a_keyword_until_the_cursor_runs_out(platform: str, server: SandboxServer) -> None:
    resource, _, _ = make(platform, server)
    pages: list[SearchPage] = []
    cursor = None
    with resource:
        while len(pages) < MAX_PAGES:
            page = resource.search(KEYWORD, cursor, request_id=f"req-{len(pages)}")
            pages.append(page)
            cursor = page.cursor_out
            if cursor is None:
                break
    assert pages[-1].exhausted, f"pagination did not end within {MAX_PAGES} pages"
    assert len(pages) > 1
    # Each page resumes from the previous page's cursor.
    assert [p.cursor_in for p in pages] == [None] + [p.cursor_out for p in pages[:-1]]
    search_requests = [r for r in server.requests if r.path == SEARCH_PATHS[platform]]
    # One request per page, plus any attempt a loaded machine made the client retry (a timeout):
    # every request the server saw is one the pages recorded.
    attempts = [call for page in pages for call in page.calls if call.endpoint == SEARCH_PATHS[platform]]
    assert len(search_requests) == len(attempts) >= len(pages)
    seen: set[str] = set()
    for number, page in enumerate(pages):
        assert page.request_id == f"req-{number}" and page.platform == platform and page.keyword == KEYWORD
        assert page.status == 200
        body = json.loads(page.payload)  # verbatim text of a JSON body
        items = body["data"] if platform == "twitter" else body["actors"]
        assert page.result_count == len(items) == len(page.handles)
        expected_hash = hashlib.md5(",".join(page.handles).encode()).hexdigest()[:16]
        assert page.ids_hash == expected_hash
        assert page.request_url.startswith(server.base_url + SEARCH_PATHS[platform] + "?")
        params = json.loads(page.request_params)
        assert (params.get("keyword") or params.get("q")) == KEYWORD
        assert params.get("cursor") == page.cursor_in
        assert page.calls[0].endpoint == SEARCH_PATHS[platform]
        assert all(call.request_id == page.request_id and call.status == 200 for call in page.calls)
        assert page.calls[0].result_count == page.result_count
        assert len({call.call_id for call in page.calls}) == len(page.calls)
        seen.update(page.handles)
    assert len(seen) == sum(p.result_count for p in pages), "a handle came back on two pages"


def test_twitter_page_has_no_hydration_and_sends_count(server: SandboxServer) -> None:
    resource, _, _ = make("twitter", server, page_size=7)
    with resource:
        page = resource.search(KEYWORD)
    assert page.hydration_payload is None
    assert len(page.calls) == 1
    assert server.requests[0].query["count"] == ["7"]
    assert page.result_count == 7


def test_bluesky_hydrates_in_batches_of_25(server: SandboxServer) -> None:
    resource, _, _ = make("bluesky", server, page_size=60)
    with resource:
        page = resource.search(KEYWORD)
    dids = [actor["did"] for actor in json.loads(page.payload)["actors"]]
    assert len(dids) > 50, "the keyword needs more than two batches of actors for this test"
    hydration = [r for r in server.requests if r.path == PROFILES_PATH]
    assert [len(r.query["actors"]) for r in hydration] == [25, 25, len(dids) - 50]
    assert [a for r in hydration for a in r.query["actors"]] == dids
    bodies = json.loads(page.hydration_payload)
    assert len(bodies) == 3
    assert [p["did"] for body in bodies for p in body["profiles"]] == dids
    assert all("followersCount" in p for body in bodies for p in body["profiles"])
    assert [c.endpoint for c in page.calls] == [BSKY_SEARCH] + [PROFILES_PATH] * 3
    assert [c.result_count for c in page.calls[1:]] == [25, 25, len(dids) - 50]


def test_bluesky_page_without_actors_makes_no_hydration_call(server: SandboxServer) -> None:
    resource, _, _ = make("bluesky", server)
    with resource:
        page = resource.search(KEYWORD, "100000")  # an offset past the last result
    assert page.result_count == 0 and page.exhausted
    assert page.hydration_payload == "[]"
    assert paths(server) == [BSKY_SEARCH]


# --- faults ----------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["twitter", "bluesky"])
def test_rate_limit_waits_for_retry_after_then_succeeds(platform: str, server: SandboxServer) -> None:
    resource, sleeps, _ = make(platform, server)
    with resource:
        warm(resource, server)
        server.inject(SEARCH_PATHS[platform], Fault.rate_limit(retry_after=7))
        page = resource.search(KEYWORD)
    search_calls = [c for c in page.calls if c.endpoint == SEARCH_PATHS[platform]]
    assert statuses(search_calls) == [429, 200]
    assert [c.attempt for c in search_calls] == [1, 2]
    assert "429" in search_calls[0].error and search_calls[1].error is None
    assert search_calls[0].called_at <= search_calls[1].called_at
    assert sleeps == [7.0], "the client must wait what Retry-After asked before the second attempt"


def test_retry_after_is_capped(server: SandboxServer) -> None:
    resource, sleeps, _ = make("twitter", server, retry_after_max_s=2.5)
    with resource:
        server.inject(X_SEARCH, Fault.rate_limit(retry_after=3600))
        page = resource.search(KEYWORD)
    assert statuses(page.calls) == [429, 200]
    assert sleeps == [2.5]


@pytest.mark.parametrize("platform", ["twitter", "bluesky"])
@pytest.mark.parametrize("fault", [Fault.server_error(500), Fault.server_error(502)], ids=["500", "502"])
def test_transient_fault_is_retried_then_succeeds(platform: str, fault: Fault, server: SandboxServer) -> None:
    resource, sleeps, _ = make(platform, server)
    with resource:
        warm(resource, server)
        server.inject(SEARCH_PATHS[platform], fault)
        page = resource.search(KEYWORD)
    first, second = page.calls[0], page.calls[1]
    assert (first.attempt, second.attempt) == (1, 2)
    assert first.status == fault.status and second.status == 200
    assert first.error and first.result_count is None and first.error_kind == "transient"
    assert second.error is None and second.error_kind is None
    assert second.result_count == page.result_count > 0
    assert paths(server)[:2] == [SEARCH_PATHS[platform]] * 2
    assert sleeps == [], "no Retry-After was sent, so only stamina's backoff applies"


@pytest.mark.parametrize("platform", ["twitter", "bluesky"])
@pytest.mark.parametrize("fault", [Fault.truncated(), Fault.empty()], ids=["truncated", "empty-body"])
def test_a_2xx_body_that_is_not_json_is_an_invalid_payload_never_retried(
    platform: str, fault: Fault, server: SandboxServer
) -> None:
    """A well-framed 200 whose body is not JSON will be the same body next time: one call, recorded."""
    resource, _, _ = make(platform, server)
    with resource:
        warm(resource, server)
        server.inject(SEARCH_PATHS[platform], fault)
        with pytest.raises(InvalidPayloadError) as caught:
            resource.search(KEYWORD)
    error = caught.value
    assert error.kind is ErrorKind.INVALID_PAYLOAD and not error.retried and error.attempts == 1
    assert paths(server) == [SEARCH_PATHS[platform]]
    [call] = error.calls
    assert (call.status, call.error_kind) == (200, "invalid_payload") and "not JSON" in call.error


@pytest.mark.parametrize("platform", ["twitter", "bluesky"])
def test_timeout_is_retried(platform: str, server: SandboxServer) -> None:
    resource, _, _ = make(platform, server, timeout_s=0.5)
    with resource:
        warm(resource, server)
        server.inject(SEARCH_PATHS[platform], Fault.timeout(seconds=5))
        page = resource.search(KEYWORD)
    first, second = page.calls[0], page.calls[1]
    assert first.status is None and "timeout" in first.error
    assert second.status == 200 and second.attempt == 2


@pytest.mark.parametrize("platform", ["twitter", "bluesky"])
def test_persistent_503_raises_platform_error_with_every_attempt(
    platform: str, server: SandboxServer
) -> None:
    resource, _, _ = make(platform, server, max_attempts=3)
    server.inject(SEARCH_PATHS[platform], *[Fault.server_error(503)] * 4)
    with resource, pytest.raises(TransientPlatformError) as caught:
        resource.search(KEYWORD, request_id="r-503")
    error = caught.value
    assert (error.platform, error.keyword, error.status, error.attempts) == (platform, KEYWORD, 503, 3)
    assert error.kind is ErrorKind.TRANSIENT and error.retried
    assert [c.error_kind for c in error.calls] == ["transient"] * 3
    assert statuses(error.calls) == [503, 503, 503]
    assert [c.attempt for c in error.calls] == [1, 2, 3]
    assert all(c.request_id == "r-503" and "503" in c.error for c in error.calls)
    assert len(server.requests) == 3
    message = str(error)
    assert platform in message and repr(KEYWORD) in message and "503" in message and "3 attempt" in message


# The sandbox breaks the list and the cursor at once; the parser may name either field first.
@pytest.mark.parametrize(
    ("platform", "broken"), [("twitter", {"data", "cursor"}), ("bluesky", {"cursor", "actors[0].did"})]
)
def test_wrong_shape_raises_invalid_payload_without_retry(
    platform: str, broken: set[str], server: SandboxServer
) -> None:
    resource, _, _ = make(platform, server)
    server.inject(SEARCH_PATHS[platform], Fault.malformed())
    with resource, pytest.raises(InvalidPayloadError) as caught:
        resource.search(KEYWORD)
    error = caught.value
    assert (error.platform, error.keyword) == (platform, KEYWORD) and error.field in broken
    assert platform in str(error) and KEYWORD in str(error) and error.field in str(error)
    assert len(server.requests) == 1, "a wrong-shape body must not be retried"
    assert statuses(error.calls) == [200]
    assert error.calls[0].error == error.reason and error.calls[0].error_kind == "invalid_payload"


@pytest.mark.parametrize("platform", ["twitter", "bluesky"])
def test_client_error_is_not_retried(platform: str, server: SandboxServer) -> None:
    resource, _, _ = make(platform, server)
    with resource, pytest.raises(PermanentPlatformError) as caught:
        resource.search(KEYWORD, "not-a-cursor-we-issued")
    error = caught.value
    assert error.status == 400 and error.attempts == 1 and error.cursor == "not-a-cursor-we-issued"
    assert error.kind is ErrorKind.PERMANENT and error.calls[0].error_kind == "permanent"
    assert len(server.requests) == 1
    assert "400" in str(error) and "not retryable" in str(error)


def test_bluesky_hydration_fault_is_retried(server: SandboxServer) -> None:
    resource, _, _ = make("bluesky", server)
    with resource:
        warm(resource, server)
        server.inject(PROFILES_PATH, Fault.server_error(503))
        page = resource.search(KEYWORD)
    assert [(c.endpoint, c.status, c.attempt) for c in page.calls] == [
        (BSKY_SEARCH, 200, 1),
        (PROFILES_PATH, 503, 1),
        (PROFILES_PATH, 200, 2),
    ]
    assert len(json.loads(page.hydration_payload)) == 1


def test_bluesky_failed_hydration_fails_the_whole_page(server: SandboxServer) -> None:
    resource, _, _ = make("bluesky", server, max_attempts=2)
    server.inject(PROFILES_PATH, *[Fault.server_error(503)] * 2)
    with resource, pytest.raises(PlatformError) as caught:
        resource.search(KEYWORD, request_id="r-hydrate")
    error = caught.value
    assert error.endpoint == PROFILES_PATH and error.status == 503
    assert [(c.endpoint, c.status) for c in error.calls] == [
        (BSKY_SEARCH, 200),
        (PROFILES_PATH, 503),
        (PROFILES_PATH, 503),
    ]
    assert all(c.request_id == "r-hydrate" for c in error.calls)


def test_bluesky_wrong_shape_hydration_keeps_the_search_call(server: SandboxServer) -> None:
    resource, _, _ = make("bluesky", server)
    server.inject(PROFILES_PATH, Fault.malformed())
    with resource, pytest.raises(InvalidPayloadError) as caught:
        resource.search(KEYWORD)
    assert caught.value.field.startswith("profiles[0]")
    assert [(c.endpoint, c.status) for c in caught.value.calls] == [(BSKY_SEARCH, 200), (PROFILES_PATH, 200)]


def test_platform_error_survives_pickling(server: SandboxServer) -> None:
    """Dagster ships a failed step's exception to another process; the records must come along."""
    resource, _, _ = make("twitter", server, max_attempts=2)
    server.inject(X_SEARCH, *[Fault.server_error(502)] * 2)
    with resource, pytest.raises(PlatformError) as caught:
        resource.search(KEYWORD)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert str(copy) == str(caught.value) and copy.calls == caught.value.calls
    assert type(copy) is TransientPlatformError and copy.kind is ErrorKind.TRANSIENT


def test_rate_limited_error_keeps_the_last_requested_wait(server: SandboxServer) -> None:
    resource, sleeps, _ = make("twitter", server, max_attempts=2)
    server.inject(X_SEARCH, Fault.rate_limit(retry_after=4), Fault.rate_limit(retry_after=5))
    with resource, pytest.raises(RateLimitedError) as caught:
        resource.search(KEYWORD)
    error = caught.value
    assert error.retry_after_s == 5.0 and error.status == 429 and error.retried
    assert sleeps == [4.0], "the wait after the last attempt is the caller's business, not slept here"
    assert [c.error_kind for c in error.calls] == ["rate_limited", "rate_limited"]
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is RateLimitedError and copy.retry_after_s == 5.0


# --- pacing ----------------------------------------------------------------------------------


def test_rate_gate_spaces_every_attempt_at_the_configured_rate(server: SandboxServer) -> None:
    resource, _, gate = make("twitter", server)  # the production default: 10 requests/s
    server.inject(X_SEARCH, Fault.server_error(502))  # a retry must pass the gate as well
    cursor, pages = None, 0
    with resource:
        while pages < MAX_PAGES:
            cursor = resource.search(KEYWORD, cursor).cursor_out
            pages += 1
            if cursor is None:
                break
    admitted = gate.admitted_at
    assert len(admitted) == len(server.requests) == pages + 1
    gaps = [later - earlier for earlier, later in itertools.pairwise(admitted)]
    assert min(gaps) >= gate.interval_ms == 100
    busiest_second = max(sum(1 for t in admitted if start <= t < start + 1000) for start in admitted)
    assert busiest_second <= 10
    assert admitted[-1] - admitted[0] >= (len(admitted) - 1) * 100, "the gate must have made the client wait"


def test_gate_is_shared_per_platform_in_the_process(server: SandboxServer) -> None:
    fast = {"requests_per_second": 10.0}
    with (
        TwitterSearch(base_url=server.base_url, **fast) as first,
        TwitterSearch(base_url=server.base_url, **fast) as second,
        BlueskySearch(base_url=server.base_url, **fast) as other_platform,
    ):
        assert first.http.rate_gate is second.http.rate_gate
        assert first.http.rate_gate is not other_platform.http.rate_gate


def test_rate_gate_rejects_a_non_positive_rate() -> None:
    with pytest.raises(ValueError, match="requests_per_second"):
        RateGate("bad", 0)


# --- where requests go -----------------------------------------------------------------------


@pytest.fixture
def builtin_sandbox():
    """The sandbox as the resource binding provides it."""
    use_builtin_sandbox()
    return get_sandbox()


def test_without_a_provided_sandbox_a_keyless_resource_says_so() -> None:
    previous = provide_sandbox(None)
    try:
        with pytest.raises(SandboxNotAllowedError, match="no sandbox was provided"):
            TwitterSearch().resolved_base_url()
    finally:
        provide_sandbox(previous)


def test_twitter_without_key_uses_the_sandbox(builtin_sandbox) -> None:
    resource = TwitterSearch()
    assert resource.uses_sandbox
    assert resource.resolved_base_url() == get_sandbox().base_url


def test_twitter_with_key_uses_the_rapidapi_host() -> None:
    resource = TwitterSearch(api_key="a-key")
    assert not resource.uses_sandbox
    assert resource.resolved_base_url() == f"https://{RAPIDAPI_HOST}"


def test_explicit_base_url_wins() -> None:
    assert (
        TwitterSearch(api_key="k", base_url="http://127.0.0.1:1/").resolved_base_url() == "http://127.0.0.1:1"
    )
    assert BlueskySearch(use_public_appview=True, base_url="http://127.0.0.1:2").resolved_base_url() == (
        "http://127.0.0.1:2"
    )


def test_bluesky_goes_live_only_when_asked(builtin_sandbox) -> None:
    assert BlueskySearch().uses_sandbox
    assert BlueskySearch().resolved_base_url() == get_sandbox().base_url
    live = BlueskySearch(use_public_appview=True)
    assert not live.uses_sandbox and live.resolved_base_url() == PUBLIC_APPVIEW


def test_blank_keyword_is_rejected_before_any_call(server: SandboxServer) -> None:
    resource, _, _ = make("twitter", server)
    with resource, pytest.raises(ValueError, match="keyword"):
        resource.search("   ")
    assert server.requests == []


# --- secrets ---------------------------------------------------------------------------------


class _HeaderEcho(BaseHTTPRequestHandler):
    """Answers an empty X search page and remembers the request line and headers it got."""

    seen: ClassVar[list[tuple[str, dict[str, str]]]] = []

    def do_GET(self) -> None:
        type(self).seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        body = b'{"data":[],"cursor":null}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_key_travels_only_in_the_header() -> None:
    key = f"sk-test-{uuid.uuid4().hex}"
    _HeaderEcho.seen = []
    echo = ThreadingHTTPServer(("127.0.0.1", 0), _HeaderEcho)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    try:
        with TwitterSearch(api_key=key, base_url=f"http://127.0.0.1:{echo.server_address[1]}") as resource:
            page = resource.search(KEYWORD)
    finally:
        echo.shutdown()
        echo.server_close()
    [(request_line, headers)] = _HeaderEcho.seen
    assert headers["x-rapidapi-key"] == key and headers["x-rapidapi-host"] == RAPIDAPI_HOST
    assert key not in request_line
    assert page.exhausted and page.result_count == 0


def _strings(value: object) -> list[str]:
    if isinstance(value, SearchPage | CallRecord):
        return [repr(value)] + [s for f in fields(value) for s in _strings(getattr(value, f.name))]
    if isinstance(value, tuple | list):
        return [s for item in value for s in _strings(item)]
    return [str(value), repr(value)]


def test_key_never_reaches_pages_records_errors_or_logs(
    server: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    key = f"sk-test-{uuid.uuid4().hex}"
    caplog.set_level(logging.DEBUG)
    resource, _, _ = make("twitter", server, api_key=key, max_attempts=2)
    texts = [repr(resource), str(resource)]
    with resource:
        texts.append(repr(resource.http))
        server.inject(X_SEARCH, Fault.rate_limit(1))
        page = resource.search(KEYWORD)
        texts += _strings(page)
        failures: list[Exception] = []
        server.inject(X_SEARCH, Fault.server_error(503), Fault.server_error(503))
        server.inject(X_SEARCH, Fault.malformed())
        for cursor in (None, None, "not-a-cursor-we-issued"):
            with pytest.raises(PlatformError) as caught:
                resource.search(KEYWORD, cursor)
            failures.append(caught.value)
    assert {type(f) for f in failures} == {
        TransientPlatformError,
        InvalidPayloadError,
        PermanentPlatformError,
    }
    for failure in failures:
        texts += [str(failure), repr(failure), *_strings(failure.calls)]
    texts.append(caplog.text)
    assert len(texts) > 50
    leaks = [text for text in texts if key in text]
    assert leaks == []


# --- small pieces ----------------------------------------------------------------------------


def test_retry_after_reads_seconds_dates_and_ratelimit_reset() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    epoch = now.timestamp()
    in_90s = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert retry_after_seconds({"retry-after": "12"}, cap_s=60, now=epoch) == 12
    assert retry_after_seconds({"retry-after": in_90s}, cap_s=600, now=epoch) == 90
    assert retry_after_seconds({"retry-after": in_90s}, cap_s=30, now=epoch) == 30
    assert retry_after_seconds({"ratelimit-reset": str(int(epoch) + 40)}, cap_s=60, now=epoch) == 40
    assert retry_after_seconds({"ratelimit-reset": "15"}, cap_s=60, now=epoch) == 15
    assert retry_after_seconds({"retry-after": "soon"}, cap_s=60, now=epoch) is None
    assert retry_after_seconds({"retry-after": "-5"}, cap_s=60, now=epoch) == 0
    assert retry_after_seconds({}, cap_s=60, now=epoch) is None


def test_resource_opens_in_setup_and_closes_in_teardown(server: SandboxServer) -> None:
    seen: dict[str, object] = {}

    @dg.asset
    def one_page(twitter: TwitterSearch) -> int:
        seen["opened_before_use"] = twitter._client is not None  # setup_for_execution ran
        page = twitter.search(KEYWORD)
        seen["client"] = twitter._client
        return page.result_count

    result = dg.materialize(
        [one_page], resources={"twitter": TwitterSearch(base_url=server.base_url, requests_per_second=1000)}
    )
    assert result.success and result.output_for_node("one_page") > 0
    assert seen["opened_before_use"] is True
    assert seen["client"]._client.is_closed  # type: ignore[attr-defined]  # teardown closed the pool


def test_production_can_forbid_the_sandbox(monkeypatch):
    """With SCOUT_REQUIRE_LIVE_APIS a missing key fails loudly instead of searching synthetic data."""
    monkeypatch.setenv("SCOUT_REQUIRE_LIVE_APIS", "1")
    monkeypatch.delenv("TWITTERX_APIKEY", raising=False)
    monkeypatch.delenv("SCOUT_BLUESKY_URL", raising=False)
    resources = build_resources()
    with pytest.raises(SandboxNotAllowedError, match="twitter: no API key or base URL"):
        resources["twitter"].resolved_base_url()
    with pytest.raises(SandboxNotAllowedError, match="bluesky"):
        resources["bluesky"].resolved_base_url()
    assert TwitterSearch(api_key="k").resolved_base_url() == "https://twitter-x-api.p.rapidapi.com"
