"""The labeling queue as SQL: which (profile, model, audience) units are still to do.

A unit is pending for a model when its profile is in ``profiles_to_score`` for the day (so
``has_scores`` marked it ``is_queued``: no HAS test is repeated here), has a name and a bio
(the predecessor never sent empty profiles), has no label from that model for that audience,
is not in the dead-letter table (unless a person re-queued it), is not excluded (do-not-contact:
its account is not in ``excluded_accounts``), and the cascade routes it to
that model (docs/labeling.md, "The cascade"):

- the local labeler gets every queued unit;
- the first LLM of the cascade that can run here gets only the units the local labeler
  labeled and deferred (``deferred`` true, or null: a local label without a confidence, from
  the zero-shot labeler, is unsure by definition). A unit the local labeler has not labeled yet
  goes to no LLM;
- a later LLM gets only those deferred units on which the LLM before it said ``null``, gave a
  label other than the local one, or gave up (dead-lettered the unit).

Nothing else marks progress, so a crash between calls loses nothing and labels nothing twice.

That condition is written once, in :func:`pending_condition`: the asset reads its rows here,
and the label sensor (``sensors/queue_state.py``) counts the same units per day, so the two can
never disagree on what "pending" means.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from scout_contract.exclusions import excluded_account_sql

if TYPE_CHECKING:
    from resources.warehouse import Warehouse, WarehouseTransaction

# Queue rows worth sending: a profile with a name and a bio, not excluded (do-not-contact:
# scout_contract/exclusions.py). No parameter.
QUEUED_FROM = f"""
from profiles_to_score q
join profiles p on p.platform = q.platform and p.platform_id = q.platform_id
where p.bio is not null and p.bio <> '' and p.name is not null and p.name <> ''
  and not {excluded_account_sql("q")}
"""

# ... not dead-lettered for the model ($1) and audience ($2).
NOT_DEAD = """
  and not exists (
    select 1 from dead_letters d
    where d.platform = q.platform and d.platform_id = q.platform_id
      and d.model = $1 and d.audience = $2 and d.requeued_at is null)
"""

# ... not labeled yet by that model for that audience (left out when relabeling).
NOT_LABELED = """
  and not exists (
    select 1 from llm_labels l
    where l.platform = q.platform and l.platform_id = q.platform_id and l.model = $1 and l.audience = $2)
"""

# An LLM's units: the local labeler ($3) labeled them and deferred them (null: no confidence known).
LOCAL_DEFERRED = """
  and exists (
    select 1 from llm_labels loc
    where loc.platform = q.platform and loc.platform_id = q.platform_id and loc.model = $3
      and loc.audience = $2 and (loc.deferred is null or loc.deferred))
"""

# A later LLM's units: the LLM before it ($4) said null, disagreed with the local label, or gave up.
PREVIOUS_UNSETTLED = """
  and (
    exists (
      select 1 from llm_labels loc
      join llm_labels prev
        on prev.platform = loc.platform and prev.platform_id = loc.platform_id and prev.audience = loc.audience
      where loc.platform = q.platform and loc.platform_id = q.platform_id and loc.audience = $2
        and loc.model = $3 and prev.model = $4
        and (prev.label is null or loc.label is null or prev.label <> loc.label))
    or exists (
      select 1 from dead_letters pd
      where pd.platform = q.platform and pd.platform_id = q.platform_id
        and pd.model = $4 and pd.audience = $2 and pd.requeued_at is null))
"""

# Best first: highest HAS, then the most recently queued. {day} is the parameter after the condition's.
PENDING_SQL = """
select q.platform, q.platform_id, q.has, q.queued_at, p.handle, p.name, p.bio, p.category, p.followers
{pending}
  and q.partition_date = ${day}
order by q.has desc, q.queued_at desc, q.platform, q.platform_id
"""

FAILURES_SQL = """
select f.platform, f.platform_id, f.handle, f.error, f.attempted_at
from label_failures f
left join dead_letters d
  on d.platform = f.platform and d.platform_id = f.platform_id and d.model = f.model and d.audience = f.audience
where f.model = $1 and f.audience = $2
  and (d.requeued_at is null or f.attempted_at > d.requeued_at)
"""


@dataclass(frozen=True)
class Route:
    """Which queued units one model gets in the cascade (``cascade.route_of`` builds it).

    ``local`` is the local labeler's alias; ``previous`` the LLM before this one among those
    that can run here (None for the local labeler and for the first such LLM).
    """

    model: str
    local: str
    previous: str | None = None

    def __post_init__(self) -> None:
        if self.previous is not None and self.is_local:
            raise ValueError(f"route of the local labeler {self.model!r} cannot have a previous LLM")

    @property
    def is_local(self) -> bool:
        return self.model == self.local

    def describe(self) -> str:
        """What this model gets, in words (run metadata, tick logs)."""
        if self.is_local:
            return "every queued profile (the local labeler labels first)"
        if self.previous is None:
            return f"the profiles {self.local} deferred (first LLM of the cascade that can run here)"
        return (
            f"the profiles {self.local} deferred on which {self.previous} said null, disagreed with "
            f"{self.local}, or gave up"
        )


def pending_condition(route: Route, audience: str, *, relabel: bool) -> tuple[str, list[Any]]:
    """``from ... where ...`` of the units ``route`` works for ``audience``, and its parameters.

    The text binds ``$1`` .. ``$n`` with n = ``len(params)``; a caller adds its own parameters
    from ``$n+1``. Relabeling drops only "not labeled yet": the routing still holds.
    """
    sql = QUEUED_FROM + NOT_DEAD + ("" if relabel else NOT_LABELED)
    params: list[Any] = [route.model, audience]
    if not route.is_local:
        sql += LOCAL_DEFERRED
        params.append(route.local)
        if route.previous is not None:
            sql += PREVIOUS_UNSETTLED
            params.append(route.previous)
    return sql, params


def pending_units(
    warehouse: Warehouse | WarehouseTransaction,
    day: date,
    route: Route,
    audience: str,
    *,
    relabel: bool,
) -> pl.DataFrame:
    """Queue rows of ``day`` still to label by ``route.model`` for ``audience``, best first
    (all the routed ones when relabeling)."""
    condition, params = pending_condition(route, audience, relabel=relabel)
    sql = PENDING_SQL.format(pending=condition, day=len(params) + 1)
    return warehouse.read(sql, [*params, day])


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
