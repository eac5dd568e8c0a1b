"""``/v1/leads``: the lead list (the dashboard's filters and order), one lead's state, moving a lead.

The list is ``scout_leads.lead_list`` read through ``MartReader``, so the API and the Leads page
return the same rows in the same order for the same filters; every filter value is a bound
parameter there. A move is ``scout_leads.state.set_state`` with source ``api`` and the key's name
as who set it: a move the CLI or the dashboard would refuse is refused here too (409).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, field_validator

from scout_api.auth import ReadKey, WriteKey
from scout_api.context import ApiContext, Context
from scout_api.errors import ApiError
from scout_contract.leads import (
    LEAD_HISTORY_SQL,
    MAX_NOTE_CHARS,
    SOURCE_API,
    STATES,
    LeadStateError,
    parse_state,
)
from scout_contract.platforms import PLATFORMS
from scout_contract.tables import MAX_KEYWORD_LENGTH
from scout_leads import lead_list
from scout_leads.state import LeadInputError, current_state, find_account, set_state

router = APIRouter(tags=["leads"])

MAX_PAGE = 500  # leads per page; next_offset pages on
Platform = Literal[PLATFORMS]  # type: ignore[valid-type]
AudienceParam = Annotated[
    str, Query(min_length=1, max_length=200, description="audience version, e.g. thelai_customers.v3")
]


class LeadPage(BaseModel):
    total: int = Field(description="leads matching the filters, over all pages")
    limit: int
    offset: int
    next_offset: int | None = Field(description="offset of the next page; null on the last page")
    items: list[dict[str, Any]] = Field(
        description=f"leads, best first; columns: {', '.join(lead_list.LEAD_COLUMNS)}"
    )


class LeadEvent(BaseModel):
    event_id: str
    from_state: str
    state: str
    note: str | None
    set_by: str
    source: str
    set_at: datetime


class LeadState(BaseModel):
    platform: str
    platform_id: str
    handle: str | None
    audience: str
    state: str
    state_at: datetime | None
    note: str | None
    set_by: str | None
    history: list[LeadEvent]


class StateChange(BaseModel):
    audience: str = Field(min_length=1, max_length=200)
    state: str = Field(description=f"one of {', '.join(STATES[1:])}")
    note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)

    @field_validator("state")
    @classmethod
    def _known_state(cls, value: str) -> str:
        try:
            return parse_state(value)
        except LeadStateError as exc:
            raise ValueError(str(exc)) from None


@router.get("/leads", response_model=LeadPage, summary="List leads (the dashboard's filters and order)")
def list_leads(
    _: ReadKey,
    context: Context,
    audience: AudienceParam,
    platforms: Annotated[list[Platform], Query()] = list(PLATFORMS),  # noqa: B006 (FastAPI copies defaults)
    verdicts: Annotated[list[Literal[lead_list.VERDICTS]], Query()] = ["match"],  # type: ignore[valid-type]  # noqa: B006
    states: Annotated[list[Literal[STATES]], Query()] = list(STATES),  # type: ignore[valid-type]  # noqa: B006
    has_min: Annotated[float, Query(ge=0.0, le=1.0)] = 0.0,
    has_max: Annotated[float, Query(ge=0.0, le=1.0)] = 1.0,
    followers_min: Annotated[int | None, Query(ge=0)] = None,
    followers_max: Annotated[int | None, Query(ge=0)] = None,
    keyword: Annotated[
        str | None, Query(max_length=MAX_KEYWORD_LENGTH, description="one whole keyword that found it")
    ] = None,
    search: Annotated[str | None, Query(max_length=200, description="text in handle, name or bio")] = None,
    new_since_export: Annotated[bool, Query(description="only leads no export has carried")] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> LeadPage:
    try:
        filters = lead_list.LeadFilters(
            audience=audience,
            platforms=tuple(platforms),
            verdicts=tuple(verdicts),
            has_min=has_min,
            has_max=has_max,
            followers_min=followers_min,
            followers_max=followers_max,
            keyword=keyword,
            search=search,
            states=tuple(states),
            new_since_export=new_since_export,
            limit=limit,
            offset=offset,
        )
    except ValueError as exc:
        raise ApiError(422, "invalid_input", str(exc)) from None
    total = int(context.reader.read(lead_list.lead_count(context.marts_schema, filters))["leads"][0])
    items = context.reader.read(lead_list.leads(context.marts_schema, filters)).to_dicts()
    following = offset + len(items)
    return LeadPage(
        total=total,
        limit=limit,
        offset=offset,
        next_offset=following if following < total and items else None,
        items=items,
    )


def _account(context: ApiContext, platform: str, handle_or_id: str) -> tuple[str, str | None]:
    if len(handle_or_id) > 200:
        raise ApiError(422, "invalid_input", "path.handle_or_id: longer than 200 characters")
    try:
        return find_account(context.warehouse, platform, handle_or_id)
    except LeadInputError as exc:
        raise ApiError(404, "lead_not_found", str(exc)) from None


def _lead_state(context: ApiContext, platform: str, platform_id: str, handle, audience: str) -> LeadState:
    state = current_state(context.warehouse, platform, platform_id, audience)
    history = context.warehouse.read(LEAD_HISTORY_SQL, [platform, platform_id, audience])
    return LeadState(
        platform=platform,
        platform_id=platform_id,
        handle=handle,
        audience=audience,
        **state,
        history=[LeadEvent(**event) for event in history.iter_rows(named=True)],
    )


@router.get(
    "/leads/{platform}/{handle_or_id}", response_model=LeadState, summary="A lead's current state and history"
)
def show_lead(
    platform: Platform,
    handle_or_id: str,
    audience: AudienceParam,
    _: ReadKey,
    context: Context,
) -> LeadState:
    platform_id, handle = _account(context, platform, handle_or_id)
    return _lead_state(context, platform, platform_id, handle, audience)


@router.post(
    "/leads/{platform}/{handle_or_id}/state",
    response_model=LeadState,
    summary="Move a lead (new → reviewed → contacted → replied | converted | rejected)",
    responses={409: {"description": "the move is not allowed from the lead's current state"}},
)
def move_lead(
    platform: Platform,
    handle_or_id: str,
    change: StateChange,
    key: WriteKey,
    context: Context,
) -> LeadState:
    platform_id, handle = _account(context, platform, handle_or_id)
    try:
        set_state(
            context.warehouse,
            platform=platform,
            platform_id=platform_id,
            handle=handle,
            audience=change.audience,
            state=change.state,
            note=change.note,
            set_by=key.name,
            source=SOURCE_API,
        )
    except LeadStateError as exc:
        raise ApiError(409, "lead_state_conflict", str(exc)) from None
    return _lead_state(context, platform, platform_id, handle, change.audience.strip())
