"""The labeling queue as SQL: which (profile, model, audience) units are still to do.

A unit is pending when its profile is in ``profiles_to_score`` for the day, has a name and
a bio (the predecessor never sent empty profiles), has no label from that model for that
audience, and is not in the dead-letter table (unless a person re-queued it). Nothing else
marks progress, so a crash between calls loses nothing and labels nothing twice.
"""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

PENDING_SQL = """
select q.platform, q.platform_id, q.has, p.handle, p.name, p.bio, p.category, p.followers
from profiles_to_score q
join profiles p on p.platform = q.platform and p.platform_id = q.platform_id
where q.partition_date = $1
  and q.has > $2
  and p.bio is not null and p.bio <> '' and p.name is not null and p.name <> ''
  and not exists (
    select 1 from dead_letters d
    where d.platform = q.platform and d.platform_id = q.platform_id
      and d.model = $3 and d.audience = $4 and d.requeued_at is null)
  {label_filter}
order by q.has desc, q.platform, q.platform_id
"""

NOT_LABELED = """
  and not exists (
    select 1 from llm_labels l
    where l.platform = q.platform and l.platform_id = q.platform_id and l.model = $3 and l.audience = $4)
"""

FAILURES_SQL = """
select f.platform, f.platform_id, f.handle, f.error, f.attempted_at
from label_failures f
left join dead_letters d
  on d.platform = f.platform and d.platform_id = f.platform_id and d.model = f.model and d.audience = f.audience
where f.model = $1 and f.audience = $2
  and (d.requeued_at is null or f.attempted_at > d.requeued_at)
"""


def pending_units(
    warehouse, day: date, model: str, audience: str, min_has: float, *, relabel: bool
) -> pl.DataFrame:
    """Queue rows of ``day`` still to label by ``model`` for ``audience`` (all of them when relabeling)."""
    sql = PENDING_SQL.format(label_filter="" if relabel else NOT_LABELED)
    return warehouse.read(sql, [day, min_has, model, audience])


def dead_letters_due(tx, model: str, audience: str, max_failures: int, now: datetime) -> pl.DataFrame:
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
