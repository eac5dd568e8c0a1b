"""How much labeling work waits in a (day, model) partition, summarized for the label sensor.

The label sensor needs, per tick, for a few days and models: how many units are pending per
active audience, how long the oldest has waited, and a fingerprint of the exact pending set.
``scout_assets/labeling/queue.py`` answers "which units" for one (day, model, audience) with
every row and its text; this is the same condition as one aggregate per (model, audience)
over a range of days, so a tick costs a few small queries however long the queue is. The
two are kept equal by a test (``tests/test_sensors_label_queue.py``).

The fingerprint changes whenever the pending set changes (units queued, labeled, dead-lettered
or re-queued) and whenever a labeling attempt fails (``label_failures`` only grows), so "the same
fingerprint" means "nothing happened since": launching again could not make progress.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime

# The pending condition of scout_assets/labeling/queue.py (PENDING_SQL with NOT_LABELED),
# aggregated per day. $1/$2: first and last day, $3: min HAS, $4: model, $5: audience.
PENDING_BY_DAY_SQL = """
select q.partition_date as day,
       count(*) as pending,
       min(q.queued_at) as oldest_queued_at,
       md5(string_agg(q.platform || ':' || q.platform_id, ',' order by q.platform, q.platform_id)) as ids_digest
from profiles_to_score q
join profiles p on p.platform = q.platform and p.platform_id = q.platform_id
where q.partition_date >= $1 and q.partition_date <= $2
  and q.has > $3
  and p.bio is not null and p.bio <> '' and p.name is not null and p.name <> ''
  and not exists (
    select 1 from dead_letters d
    where d.platform = q.platform and d.platform_id = q.platform_id
      and d.model = $4 and d.audience = $5 and d.requeued_at is null)
  and not exists (
    select 1 from llm_labels l
    where l.platform = q.platform and l.platform_id = q.platform_id and l.model = $4 and l.audience = $5)
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
    warehouse, model: str, audiences: tuple[str, ...], days: list[date], min_has: float
) -> list[PartitionQueue]:
    """The queue of each of ``days`` (in the given order) for ``model`` over ``audiences``."""
    first, last = min(days), max(days)
    failures = {
        (row["day"], row["audience"]): int(row["failures"])
        for row in warehouse.read(FAILURES_BY_DAY_SQL, [model, first, last]).iter_rows(named=True)
    }
    pending: dict[tuple[date, str], dict] = {}
    for audience in audiences:
        frame = warehouse.read(PENDING_BY_DAY_SQL, [first, last, min_has, model, audience])
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


def _audience_queue(audience: str, row: dict | None, failures: int) -> AudienceQueue:
    if row is None:
        return AudienceQueue(audience, 0, None, None, failures)
    return AudienceQueue(
        audience=audience,
        pending=int(row["pending"]),
        oldest_queued_at=row["oldest_queued_at"],
        ids_digest=row["ids_digest"],
        failures=failures,
    )
