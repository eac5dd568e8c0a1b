"""``/v1/exclusions``: list, add and remove do-not-contact entries (docs/leads.md, "Exclusions").

The same operations as ``scout exclude`` (``scout_leads.exclusions``): each add and remove is an
audited ``exclusion_events`` row whose actor is the API key's name, and each recomputes
``excluded_accounts``, so the leads list drops an excluded account at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from scout_api.auth import ReadKey, WriteKey
from scout_api.context import Context
from scout_api.errors import ApiError
from scout_contract.exclusions import (
    KINDS,
    MAX_PATTERN_CHARS,
    MAX_REASON_CHARS,
    Exclusion,
    ExclusionError,
    check_reason,
)
from scout_contract.platforms import PLATFORMS
from scout_leads.exclusions import add_exclusion, entries, remove_exclusion

router = APIRouter(tags=["exclusions"])


class ExclusionEntry(BaseModel):
    exclusion_id: str
    platform: str
    kind: str
    value: str
    reason: str
    actor: str = Field(description="who added it (a key's name when added through the API)")
    added_at: datetime
    accounts: int | None = Field(default=None, description="known accounts it excludes now")


class NewExclusion(BaseModel):
    platform: Literal[PLATFORMS]  # type: ignore[valid-type]
    kind: Literal[KINDS] = Field(description="account, handle, domain, org or bio_pattern")  # type: ignore[valid-type]
    value: str = Field(min_length=1, max_length=max(MAX_PATTERN_CHARS, 200))
    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS)


class AddedExclusion(BaseModel):
    exclusion_id: str
    accounts: int = Field(description="known accounts it excludes now")


def _entry(entry: Exclusion, accounts: int | None = None) -> ExclusionEntry:
    return ExclusionEntry(**entry.__dict__, accounts=accounts)


@router.get("/exclusions", response_model=list[ExclusionEntry], summary="The active do-not-contact entries")
def list_exclusions(_: ReadKey, context: Context) -> list[ExclusionEntry]:
    counts = dict(
        context.warehouse.read(
            "select exclusion_id, count(*) as n from excluded_accounts group by exclusion_id"
        ).iter_rows()
    )
    return [_entry(e, int(counts.get(e.exclusion_id, 0))) for e in entries(context.warehouse)]


@router.post(
    "/exclusions", response_model=AddedExclusion, status_code=201, summary="Add a do-not-contact entry"
)
def create_exclusion(entry: NewExclusion, key: WriteKey, context: Context) -> AddedExclusion:
    try:
        exclusion_id, hits = add_exclusion(
            context.warehouse, entry.platform, entry.kind, entry.value, entry.reason, key.name
        )
    except ExclusionError as exc:
        raise ApiError(422, "invalid_input", str(exc)) from None
    return AddedExclusion(exclusion_id=exclusion_id, accounts=hits)


@router.delete(
    "/exclusions/{exclusion_id}",
    response_model=ExclusionEntry,
    summary="End a do-not-contact entry (recorded with a reason)",
)
def delete_exclusion(
    exclusion_id: Annotated[str, Path(min_length=1, max_length=64)],
    reason: Annotated[str, Query(min_length=1, max_length=MAX_REASON_CHARS, description="why it is removed")],
    key: WriteKey,
    context: Context,
) -> ExclusionEntry:
    try:
        check_reason(reason)
    except ExclusionError as exc:
        raise ApiError(422, "invalid_input", f"query.reason: {exc}") from None
    try:
        removed = remove_exclusion(context.warehouse, exclusion_id, reason, key.name)
    except ExclusionError as exc:  # the only one left: no such active entry
        raise ApiError(404, "exclusion_not_found", str(exc)) from None
    return _entry(removed)
