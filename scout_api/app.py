"""Build the FastAPI app from ``ScoutSettings``: routes under ``/v1``, errors, body limit, keys.

``create_app`` takes everything it needs as arguments (the entry point reads the environment), so
tests build the same app against a temporary warehouse and a test Dagster webserver.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from resources.warehouse import WarehouseError, parse_warehouse_url
from scout_api import exclusions, leads, runs
from scout_api.body_limit import DEFAULT_MAX_BODY_BYTES, BodyLimitMiddleware
from scout_api.context import LOCK_WAIT_SECONDS, ApiContext
from scout_api.dagster_runs import DagsterRuns
from scout_api.errors import install_error_handlers
from scout_api.rate_limit import KeyRateLimiter
from scout_api.serial_access import warehouse_and_reader
from scout_contract.settings import ScoutSettings

log = logging.getLogger("scout_api")

DESCRIPTION = """Scout's leads, lead states, do-not-contact entries, searches, run progress and
costs. Every request carries an API key (`scout api-key create`) as `Authorization: Bearer ...`;
errors are `{"error": {"code": ..., "message": ...}}`. See docs/api.md."""


def create_app(
    settings: ScoutSettings,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    poll_seconds: float = 1.0,
) -> FastAPI:
    """The API over the warehouse, marts schema and Dagster webserver ``settings`` name."""
    warehouse, reader = warehouse_and_reader(
        parse_warehouse_url(settings.resolved_warehouse_url()), LOCK_WAIT_SECONDS
    )
    context = ApiContext(
        warehouse=warehouse,
        reader=reader,
        marts_schema=settings.marts_schema,
        dagster=DagsterRuns(settings.dagster_url),
        limiter=KeyRateLimiter(settings.api_requests_per_minute),
        poll_seconds=poll_seconds,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:  # the api_keys table (and any other new one) exists before the first request
            context.warehouse.ensure_schema()
        except WarehouseError as exc:  # answered per request as a 503 until it is back
            log.warning("warehouse %s not ready at start: %s", context.warehouse.describe(), exc)
        yield

    app = FastAPI(
        title="Scout API",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    app.state.scout = context
    install_error_handlers(app)
    for module in (leads, exclusions, runs):
        app.include_router(module.router, prefix="/v1")
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes)
    return app
