"""How much labeling work waits in each (day, model) partition, summarized for the label sensor.

The label sensor needs, per tick and model: every day that has pending units, how many per
active audience, how long the oldest has waited, the highest HAS among them (which partition
goes first), and a fingerprint of the exact pending set. ``scout_assets/labeling/queue.py``
answers "which units" for one (day, model, audience) with every row and its text; this counts
the same units (the condition, cascade routing included, is shared, not copied) as one aggregate
per (model, audience) over **all** days, so no day is ever stranded and a tick costs a few small
queries however long the queue is.

The fingerprint changes whenever the pending set changes (units queued, labeled, dead-lettered
or re-queued, or routed to the model by the cascade) and whenever a labeling attempt fails
(``label_failures`` only grows), so "the same fingerprint" means "nothing happened since":
launching again could not make progress.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from resources.warehouse import Warehouse
from scout_assets.labeling.queue import Route, pending_condition


def pending_by_day_sql(condition: str) -> str:
    """The asset's pending units (``condition`` from ``pending_condition``), aggregated per day."""
    return f"""
select q.partition_date as day,
       count(*) as pending,
       min(q.queued_at) as oldest_queued_at,
       max(q.has) as best_has,
       md5(string_agg(q.platform || ':' || q.platform_id, ',' order by q.platform, q.platform_id)) as ids_digest
{condition}
group by q.partition_date
"""


FAILURES_BY_DAY_SQL = """
select partition_date as day, audience, count(*) as failures
from label_failures
where model = $1
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
    best_has: float | None = None


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
    def best_has(self) -> float:
        """The highest HAS among the pending units: the partition with the best one goes first."""
        return max((a.best_has for a in self.audiences if a.best_has is not None), default=0.0)

    @property
    def fingerprint(self) -> str:
        """A short digest of the pending sets and failure counts of every audience."""
        state = [[a.audience, a.pending, a.ids_digest, a.failures] for a in self.audiences]
        return hashlib.sha256(json.dumps(state).encode()).hexdigest()[:16]


def queue_states(warehouse: Warehouse, route: Route, audiences: tuple[str, ...]) -> list[PartitionQueue]:
    """The queue of every day with units pending for ``route.model`` over ``audiences``, best first:
    highest pending HAS, then the newest day."""
    failures = {
        (row["day"], row["audience"]): int(row["failures"])
        for row in warehouse.read(FAILURES_BY_DAY_SQL, [route.model]).iter_rows(named=True)
    }
    pending: dict[tuple[date, str], dict[str, Any]] = {}
    for audience in audiences:
        condition, params = pending_condition(route, audience, relabel=False)
        for row in warehouse.read(pending_by_day_sql(condition), params).iter_rows(named=True):
            pending[(row["day"], audience)] = row
    queues = [
        PartitionQueue(
            day=day,
            model=route.model,
            audiences=tuple(
                _audience_queue(audience, pending.get((day, audience)), failures.get((day, audience), 0))
                for audience in audiences
            ),
        )
        for day in sorted({day for day, _ in pending})
    ]
    return sorted(queues, key=lambda q: (-q.best_has, -q.day.toordinal()))


def _audience_queue(audience: str, row: dict[str, Any] | None, failures: int) -> AudienceQueue:
    if row is None:
        return AudienceQueue(audience, 0, None, None, failures)
    return AudienceQueue(
        audience=audience,
        pending=int(row["pending"]),
        oldest_queued_at=row["oldest_queued_at"],
        ids_digest=row["ids_digest"],
        failures=failures,
        best_has=None if row["best_has"] is None else float(row["best_has"]),
    )
