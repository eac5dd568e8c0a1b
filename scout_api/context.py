"""What every route works with: the warehouse, the marts reader, Dagster, the rate limiter.

Built once by ``create_app`` from ``ScoutSettings`` and kept on ``app.state``; routes reach it
through the ``api_context`` dependency and never read the environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from resources.warehouse import WarehouseClient
from scout_api.dagster_runs import DagsterRuns
from scout_api.rate_limit import KeyRateLimiter
from scout_leads.reader import MartReader

# How long a request waits for a DuckDB file a Dagster run or dbt is writing, before a 503.
LOCK_WAIT_SECONDS = 15.0


@dataclass(frozen=True)
class ApiContext:
    warehouse: WarehouseClient  # writes and live tables (lead_events, exclusion_events, api_keys ...)
    reader: MartReader  # the dbt marts, read-only
    marts_schema: str
    dagster: DagsterRuns
    limiter: KeyRateLimiter
    poll_seconds: float = 1.0  # how often the event stream asks Dagster for progress


def api_context(request: Request) -> ApiContext:
    return request.app.state.scout


Context = Annotated[ApiContext, Depends(api_context)]
