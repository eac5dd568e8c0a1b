"""What every platform search resource shares: config fields, the client's lifecycle, test hooks.

A platform resource is plain config (base URL, pacing, retry budget, hard limits) plus one
``PlatformHttpClient`` that lives for one Dagster run: made in ``setup_for_execution``,
closed in ``teardown_after_execution``. Outside Dagster (the ``scout`` CLI, tests) use it as a
context manager; a resource that is used without either opens its client on first use and
closes it when the process drops it.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import ClassVar, Self

import dagster as dg
from pydantic import Field, PrivateAttr

from resources.platforms.http_client import (
    JsonResponse,
    PlatformHttpClient,
    RequestLimits,
    worst_case_seconds,
)
from resources.platforms.rate_gate import RateGate, shared_rate_gate
from resources.platforms.search_page import CallRecord, SearchPage, ids_hash
from resources.retrying import RetryBudget

SandboxStarter = Callable[[], str]
_sandbox_starter: SandboxStarter | None = None


class SandboxNotAllowedError(RuntimeError):
    """A deployment that requires live APIs resolved a platform to the sandbox (a key is missing)."""


def provide_sandbox(starter: SandboxStarter | None) -> SandboxStarter | None:
    """Hand over how to reach the built-in sandbox: a callable that starts it and gives its URL.

    The sandbox is a separate program (``scout_sandbox``) that resources never import; the
    resource binding provides it, so the sandbox stays another base URL, not another code path,
    and a live deployment never starts it. ``None`` withdraws it. Returns the previous one.
    """
    global _sandbox_starter
    previous, _sandbox_starter = _sandbox_starter, starter
    return previous


def sandbox_base_url(platform: str, *, allowed: bool) -> str:
    """The sandbox's base URL for a platform configured with neither key nor URL.

    Production binds ``sandbox_allowed=False`` (``SCOUT_REQUIRE_LIVE_APIS=1``): a missing key or
    URL then fails loudly instead of quietly filling the warehouse with synthetic profiles.
    """
    if not allowed:
        raise SandboxNotAllowedError(
            f"{platform}: no API key or base URL is configured and this deployment forbids the sandbox"
            " (SCOUT_REQUIRE_LIVE_APIS)"
        )
    if _sandbox_starter is None:
        raise SandboxNotAllowedError(
            f"{platform}: no API key or base URL is configured and no sandbox was provided"
            " (resources built outside scout_assets.resources_binding must set base_url)"
        )
    return _sandbox_starter()


class PlatformSearchResource(dg.ConfigurableResource):
    """Base class of ``TwitterSearch`` and ``BlueskySearch``: the settings both platforms take."""

    platform: ClassVar[str]

    page_size: int = Field(description="Results requested per search page.")
    requests_per_second: float = Field(
        description="Client-side pace, shared by every client of this platform in the process."
    )
    base_url: str | None = Field(
        default=None,
        description="Override the API base URL (e.g. a proxy or a test server). Unset: see the platform's rule.",
    )
    sandbox_allowed: bool = Field(
        default=True,
        description="Without a key or URL, use the built-in sandbox. False (production): fail instead.",
    )
    timeout_s: float = Field(
        default=10.0, gt=0, description="Per-operation timeout: the longest wait for a connect or one read."
    )
    deadline_s: float = Field(
        default=30.0,
        gt=0,
        description="Total deadline of one attempt: connect, headers and the whole body together.",
    )
    max_response_bytes: int = Field(
        default=5_000_000,
        gt=0,
        description="Largest response body accepted; a larger one is cut off and refused.",
    )
    page_rows_factor: float = Field(
        default=2.0, ge=1, description="A page may hold at most page_size x this many results."
    )
    max_page_rows: int = Field(
        default=500, ge=1, description="Absolute cap on the results of one page, whatever page_size says."
    )
    max_attempts: int = Field(default=5, ge=1, description="Attempts per request, first try included.")
    backoff_initial_s: float = Field(
        default=0.5, description="First retry wait before jitter; doubles each retry."
    )
    backoff_max_s: float = Field(default=30.0, description="Ceiling of one exponential-backoff wait.")
    backoff_jitter_s: float = Field(
        default=1.0, description="Random extra of up to this many seconds per wait."
    )
    retry_after_max_s: float = Field(
        default=60.0, description="Ceiling of a wait requested by the server (Retry-After / ratelimit-reset)."
    )

    _client: PlatformHttpClient | None = PrivateAttr(default=None)
    _sleep: Callable[[float], None] = PrivateAttr(default=time.sleep)
    _rate_gate: RateGate | None = PrivateAttr(default=None)

    # ---- per-platform hooks -------------------------------------------------------------
    def resolved_base_url(self) -> str:
        raise NotImplementedError

    @property
    def uses_sandbox(self) -> bool:
        raise NotImplementedError

    def _secret_headers(self) -> dict[str, str]:
        return {}

    def _public_headers(self) -> dict[str, str]:
        return {}

    # ---- lifecycle ----------------------------------------------------------------------
    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.open()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self.close()

    def open(self) -> PlatformHttpClient:
        """Create the HTTP client (idempotent) and return it."""
        if self._client is None:
            base_url = self.resolved_base_url()
            gate = self._rate_gate or shared_rate_gate(self.platform, base_url, self.requests_per_second)
            self._client = PlatformHttpClient(
                platform=self.platform,
                base_url=base_url,
                limits=self.request_limits,
                retry=self.retry_settings,
                rate_gate=gate,
                secret_headers=self._secret_headers(),
                headers=self._public_headers(),
                sleep=self._sleep,
            )
        return self._client

    @property
    def retry_settings(self) -> RetryBudget:
        return RetryBudget(
            max_attempts=self.max_attempts,
            backoff_initial_s=self.backoff_initial_s,
            backoff_max_s=self.backoff_max_s,
            backoff_jitter_s=self.backoff_jitter_s,
            retry_after_max_s=self.retry_after_max_s,
        )

    @property
    def request_limits(self) -> RequestLimits:
        return RequestLimits(
            deadline_s=self.deadline_s, timeout_s=self.timeout_s, max_response_bytes=self.max_response_bytes
        )

    @property
    def requests_per_page(self) -> int:
        """HTTP requests one search page sends when nothing is retried (each is billed by a paid plan)."""
        return 1

    @property
    def row_limit(self) -> int:
        """Most results one search page may hold; a page with more is refused as an invalid payload."""
        return min(self.max_page_rows, math.ceil(self.page_size * self.page_rows_factor))

    def worst_case_request_s(self) -> float:
        """Longest one HTTP request (all its attempts) can take with this config; docs/operations.md."""
        return worst_case_seconds(self.retry_settings, self.request_limits, self.requests_per_second)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def http(self) -> PlatformHttpClient:
        """The open client (opened on first use when neither Dagster nor ``with`` opened it)."""
        return self.open()

    def _search_params(
        self, keyword: str, cursor: str | None, *, keyword_param: str, size_param: str
    ) -> list[tuple[str, str | int]]:
        """The query of one search page, after refusing an empty keyword (names the platform)."""
        if not keyword or not keyword.strip():
            raise ValueError(f"{self.platform} search: keyword must be a non-empty string, got {keyword!r}")
        params: list[tuple[str, str | int]] = [(keyword_param, keyword), (size_param, self.page_size)]
        if cursor:
            params.append(("cursor", cursor))
        return params

    def _search_page(
        self,
        *,
        request_id: str,
        keyword: str,
        cursor: str | None,
        params: list[tuple[str, str | int]],
        response: JsonResponse,
        cursor_out: str | None,
        handles: tuple[str, ...],
        hydration_payload: str | None = None,
        calls: tuple[CallRecord, ...] | None = None,
    ) -> SearchPage:
        """The ledger record of one fetched page: the request as sent (no secret), the body verbatim."""
        return SearchPage(
            request_id=request_id,
            platform=self.platform,
            keyword=keyword,
            cursor_in=cursor,
            cursor_out=cursor_out,
            status=response.status,
            request_url=response.url,
            request_params=json.dumps(dict(params), ensure_ascii=False),
            payload=response.text,
            hydration_payload=hydration_payload,
            result_count=len(handles),
            handles=handles,
            ids_hash=ids_hash(handles),
            fetched_at=response.received_at,
            calls=response.calls if calls is None else calls,
        )

    def with_runtime_hooks(
        self, *, sleep: Callable[[float], None] | None = None, rate_gate: RateGate | None = None
    ) -> Self:
        """Swap the process-level parts that are not config; call before the client opens.

        ``sleep`` is used for server-requested waits (Retry-After) and ``rate_gate`` replaces the
        process-wide gate. Tests use them to observe waits and pacing without wall-clock time;
        an embedding application could pass its own gate to share a budget across resources.
        """
        if self._client is not None:
            raise RuntimeError(f"{type(self).__name__}: runtime hooks must be set before the client opens")
        if sleep is not None:
            self._sleep = sleep
        if rate_gate is not None:
            self._rate_gate = rate_gate
        return self
