"""Do-not-contact exclusions in the warehouse: the audit ledger and the ``excluded_accounts`` table.

The rule itself is pure (``scout_contract/exclusions.py``); this module applies it. Every change
to the entries (``scout exclude``) and every labeling run (the ``llm_labels`` asset, before it reads
its queue) recomputes ``excluded_accounts`` from ``exclusion_events`` and ``profiles``: a full
replace per platform, so running it twice writes the same rows, and an account first seen after
the entry was added is excluded before any model is asked about it. SQL readers only anti-join
the table (``EXCLUDED_ACCOUNT_SQL``), so the queue, the marts and the exports agree.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import polars as pl

from resources.warehouse.sql import placeholders
from scout_contract.exclusions import (
    Exclusion,
    ExclusionError,
    active_entries,
    check_entry,
    check_reason,
    match_profiles,
)
from scout_contract.platforms import PLATFORMS
from scout_contract.tables import EXCLUSION_EVENTS, polars_schema

if TYPE_CHECKING:
    from resources.warehouse.operations import WarehouseOperations
    from resources.warehouse.transaction import WarehouseTransaction


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _event(
    exclusion_id: str, action: str, platform: str, kind: str, value: str, reason: str, actor: str
) -> pl.DataFrame:
    row = {
        "event_id": uuid.uuid4().hex,
        "exclusion_id": exclusion_id,
        "action": action,
        "platform": platform,
        "kind": kind,
        "value": value,
        "reason": reason.strip(),
        "actor": actor.strip(),
        "event_at": _now(),
    }
    return pl.DataFrame([row], schema=polars_schema(EXCLUSION_EVENTS.columns))


def entries(tx: WarehouseOperations | WarehouseTransaction) -> list[Exclusion]:
    """The active entries (added, not removed), oldest first."""
    return active_entries(tx.read_table(EXCLUSION_EVENTS.name))


def refresh_excluded_accounts(tx: WarehouseOperations | WarehouseTransaction) -> int:
    """Recompute ``excluded_accounts`` for every platform; return how many rows it holds now."""
    active = entries(tx)
    # Only entries on handle, domain, organisation or bio need the profiles, and only their
    # platforms' (an account entry is its own match): with none, nothing is read at all.
    text_platforms = sorted({entry.platform for entry in active if entry.kind != "account"})
    profiles = (
        tx.read(
            "select platform, platform_id, handle, name, bio from profiles "
            f"where platform in ({placeholders(len(text_platforms))})",
            text_platforms,
        )
        if text_platforms
        else pl.DataFrame(schema={c: pl.Utf8 for c in ("platform", "platform_id", "handle", "name", "bio")})
    )
    matched = match_profiles(active, profiles, _now())
    for platform in PLATFORMS:
        tx.replace_partition(
            "excluded_accounts", matched.filter(pl.col("platform") == platform), {"platform": platform}
        )
    return matched.height


def add_exclusion(
    warehouse: WarehouseOperations, platform: str, kind: str, value: str, reason: str, actor: str
) -> tuple[str, int]:
    """Record an ``add`` event and refresh the matches; return (exclusion_id, accounts it matches now).

    ExclusionError (before anything is written) for a bad platform, value, pattern or reason.
    """
    stored = check_entry(platform, kind, value, reason, actor)
    exclusion_id = uuid.uuid4().hex[:12]
    with warehouse.transaction() as tx:
        tx.append(EXCLUSION_EVENTS.name, _event(exclusion_id, "add", platform, kind, stored, reason, actor))
        refresh_excluded_accounts(tx)
        hits = tx.read(
            "select count(*) as n from excluded_accounts where exclusion_id = $1", [exclusion_id]
        ).item()
    return exclusion_id, int(hits)


def remove_exclusion(warehouse: WarehouseOperations, exclusion_id: str, reason: str, actor: str) -> Exclusion:
    """Record a ``remove`` event for an active entry and refresh the matches; return the entry removed."""
    check_reason(reason)
    if not (actor or "").strip():
        raise ExclusionError("by: who removes the entry must be given")
    with warehouse.transaction() as tx:
        found = [e for e in entries(tx) if e.exclusion_id == exclusion_id]
        if not found:
            raise ExclusionError(
                f"exclusion {exclusion_id!r}: no such active entry (see `scout exclude list`)"
            )
        entry = found[0]
        tx.append(
            EXCLUSION_EVENTS.name,
            _event(exclusion_id, "remove", entry.platform, entry.kind, entry.value, reason, actor),
        )
        refresh_excluded_accounts(tx)
    return entry
