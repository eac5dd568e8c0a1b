"""What has been spent against each budget, read from the ledgers (``api_calls``, ``model_calls``).

The ledgers are the truth: a platform's calls and dollars are its ``api_calls`` rows (one per
HTTP attempt, each priced), a model's dollars its ``model_calls`` rows (one per call attempt,
whatever its outcome). Days and months are UTC, like every timestamp in the warehouse; a month
is the calendar month (the plan's quota is tracked per calendar month, see docs/operations.md).

``spend_status`` is what the alert sensor and ``scout plan`` read; the two calling assets use
``platform_usage`` / ``model_usage`` for the figures they enforce.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from resources.warehouse import WarehouseError
from scout_assets.spend.budgets import Budgets, Period, Scope, Unit, load_budgets

if TYPE_CHECKING:
    from resources.warehouse import Warehouse


@dataclass(frozen=True)
class BudgetUse:
    """One capped budget over its current period: how much is used, the cap, and the share used."""

    scope: Scope
    name: str
    period: Period  # "day" | "month" (per-run caps are reported by the runs themselves)
    unit: Unit  # "calls" | "usd" | "requests"
    used: float
    cap: float
    field: str = ""  # the budgets.yaml field, e.g. "calls_per_day"

    @property
    def share(self) -> float:
        """``used / cap``; a cap of 0 is fully used (1.0), and passed (inf) once anything was spent."""
        if self.cap > 0:
            return self.used / self.cap
        return math.inf if self.used > 0 else 1.0


@dataclass(frozen=True)
class PlatformUsage:
    """A platform's HTTP requests and dollars over a period."""

    calls: int = 0
    usd: float = 0.0


def utc_naive(moment: datetime) -> datetime:
    """``moment`` as naive UTC (the warehouse's timestamps); a naive value is taken as UTC already."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a UTC day."""
    start = datetime.combine(day, time())
    return start, start + timedelta(days=1)


def month_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of the UTC calendar month holding ``day``."""
    start = datetime(day.year, day.month, 1)
    end = datetime(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return start, end


_PLATFORM_SQL = """
select count(*) as calls,
       coalesce(sum(cost_usd), 0) as priced_usd,
       sum(case when cost_usd is null then 1 else 0 end) as unpriced
from api_calls where platform = $1 and called_at >= $2 and called_at < $3
"""

_MODEL_SQL = """
select coalesce(sum(cost_usd), 0) as usd from model_calls
where model = $1 and called_at >= $2 and called_at < $3
"""


def platform_usage(
    warehouse: Warehouse, platform: str, start: datetime, end: datetime, price: float
) -> PlatformUsage:
    """Calls and dollars of ``platform`` in [start, end); rows stored before prices were recorded
    (``cost_usd`` null) are priced at today's ``price``."""
    row = warehouse.read(_PLATFORM_SQL, [platform, start, end]).row(0, named=True)
    usd = float(row["priced_usd"] or 0.0) + int(row["unpriced"] or 0) * price
    return PlatformUsage(calls=int(row["calls"] or 0), usd=usd)


def model_usage(warehouse: Warehouse, model: str, start: datetime, end: datetime) -> float:
    """Dollars model ``model`` spent in [start, end), every call attempt counted."""
    return float(warehouse.read(_MODEL_SQL, [model, start, end])["usd"][0] or 0.0)


def spend_status(warehouse: Warehouse, now: datetime, budgets: Budgets | None = None) -> list[BudgetUse]:
    """Every capped day or month budget with what its current period has used, as of ``now``.

    ``budgets``: the caps in effect (``BudgetsResource.load()`` in a sensor or asset, the
    binding's ``current_budgets()`` in a program); None reads ``budgets.yaml`` without overrides.
    Per-run caps are not listed: a run reports them in its own metadata.
    """
    budgets = budgets or load_budgets()
    try:
        return _spend_status(warehouse, utc_naive(now).date(), budgets)
    except WarehouseError:
        # A warehouse no run has brought up to date lacks the ledgers yet: create them, ask again.
        # (Not on every call: a sensor asks every minute, and schema sync takes the writer's lock.)
        warehouse.ensure_schema()
        return _spend_status(warehouse, utc_naive(now).date(), budgets)


def _spend_status(warehouse: Warehouse, today: date, budgets: Budgets) -> list[BudgetUse]:
    days, months = day_bounds(today), month_bounds(today)
    uses: list[BudgetUse] = []
    platform_periods: dict[tuple[str, str], PlatformUsage] = {}
    for cap in budgets.caps():
        if cap.period == "run":
            continue
        start, end = days if cap.period == "day" else months
        if cap.scope == "platform":
            key = (cap.name, cap.period)
            if key not in platform_periods:
                price = budgets.price(cap.name)
                platform_periods[key] = platform_usage(warehouse, cap.name, start, end, price)
            usage = platform_periods[key]
            used = usage.usd if cap.unit == "usd" else float(usage.calls)
        else:
            used = model_usage(warehouse, cap.name, start, end)
        uses.append(BudgetUse(cap.scope, cap.name, cap.period, cap.unit, used, cap.cap, cap.field))
    return uses
