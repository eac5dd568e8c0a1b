"""Hard limits of one platform request, and its documented worst case, over real loopback HTTP.

The hostile answers come from the sandbox's fault modes (a body that lies about its encoding,
drip-feed, an oversized body, a huge page, an outage that resets connections); one thing the
sandbox cannot do, drip the *headers*, comes from a tiny socket server here. Every test checks
the three things a caller relies on: the error's kind (which decides whether anything retries),
the attempts made (exactly the kind's budget), and a ledger record for each attempt.

The only timing thresholds are the documented worst case (docs/operations.md, "Limits and
retries"): ``max_attempts * (deadline_s + 1/rps) + (max_attempts - 1) * max_wait``. Each test
that asserts one uses a server that, without the deadline, would hold the request for 30 s or
more, so the bound cannot hold by accident; the slack (a couple of seconds) only absorbs thread
scheduling on a loaded CI machine.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest

from resources.models.litellm_labeler import MODEL_RETRY, worst_case_batch_s
from resources.models.registry import DEFAULT_TIMEOUT_S
from resources.platforms.bluesky import PROFILES_PER_CALL, BlueskySearch
from resources.platforms.bluesky import SEARCH_PATH as BSKY_SEARCH
from resources.platforms.http_client import RequestLimits, worst_case_seconds
from resources.platforms.platform_resource import PlatformSearchResource
from resources.platforms.search_page import (
    ErrorKind,
    InvalidPayloadError,
    PlatformError,
    TransientPlatformError,
)
from resources.platforms.twitter import SEARCH_PATH as X_SEARCH
from resources.platforms.twitter import TwitterSearch
from resources.retrying import RetryBudget
from scout_sandbox import Fault, SandboxServer

KEYWORD = "ethnography"
SEARCH_PATHS = {"twitter": X_SEARCH, "bluesky": BSKY_SEARCH}
PLATFORMS = ["twitter", "bluesky"]
# Millisecond waits between attempts and a fast gate, so the deadline dominates every bound.
FAST = {
    "max_attempts": 3,
    "backoff_initial_s": 0.001,
    "backoff_max_s": 0.01,
    "backoff_jitter_s": 0.001,
    "retry_after_max_s": 0.01,
    "requests_per_second": 1000.0,
}
SLACK_S = 2.0


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(pool_size=600) as sandbox:
        yield sandbox


def make(platform: str, base_url: str, **config) -> PlatformSearchResource:
    resource_class = TwitterSearch if platform == "twitter" else BlueskySearch
    resource = resource_class(base_url=base_url, **{**FAST, **config})
    return resource.with_runtime_hooks(sleep=lambda seconds: None)  # Retry-After is capped at 10 ms anyway


def fail(resource: PlatformSearchResource, error: type[PlatformError] = PlatformError) -> PlatformError:
    with resource, pytest.raises(error) as caught:
        resource.search(KEYWORD, request_id="r-limits")
    return caught.value


def assert_recorded(error: PlatformError, kind: ErrorKind, attempts: int) -> None:
    """The error's kind, its attempt count, and one ledger record per attempt of that kind."""
    assert error.kind is kind and error.attempts == attempts == len(error.calls)
    assert [c.attempt for c in error.calls] == list(range(1, attempts + 1))
    assert all(c.error and c.error_kind == kind.value and c.request_id == "r-limits" for c in error.calls)
    assert error.retried is (kind in (ErrorKind.TRANSIENT, ErrorKind.RATE_LIMITED))


# --- invalid payloads: one call, never retried -------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("mode", ["gzip", "deflate"])
def test_a_body_that_lies_about_its_encoding_is_an_invalid_payload(
    platform: str, mode: str, server: SandboxServer
) -> None:
    """httpx's DecodingError used to escape the client; now it is typed, recorded, and not retried."""
    server.inject(SEARCH_PATHS[platform], Fault.bad_encoding(mode))
    error = fail(make(platform, server.base_url), InvalidPayloadError)
    assert_recorded(error, ErrorKind.INVALID_PAYLOAD, attempts=1)
    assert error.calls[0].status == 200 and "Content-Encoding" in error.reason
    assert len(server.requests) == 1


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_body_over_the_size_limit_is_cut_off_and_refused(platform: str, server: SandboxServer) -> None:
    server.inject(SEARCH_PATHS[platform], Fault.oversized(size=20_000_000))
    resource = make(platform, server.base_url, max_response_bytes=200_000)
    started = time.monotonic()
    error = fail(resource, InvalidPayloadError)
    assert_recorded(error, ErrorKind.INVALID_PAYLOAD, attempts=1)
    assert "larger than the limit of 200000 bytes" in error.reason
    # Cut off at the limit: reading the whole 20 MB (and retrying it) is what the limit prevents.
    assert time.monotonic() - started <= worst_case_seconds(
        RetryBudget(max_attempts=1), resource.request_limits, resource.requests_per_second
    )


def test_the_default_size_limit_is_5_mb() -> None:
    assert TwitterSearch().max_response_bytes == BlueskySearch().max_response_bytes == 5_000_000


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_page_with_more_rows_than_allowed_is_refused(platform: str, server: SandboxServer) -> None:
    server.inject(SEARCH_PATHS[platform], Fault.huge_page(rows=1000))
    resource = make(platform, server.base_url)
    assert resource.row_limit == min(resource.max_page_rows, resource.page_size * 2)
    error = fail(resource, InvalidPayloadError)
    assert_recorded(error, ErrorKind.INVALID_PAYLOAD, attempts=1)
    assert f"more than the limit of {resource.row_limit}" in error.reason
    assert [r.path for r in server.requests] == [SEARCH_PATHS[platform]], "no hydration for a refused page"


