"""How a run keeps to its budgets: ask before each request or batch, stop cleanly, say why.

- ``raw_searches`` holds a :class:`PlatformAllowance`. Before each search page it asks whether
  the page's requests (``requests_per_page``: 1 on X, 2 on Bluesky) fit every cap of the
  platform: per run, per day, the plan's month, in requests and in dollars. The allowance is
  also the HTTP client's ``call_gate``, asked before every attempt, so a retry that would pass a
  cap is refused too: a run sends at most exactly the cap, never one request more.
- ``llm_labels`` holds a :class:`ModelAllowance`. Before each batch it asks whether the batch's
  estimated cost (:func:`estimate_batch_usd`) fits the model's dollar caps, per run and per day,
  counting every call attempt already in the ledger.

A refusal stops the run, not fails it: what was fetched or labeled stays, one ``budget_stops``
row says which cap, with the figures and what was left, and the next run resumes (the left
keywords are searched first: :func:`resume_targets`; labeling units simply stay pending).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from resources.platforms.search_page import ErrorKind, PlatformError
from scout_assets.domain.keyword_state import SearchTarget
from scout_assets.spend.budgets import Budgets, Cap, Scope
from scout_assets.spend.usage import (
    PlatformUsage,
    day_bounds,
    model_usage,
    month_bounds,
    platform_usage,
)
from scout_contract.tables import BUDGET_CAPS, BUDGET_STOPS, polars_schema

if TYPE_CHECKING:
    from resources.models.registry import ModelSpec
    from resources.platforms.http_client import CallScope
    from resources.warehouse import Warehouse

# Dollars are compared with this slack, so 5 x 0.0002 fits a cap of 0.001 despite binary floats.
USD_EPSILON = 1e-9


@dataclass(frozen=True)
class Refusal:
    """A cap the next step would pass: the figures in the cap's unit."""

    cap: Cap
    used: float  # used in the cap's period before the refused step (this run included)
    next_cost: float  # what the refused step would have added

    def describe(self, step: str) -> str:
        unit = "USD" if self.cap.unit == "usd" else self.cap.unit
        return (
            f"budget {self.cap.label} ({self.cap.period}, from {self.cap.source}): {_fmt(self.used)} of "
            f"{_fmt(self.cap.cap)} {unit} used; {step} needs {_fmt(self.next_cost)} more"
        )


