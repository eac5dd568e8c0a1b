"""How much labeling work waits in a (day, model) partition, summarized for the label sensor.

The label sensor needs, per tick, for a few days and models: how many units are pending per
active audience, how long the oldest has waited, and a fingerprint of the exact pending set.
``scout_assets/labeling/queue.py`` answers "which units" for one (day, model, audience) with
every row and its text; this counts the same units (the condition is shared, not copied) as
one aggregate per (model, audience) over a range of days, so a tick costs a few small queries
however long the queue is.

The fingerprint changes whenever the pending set changes (units queued, labeled, dead-lettered
or re-queued) and whenever a labeling attempt fails (``label_failures`` only grows), so "the same
fingerprint" means "nothing happened since": launching again could not make progress.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from resources.warehouse import Warehouse
from scout_assets.labeling.queue import pending_condition

# The asset's pending units (scout_assets/labeling/queue.py), aggregated per day.
# $1: model, $2: audience (as in the shared condition), $3/$4: first and last day.
PENDING_BY_DAY_SQL = f"""
select q.partition_date as day,
       count(*) as pending,
       min(q.queued_at) as oldest_queued_at,
       md5(string_agg(q.platform || ':' || q.platform_id, ',' order by q.platform, q.platform_id)) as ids_digest
{pending_condition(relabel=False)}
  and q.partition_date >= $3 and q.partition_date <= $4
group by q.partition_date
"""

FAILURES_BY_DAY_SQL = """
select partition_date as day, audience, count(*) as failures
from label_failures
where model = $1 and partition_date >= $2 and partition_date <= $3
group by partition_date, audience
"""


@dataclass(frozen=True)
class AudienceQueue:
    """The pending units of one (day, model) for one audience version."""

    audience: str
    pending: int
    oldest_queued_at: datetime | None
    ids_digest: str | None
    failures: int


@dataclass(frozen=True)
class PartitionQueue:
    """The pending work of one (day, model) partition over every active audience."""

    day: date
    model: str
    audiences: tuple[AudienceQueue, ...]

    @property
    def partition_key(self) -> str:
        return f"{self.day.isoformat()}|{self.model}"

    @property
    def pending(self) -> int:
        return sum(a.pending for a in self.audiences)

    @property
    def largest_audience_pending(self) -> int:
        """Pending units of the audience with most: a run's batches are per audience."""
        return max((a.pending for a in self.audiences), default=0)

    @property
    def oldest_queued_at(self) -> datetime | None:
        times = [a.oldest_queued_at for a in self.audiences if a.oldest_queued_at is not None]
        return min(times) if times else None

    @property
    def fingerprint(self) -> str:
        """A short digest of the pending sets and failure counts of every audience."""
        state = [[a.audience, a.pending, a.ids_digest, a.failures] for a in self.audiences]
        return hashlib.sha256(json.dumps(state).encode()).hexdigest()[:16]


def queue_states(
    warehouse: Warehouse, model: str, audiences: tuple[str, ...], days: list[date]
) -> list[PartitionQueue]:
    """The queue of each of ``days`` (in the given order) for ``model`` over ``audiences``."""
    first, last = min(days), max(days)
    failures = {
        (row["day"], row["audience"]): int(row["failures"])
        for row in warehouse.read(FAILURES_BY_DAY_SQL, [model, first, last]).iter_rows(named=True)
    }
    pending: dict[tuple[date, str], dict[str, Any]] = {}
    for audience in audiences:
        frame = warehouse.read(PENDING_BY_DAY_SQL, [model, audience, first, last])
        for row in frame.iter_rows(named=True):
            pending[(row["day"], audience)] = row
    return [
        PartitionQueue(
            day=day,
            model=model,
            audiences=tuple(
                _audience_queue(audience, pending.get((day, audience)), failures.get((day, audience), 0))
                for audience in audiences
            ),
        )
        for day in days
    ]


def _audience_queue(audience: str, row: dict[str, Any] | None, failures: int) -> AudienceQueue:
    if row is None:
        return AudienceQueue(audience, 0, None, None, failures)
    return AudienceQueue(
        audience=audience,
        pending=int(row["pending"]),
        oldest_queued_at=row["oldest_queued_at"],
        ids_digest=row["ids_digest"],
        failures=failures,
    )
