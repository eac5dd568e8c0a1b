"""The labeling queue as SQL: which (profile, model, audience) units are still to do.

A unit is pending when its profile is in ``profiles_to_score`` for the day (so ``has_scores``
marked it ``is_queued``: no HAS test is repeated here), has a name and a bio (the predecessor
never sent empty profiles), has no label from that model for that audience, and is not in the
dead-letter table (unless a person re-queued it). Nothing else marks progress, so a crash
between calls loses nothing and labels nothing twice.

That condition is written once, in ``PENDING_FROM``/``NOT_LABELED``: the asset reads its rows
here, and the label sensor (``sensors/queue_state.py``) counts the same units per day, so the
two can never disagree on what "pending" means.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from resources.warehouse import Warehouse, WarehouseTransaction

# Queue rows of one model and audience version that are worth sending and not dead-lettered.
# Every query built on it binds $1: model alias, $2: audience key.
PENDING_FROM = """
from profiles_to_score q
join profiles p on p.platform = q.platform and p.platform_id = q.platform_id
where p.bio is not null and p.bio <> '' and p.name is not null and p.name <> ''
  and not exists (
    select 1 from dead_letters d
    where d.platform = q.platform and d.platform_id = q.platform_id
      and d.model = $1 and d.audience = $2 and d.requeued_at is null)
"""

# ... and not labeled yet by that model for that audience (left out when relabeling).
NOT_LABELED = """
  and not exists (
    select 1 from llm_labels l
    where l.platform = q.platform and l.platform_id = q.platform_id and l.model = $1 and l.audience = $2)
"""

# $3: the partition day.
PENDING_SQL = """
select q.platform, q.platform_id, q.has, p.handle, p.name, p.bio, p.category, p.followers
{pending}
  and q.partition_date = $3
order by q.has desc, q.platform, q.platform_id
"""

FAILURES_SQL = """
select f.platform, f.platform_id, f.handle, f.error, f.attempted_at
from label_failures f
left join dead_letters d
  on d.platform = f.platform and d.platform_id = f.platform_id and d.model = f.model and d.audience = f.audience
where f.model = $1 and f.audience = $2
  and (d.requeued_at is null or f.attempted_at > d.requeued_at)
"""


def pending_condition(*, relabel: bool) -> str:
    """``from ... where ...`` of the units to work: unlabeled ones, or all of them when relabeling."""
    return PENDING_FROM if relabel else PENDING_FROM + NOT_LABELED


def pending_units(
    warehouse: Warehouse | WarehouseTransaction,
    day: date,
    model: str,
    audience: str,
    *,
    relabel: bool,
) -> pl.DataFrame:
    """Queue rows of ``day`` still to label by ``model`` for ``audience`` (all of them when relabeling)."""
    sql = PENDING_SQL.format(pending=pending_condition(relabel=relabel))
    return warehouse.read(sql, [model, audience, day])


def dead_letters_due(
    tx: WarehouseTransaction, model: str, audience: str, max_failures: int, now: datetime
) -> pl.DataFrame:
    """Units whose failures since their last re-queue reached ``max_failures``, as dead-letter rows."""
    failures = tx.read(FAILURES_SQL, [model, audience])
    if failures.is_empty():
        return failures
    labeled = tx.read(
        "select platform, platform_id from llm_labels where model = $1 and audience = $2", [model, audience]
    )
    return (
        failures.join(labeled, on=["platform", "platform_id"], how="anti")
        .sort("attempted_at")
        .group_by(["platform", "platform_id"], maintain_order=True)
        .agg(
            pl.col("handle").last(),
            pl.len().cast(pl.Int64).alias("failures"),
            pl.col("error").last().alias("last_error"),
        )
        .filter(pl.col("failures") >= max_failures)
        .with_columns(
            pl.lit(model).alias("model"),
            pl.lit(audience).alias("audience"),
            pl.lit(now).cast(pl.Datetime("us")).alias("dead_at"),
            pl.lit(None, dtype=pl.Datetime("us")).alias("requeued_at"),
        )
    )