def _fmt(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") if not float(value).is_integer() else str(int(value))


class BudgetRefusedError(PlatformError):
    """A request not sent because it would have passed a budget cap (nothing was sent)."""

    kind = ErrorKind.BUDGET_CAP

    def __init__(self, *, refusal: Refusal, **fields: Any) -> None:
        super().__init__(**fields)
        self.refusal = refusal


def _passes(cap: Cap, used: float, cost: float) -> bool:
    if cap.unit == "usd":
        return used + cost > cap.cap + USD_EPSILON
    return used + cost > cap.cap


class PlatformAllowance:
    """One ``raw_searches`` run's requests against its platform's caps."""

    def __init__(self, budgets: Budgets, platform: str, day: PlatformUsage, month: PlatformUsage) -> None:
        self.platform = platform
        self.price = budgets.price(platform)
        self.caps = budgets.caps("platform", platform)
        self.day = day
        self.month = month
        self.run_calls = 0

    @classmethod
    def for_run(
        cls, warehouse: Warehouse, budgets: Budgets, platform: str, now: datetime
    ) -> PlatformAllowance:
        """The allowance with today's and this month's usage read from ``api_calls``."""
        price = budgets.price(platform)
        day = platform_usage(warehouse, platform, *day_bounds(now.date()), price)
        month = platform_usage(warehouse, platform, *month_bounds(now.date()), price)
        return cls(budgets, platform, day, month)

    def used(self, cap: Cap) -> float:
        """What ``cap``'s period has used, this run included, in the cap's unit."""
        run_usd = self.run_calls * self.price
        if cap.period == "run":
            return run_usd if cap.unit == "usd" else float(self.run_calls)
        if cap.period == "day":
            return self.day.usd + run_usd if cap.unit == "usd" else float(self.day.calls + self.run_calls)
        return float(self.month.calls + self.run_calls)

    def refusal(self, calls: int) -> Refusal | None:
        """The first cap that ``calls`` more requests would pass (None: they fit every cap)."""
        for cap in self.caps:
            cost = calls * self.price if cap.unit == "usd" else float(calls)
            used = self.used(cap)
            if _passes(cap, used, cost):
                return Refusal(cap, used, cost)
        return None

    def gate(self, scope: CallScope, path: str) -> None:
        """The HTTP client's ``call_gate``: admit one attempt (and count it) or refuse it."""
        refused = self.refusal(1)
        if refused is not None:
            raise BudgetRefusedError(
                refusal=refused,
                platform=scope.platform,
                keyword=scope.keyword,
                cursor=scope.cursor,
                endpoint=path,
                status=None,
                attempts=0,
                reason="not sent: " + refused.describe("the request"),
            )
        self.run_calls += 1

    def figures(self) -> dict[str, dict[str, float]]:
        """Every cap with its use after this run (the asset's ``budget`` metadata)."""
        return _figures(self.caps, self.used)


class ModelAllowance:
    """One ``llm_labels`` run's dollars against its model's caps."""

    def __init__(self, budgets: Budgets, model: str, day_usd: float) -> None:
        self.model = model
        self.caps = budgets.caps("model", model)
        self.day_usd = day_usd
        self.run_usd = 0.0

    @classmethod
    def for_run(cls, warehouse: Warehouse, budgets: Budgets, model: str, now: datetime) -> ModelAllowance:
        return cls(budgets, model, model_usage(warehouse, model, *day_bounds(now.date())))

    def used(self, cap: Cap) -> float:
        return self.run_usd if cap.period == "run" else self.day_usd + self.run_usd

    def refusal(self, estimate_usd: float) -> Refusal | None:
        """The first cap a batch estimated at ``estimate_usd`` would pass (None: it fits)."""
        for cap in self.caps:
            used = self.used(cap)
            if _passes(cap, used, estimate_usd):
                return Refusal(cap, used, estimate_usd)
        return None

    def spent(self, usd: float) -> None:
        """Count what a batch really cost (every attempt, from the model-call ledger rows)."""
        self.run_usd += usd

    def figures(self) -> dict[str, dict[str, float]]:
        return _figures(self.caps, self.used)


def _figures(caps: Sequence[Cap], used_of) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {}
    for cap in caps:
        used = used_of(cap)
        share = used / cap.cap if cap.cap > 0 else (1.0 if used == 0 else math.inf)
        figures[f"{cap.field}"] = {
            "used": round(used, 6),
            "cap": cap.cap,
            "share": round(share, 4) if math.isfinite(share) else 999.0,
        }
    return figures


# What a batch costs, for the check before it: the cascade's per-call and per-profile token figures.
def estimate_batch_usd(spec: ModelSpec, profiles: int) -> float:
    """USD one call labeling ``profiles`` profiles is expected to cost (docs/labeling.md's token figures).

    The prompt's fixed part (instructions, reviewed examples) is paid once per call, each profile
    adds its row and its answer: ``scout_assets.labeling.cascade`` holds the figures the cascade
    order was set with. A retried call costs more; the ledger counts every attempt afterwards.
    """
    from scout_assets.labeling.cascade import CALL_INPUT_TOKENS, PROFILE_INPUT_TOKENS, PROFILE_OUTPUT_TOKENS

    if spec.is_local or profiles <= 0:
        return 0.0
    return spec.cost_usd(
        CALL_INPUT_TOKENS + profiles * PROFILE_INPUT_TOKENS, profiles * PROFILE_OUTPUT_TOKENS
    )


# --- recording --------------------------------------------------------------------------------


def record_stop(
    warehouse: Warehouse,
    *,
    run_id: str,
    scope: Scope,
    name: str,
    day: date,
    refusal: Refusal,
    not_done: str,
    left_count: int,
    left_keywords: Sequence[str] | None = None,
    now: datetime,
) -> None:
    """Append one ``budget_stops`` row: the cap, the figures, and what was left undone."""
    row = {
        "stop_id": str(uuid.uuid4()),
        "run_id": run_id,
        "scope": scope,
        "name": name,
        "partition_date": day,
        "cap_field": refusal.cap.field,
        "period": refusal.cap.period,
        "unit": refusal.cap.unit,
        "cap": refusal.cap.cap,
        "used": refusal.used,
        "next_cost": refusal.next_cost,
        "left_keywords": None
        if left_keywords is None
        else json.dumps(list(left_keywords), ensure_ascii=False),
        "left_count": left_count,
        "not_done": not_done[:2000],
        "stopped_at": now,
    }
    warehouse.append(BUDGET_STOPS.name, pl.DataFrame([row], schema=polars_schema(BUDGET_STOPS.columns)))


def record_caps(
    warehouse: Warehouse, budgets: Budgets, scope: Scope, name: str, day: date, now: datetime
) -> None:
    """Replace ``day``'s caps of one platform or model with those in effect now (``budget_caps``)."""
    rows = [
        {
            "day": day,
            "scope": cap.scope,
            "name": cap.name,
            "cap_field": cap.field,
            "period": cap.period,
            "unit": cap.unit,
            "cap": cap.cap,
            "source": cap.source,
            "recorded_at": now,
        }
        for cap in budgets.caps(scope, name)
    ]
    with warehouse.transaction() as tx:
        tx.delete(BUDGET_CAPS.name, {"day": day, "scope": scope, "name": name})
        if rows:
            tx.append(BUDGET_CAPS.name, pl.DataFrame(rows, schema=polars_schema(BUDGET_CAPS.columns)))


# --- resuming ---------------------------------------------------------------------------------

_LAST_STOP_SQL = """
select left_keywords, stopped_at from budget_stops
where scope = 'platform' and name = $1 and left_keywords is not null
order by stopped_at desc limit 1
"""


def resume_targets(
    warehouse: Warehouse, platform: str, states: pl.DataFrame, chosen: Sequence[SearchTarget], count: int
) -> tuple[list[SearchTarget], list[str]]:
    """``chosen`` with the keywords the platform's last budget stop left undone put first.

    A left keyword is still owed while it is valid and has not been searched since the stop
    (``last_searched_at`` from the ledger); its cursor and page come from the ledger as usual.
    Returns the targets (at most ``count``) and the keywords resumed.
    """
    last = warehouse.read(_LAST_STOP_SQL, [platform])
    if last.is_empty():
        return list(chosen)[:count], []
    left = json.loads(last["left_keywords"][0])
    stopped_at = last["stopped_at"][0]
    valid = states.filter(pl.col("still_valid"))
    owed = valid.filter(
        pl.col("keyword").is_in(left)
        & (pl.col("last_searched_at").is_null() | (pl.col("last_searched_at") < stopped_at))
    )
    order = {keyword: i for i, keyword in enumerate(left)}
    resumed = sorted(owed.iter_rows(named=True), key=lambda row: order[row["keyword"]])[:count]
    first = [SearchTarget(row["keyword"], row["next_cursor"], row["next_page"]) for row in resumed]
    names = {target.keyword for target in first}
    rest = [target for target in chosen if target.keyword not in names]
    return (first + rest)[:count], [target.keyword for target in first]
