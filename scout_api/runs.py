"""``/v1/searches`` and ``/v1/runs``: start a search, follow its run, read what it cost.

A search is one Dagster run of ``scout_main`` per platform for today (the job is partitioned by
day x platform), launched through Dagster's GraphQL client (``dagster_runs``), so Dagster's UI,
sensors and run history see it like any other run. Progress comes from the same GraphQL API, as
one JSON snapshot or as server-sent events until the run ends. The cost is read from the ledgers:
``api_calls`` and ``model_calls`` both record the run that paid for each call.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, Field, field_validator

from scout_api.auth import ReadKey, WriteKey
from scout_api.context import ApiContext, Context
from scout_api.dagster_runs import DagsterRefused, DagsterUnavailable, RunNotFound, RunProgress
from scout_api.errors import ApiError, ServiceUnavailable
from scout_contract.audience import load_audiences
from scout_contract.platforms import PLATFORMS
from scout_contract.tables import MAX_KEYWORD_LENGTH

router = APIRouter(tags=["searches and runs"])

MAX_KEYWORDS = 20
RunId = Annotated[str, Path(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]


class SearchRequest(BaseModel):
    audience: str = Field(
        min_length=1, max_length=200, description="audience version, e.g. thelai_customers.v3"
    )
    keywords: list[str] = Field(min_length=1, max_length=MAX_KEYWORDS)
    platforms: list[Literal[PLATFORMS]] | None = Field(  # type: ignore[valid-type]
        default=None, min_length=1, description="default: every platform"
    )
    pages_per_keyword: int = Field(default=1, ge=1, le=10)

    @field_validator("keywords")
    @classmethod
    def _plain_keywords(cls, values: list[str]) -> list[str]:
        cleaned = []
        for number, value in enumerate(values):
            text = " ".join(value.split())
            if not text:
                raise ValueError(f"keyword {number} is empty")
            if len(text) > MAX_KEYWORD_LENGTH:
                raise ValueError(f"keyword {number} is longer than {MAX_KEYWORD_LENGTH} characters")
            if any(ord(ch) < 32 for ch in value):
                raise ValueError(f"keyword {number} contains a control character")
            cleaned.append(text)
        return list(dict.fromkeys(cleaned))

    @field_validator("audience")
    @classmethod
    def _known_audience(cls, value: str) -> str:
        known = load_audiences()
        if value not in known:
            raise ValueError(f"unknown audience {value!r}; known: {', '.join(sorted(known))}")
        return value


class LaunchedRun(BaseModel):
    platform: str
    run_id: str


class LaunchedSearch(BaseModel):
    audience: str
    keywords: list[str]
    runs: list[LaunchedRun] = Field(
        description="one Dagster run per platform; follow each at /v1/runs/{run_id}"
    )


class RunCost(BaseModel):
    run_id: str
    usd: float = Field(description="platform calls plus model calls")
    platform_calls: int
    platform_usd: float
    model_calls: int
    model_usd: float


def _progress(context: ApiContext, run_id: str) -> RunProgress:
    try:
        return context.dagster.progress(run_id)
    except RunNotFound as exc:
        raise ApiError(404, "run_not_found", str(exc)) from None
    except DagsterUnavailable as exc:
        raise ServiceUnavailable("dagster_unavailable", str(exc)) from None


@router.post(
    "/searches", response_model=LaunchedSearch, status_code=202, summary="Start a search (Dagster runs)"
)
def start_search(search: SearchRequest, key: WriteKey, context: Context) -> LaunchedSearch:
    day = datetime.now(UTC).date()  # a search asks the platforms for today's data: today's partition
    tags = {"scout/source": "api", "scout/api_key": key.key_id, "scout/audience": search.audience}
    runs = []
    for platform in search.platforms or PLATFORMS:
        try:
            run_id = context.dagster.launch_search(
                platform=platform,
                keywords=search.keywords,
                pages_per_keyword=search.pages_per_keyword,
                day=day,
                tags=tags,
            )
        except DagsterUnavailable as exc:
            raise ServiceUnavailable("dagster_unavailable", str(exc)) from None
        except DagsterRefused as exc:
            raise ApiError(502, "dagster_refused", str(exc)) from None
        runs.append(LaunchedRun(platform=platform, run_id=run_id))
    return LaunchedSearch(audience=search.audience, keywords=search.keywords, runs=runs)


@router.get("/runs/{run_id}", summary="A run's status and steps done of total")
def run_status(run_id: RunId, _: ReadKey, context: Context) -> dict[str, Any]:
    return _progress(context, run_id).as_dict()


def _first_progress(run_id: RunId, _: ReadKey, context: Context) -> RunProgress:
    """Read before the stream opens, so an unknown run is a 404, not an empty stream."""
    return _progress(context, run_id)


@router.get(
    "/runs/{run_id}/events",
    response_class=EventSourceResponse,
    summary="A run's progress as server-sent events, until it ends",
)
async def run_events(
    run_id: RunId,
    first: Annotated[RunProgress, Depends(_first_progress)],
    context: Context,
) -> AsyncIterator[ServerSentEvent]:
    """``progress`` events whenever status or step counts change, then one ``end`` event."""
    progress, sent = first, None
    while True:
        snapshot = progress.as_dict()
        if snapshot != sent:
            yield ServerSentEvent(data=snapshot, event="progress")
            sent = snapshot
        if progress.finished:
            yield ServerSentEvent(data=snapshot, event="end")
            return
        await asyncio.sleep(context.poll_seconds)
        try:
            progress = await run_in_threadpool(context.dagster.progress, run_id)
        except (DagsterUnavailable, RunNotFound) as exc:
            yield ServerSentEvent(data={"code": "dagster_unavailable", "message": str(exc)}, event="error")
            return


_COST_SQL = "select count(*) as calls, coalesce(sum(cost_usd), 0.0) as usd from {table} where run_id = $1"


@router.get("/runs/{run_id}/cost", response_model=RunCost, summary="What a run spent, from the ledgers")
def run_cost(run_id: RunId, _: ReadKey, context: Context) -> RunCost:
    platform = context.warehouse.read(_COST_SQL.format(table="api_calls"), [run_id]).row(0, named=True)
    models = context.warehouse.read(_COST_SQL.format(table="model_calls"), [run_id]).row(0, named=True)
    return RunCost(
        run_id=run_id,
        usd=float(platform["usd"]) + float(models["usd"]),
        platform_calls=int(platform["calls"]),
        platform_usd=float(platform["usd"]),
        model_calls=int(models["calls"]),
        model_usd=float(models["usd"]),
    )