def test_the_row_limit_has_an_absolute_cap() -> None:
    assert BlueskySearch(page_size=100, max_page_rows=150).row_limit == 150
    assert TwitterSearch(page_size=20, page_rows_factor=1.5).row_limit == 30


# --- transient failures: retried by the client, and only by it ----------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_drip_fed_body_is_cut_at_the_deadline_within_the_worst_case(
    platform: str, server: SandboxServer
) -> None:
    """Each attempt ends at its total deadline although every read gets bytes in time."""
    resource = make(platform, server.base_url, deadline_s=0.5, timeout_s=10)
    with make(platform, server.base_url) as warm:  # the sandbox builds its accounts on first use
        warm.search(KEYWORD)
    server.reset()
    # 16 bytes every 50 ms: a 10 kB page would take more than 30 s (the drip's own cap).
    server.inject(SEARCH_PATHS[platform], *[Fault.drip(chunk=16, interval=0.05, seconds=30)] * 3)
    started = time.monotonic()
    error = fail(resource, TransientPlatformError)
    elapsed = time.monotonic() - started
    assert_recorded(error, ErrorKind.TRANSIENT, attempts=3)
    assert all("deadline of 0.5s" in c.error for c in error.calls)
    assert all(c.status == 200 for c in error.calls), "the headers came, the body never finished"
    assert len(server.requests) == 3
    bound = worst_case_seconds(resource.retry_settings, resource.request_limits, resource.requests_per_second)
    assert elapsed <= bound + SLACK_S, (elapsed, bound)


class _HeaderDrip(socketserver.BaseRequestHandler):
    """Sends a status line and headers one byte every 50 ms, for up to 30 s: never a full answer."""

    def handle(self) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + b"X-Pad: " + b"a" * 10_000
        self.request.settimeout(1)
        try:
            self.request.recv(65536)
            for byte in head[:600]:
                self.request.sendall(bytes([byte]))
                time.sleep(0.05)
        except OSError:
            pass  # the client hung up: what the deadline is for


@pytest.fixture
def header_drip() -> Iterator[str]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _HeaderDrip)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_deadline_covers_the_headers_too(header_drip: str) -> None:
    """httpx reads headers under the same per-read timeout; only the total deadline ends a header drip."""
    resource = make("twitter", header_drip, deadline_s=0.4, timeout_s=10, max_attempts=2)
    started = time.monotonic()
    error = fail(resource, TransientPlatformError)
    elapsed = time.monotonic() - started
    assert_recorded(error, ErrorKind.TRANSIENT, attempts=2)
    assert all(c.status is None and "deadline" in c.error for c in error.calls)
    bound = worst_case_seconds(resource.retry_settings, resource.request_limits, resource.requests_per_second)
    assert elapsed <= bound + SLACK_S, (elapsed, bound)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_connection_resets_are_transient_and_use_exactly_the_attempt_budget(
    platform: str, server: SandboxServer
) -> None:
    server.inject(SEARCH_PATHS[platform], Fault.down(requests=10, mode="reset"))
    error = fail(make(platform, server.base_url))
    assert_recorded(error, ErrorKind.TRANSIENT, attempts=3)
    assert all(c.status is None for c in error.calls)
    assert len(server.requests) == 3


def test_a_refused_connection_is_transient() -> None:
    with socket.socket() as probe:  # a port nobody listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = fail(make("bluesky", f"http://127.0.0.1:{port}", max_attempts=2))
    assert_recorded(error, ErrorKind.TRANSIENT, attempts=2)
    assert "ConnectError" in error.reason


def test_a_healthy_page_still_arrives_under_tight_limits(server: SandboxServer) -> None:
    """The limits refuse only what breaks them: a normal page passes a 1 s deadline and 200 kB."""
    with make("bluesky", server.base_url, deadline_s=1.0, max_response_bytes=200_000) as resource:
        page = resource.search(KEYWORD)
    assert page.result_count > 0 and all(c.error is None and c.error_kind is None for c in page.calls)


# --- the worst case, as documented ---------------------------------------------------------------


def test_worst_case_formula_matches_the_documented_defaults() -> None:
    """docs/operations.md, "Worst case": the numbers in its table, from the shipped defaults."""
    assert TwitterSearch().worst_case_request_s() == pytest.approx(390.5)  # 5 x (30 + 0.1) + 4 x 60
    bluesky = BlueskySearch()
    assert bluesky.worst_case_request_s() == pytest.approx(391.0)  # 5 x (30 + 0.2) + 4 x 60
    hydration_requests = -(-bluesky.row_limit // PROFILES_PER_CALL)
    assert (1 + hydration_requests) * bluesky.worst_case_request_s() == pytest.approx(1173.0)
    assert worst_case_batch_s(MODEL_RETRY, DEFAULT_TIMEOUT_S) == pytest.approx(303.0)  # 3 x (60 + 1) + 2 x 60
    assert worst_case_seconds(RetryBudget(), RequestLimits(), 5.0) == pytest.approx(391.0)


def test_limits_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="deadline_s"):
        RequestLimits(deadline_s=0)
    with pytest.raises(ValueError, match="max_attempts"):
        RetryBudget(max_attempts=0)
