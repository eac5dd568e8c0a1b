"""Lead state in the warehouse: find the account, read its state, move it one checked step.

The transition rule is pure (``scout_contract/leads.py``); this module applies it to the append-only
``lead_events`` ledger. ``scout lead``, the dashboard's Leads page and ``POST /leads/.../state`` all
call :func:`set_state`, so a move refused in one is refused in the others with the same words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from resources.warehouse.operations import WarehouseOperations


class LeadInputError(ValueError):
    """An account or value the lead operations cannot use; the message names it."""


def find_account(warehouse: WarehouseOperations, platform: str, handle_or_id: str) -> tuple[str, str | None]:
    """``(platform_id, handle)`` of the account ``profiles`` knows, else ``LeadInputError``."""
    text = handle_or_id.strip().removeprefix("@")
    if not text:
        raise LeadInputError("handle: is empty")
    frame = warehouse.read(
        "select platform_id, handle from profiles where platform = $1 "
        "and (lower(handle) = lower($2) or platform_id = $2) "
        "order by case when platform_id = $2 then 0 else 1 end, last_seen_at desc nulls last, platform_id "
        "limit 1",
        [platform, text],
    )
    if frame.height == 0:
        raise LeadInputError(
            f"{platform} account {handle_or_id!r}: not found in profiles (no search found it)"
        )
    return frame["platform_id"][0], frame["handle"][0]


def current_state(warehouse: Any, platform: str, platform_id: str, audience: str) -> dict[str, Any]:
    """The current state row (state, state_at, note, set_by) of one lead; ``warehouse`` or a transaction."""
    from scout_contract.leads import CURRENT_STATE_SQL

    return warehouse.read(CURRENT_STATE_SQL, [platform, platform_id, audience]).row(0, named=True)


def set_state(
    warehouse: WarehouseOperations,
    *,
    platform: str,
    platform_id: str,
    handle: str | None,
    audience: str,
    state: str,
    note: str | None,
    set_by: str,
    source: str,
) -> dict[str, Any]:
    """Check the move against the current state and append it, in one transaction; return the event row.

    ``LeadStateError`` (nothing written) when the move is not allowed.
    """
    import polars as pl

    from scout_contract.leads import lead_event
    from scout_contract.tables import LEAD_EVENTS, polars_schema

    with warehouse.transaction() as tx:
        current = current_state(tx, platform, platform_id, audience)["state"]
        event = lead_event(
            platform=platform,
            platform_id=platform_id,
            handle=handle,
            audience=audience,
            current=current,
            state=state,
            note=note,
            set_by=set_by,
            source=source,
        )
        tx.append("lead_events", pl.DataFrame([event.row()], schema=polars_schema(LEAD_EVENTS.columns)))
    return event.row()
