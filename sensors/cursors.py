"""What every cursor-keeping sensor tick shares: its clock, its cursor, the shape of its answer.

A cursor is the only memory a sensor keeps between ticks (Dagster stores it with the
sensor's state, so it survives daemon restarts). Scout's cursors are JSON objects with a
``v`` version field, so a future change of shape can tell old cursors from new ones. A
cursor that cannot be read (edited by hand, or from an older shape) is reported and treated
as absent: each sensor documents what "absent" means for it, and the run keys it uses make
sure that starting over never launches the same work twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg

from scout_assets.partitions import PARTITIONS_START

CURSOR_VERSION = 1


def utc_now() -> datetime:
    """The current time, timezone-aware UTC: what a tick calls "now"."""
    return datetime.now(UTC)


def naive_utc(moment: datetime) -> datetime:
    """``moment`` as naive UTC, the warehouse's timestamp convention."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def recent_days(today: date, count: int) -> list[date]:
    """``today`` and the ``count - 1`` days before it, newest first, never before the first partition."""
    first = date.fromisoformat(PARTITIONS_START)
    return [day for day in (today - timedelta(days=i) for i in range(count)) if day >= first]


def load_cursor(raw: str | None, sensor: str, log: logging.Logger | None = None) -> dict[str, Any] | None:
    """The cursor's JSON object, or None when there is none or it cannot be used (logged)."""
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        problem = f"is not JSON ({exc})"
    else:
        if isinstance(data, dict) and data.get("v") == CURSOR_VERSION:
            return data
        problem = f"is not a version-{CURSOR_VERSION} cursor object"
    if log is not None:
        log.warning(f"{sensor}: the stored cursor {problem}; starting as if there were none: {raw[:200]!r}")
    return None


def dump_cursor(data: dict[str, Any]) -> str:
    """A stable JSON text for ``data`` (sorted keys), so equal states give equal cursors."""
    return json.dumps({**data, "v": CURSOR_VERSION}, sort_keys=True, separators=(",", ":"))


def tick_result(
    context: dg.SensorEvaluationContext, requests: Sequence[dg.RunRequest], message: str, cursor: str
) -> dg.SensorResult:
    """The tick's answer: its requests (``message`` logged), or a skip that shows ``message`` in the UI.

    Either way the new cursor is stored, so a tick that launches nothing still records what it saw.
    """
    if requests:
        context.log.info(message)
        return dg.SensorResult(run_requests=list(requests), cursor=cursor)
    return dg.SensorResult(skip_reason=message, cursor=cursor)
