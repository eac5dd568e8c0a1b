"""The plan before a run: what it will search, call, find, label and spend, from history alone.

A plan makes no call of any kind (no platform, no model): everything comes from the warehouse's
history and the config files, so a person can ask "what will this cost, and what should it find?"
before paying anything (``scout plan``, ``scout run --dry-run``), and ``scout run`` records the
answer in ``run_plans`` so ``mart_plan_accuracy`` can track how wrong plans are over time.

This module is the estimate itself, pure over the figures it is handed (the CLI gathers them:
the keyword engine's own target selection, the cascade's prices, the budgets), plus the few
history queries it needs. The rules, each stated in the plan's output (docs/operations.md, "Plans"):

- **Pages**: each target keyword (picked by ``keyword_state.select_targets`` and
  ``enforce.resume_targets``, exactly as ``raw_searches`` picks them) gets ``pages`` pages; a keyword
  can end sooner (no cursor), so this is the most the run will fetch.
- **Calls** = pages x the platform's calls per page over the feedback window (``keyword_stats``:
  API calls / pages, retries included); with no history the platform's structural figure
  (X: 1 search call; Bluesky: 1 search call + 1 getProfiles call per 25 actors).
- **New profiles and true labels per keyword** = pages x the keyword's own rate per page over the
  window (``keyword_stats`` new_profiles / pages, labels_true / pages). A keyword without a page
  in the window gets the **prior**: the platform's pooled rate over the window (all its keywords'
  new profiles / all their pages); a platform with no history at all gets new profiles = its page
  size per page (every profile on a page new: an upper bound) and no true-label estimate.
  ``keyword_stats`` counts a profile found by two keywords for both, so the platform total is
  scaled by the window's distinct share (distinct new profiles / the keywords' sum).
- **Labels** (one cycle): each model is drawn with its probability p; a drawn paid model labels at
  most one batch (``labeling/draw.py``), the local labeler up to ``max_batches_per_run`` batches.
  Units come from today's backlog for the model's cascade route plus what this run adds: new
  profiles x the window's queue rate (new profiles that were queued with a name and a bio) x active
  audiences for the local labeler; the local labels x the deferred share for the first LLM that
  can run here; the previous LLM's labels x its unsettled share (null, or not the local label)
  for each later one. Expected labels = p x min(cap, units).
- **Caps**: a run stops at a platform's cap, so the tightest cap's room (cap - spent this day or
  month, per run: the cap; dollars / price) cuts the planned calls, and the platform's expected
  calls, dollars, new profiles and true labels with them. The budget check itself compares the
  planned (uncut) calls with each cap: that is what says the run will not fit.
- **Dollars**: platform calls x the price per request (``budgets.yaml``); an LLM's calls x the
  prompt's tokens plus its labels x the per-profile tokens, priced from the registry (the token
  figures of ``labeling/cascade.py``). "At most" is a full cycle's cap, for the budget check.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from scout_assets.domain.keyword_state import SearchTarget

if TYPE_CHECKING:
    from resources.warehouse import Warehouse

Verdict = Literal["fits", "may exceed", "exceeds"]

# --- history reads (both warehouses) ----------------------------------------------------------

KEYWORD_HISTORY_SQL = """
select keyword,
       cast(coalesce(sum(pages), 0) as bigint) as pages,
       cast(coalesce(sum(api_calls), 0) as bigint) as api_calls,
       cast(coalesce(sum(new_profiles), 0) as bigint) as new_profiles,
       cast(coalesce(sum(labels_true), 0) as bigint) as labels_true
from keyword_stats
where platform = $1 and day >= $2 and day <= $3
group by keyword
"""

# New profiles of the window (first seen on a day in it), and those has_scores queued on that day
# with a name and a bio (what the labeling queue sends: scout_assets/labeling/queue.py QUEUED_FROM).
NEW_PROFILES_SQL = """
select count(*) as new_profiles,
       sum(case when s.is_queued and p.bio is not null and p.bio <> '' and p.name is not null
                     and p.name <> '' then 1 else 0 end) as queued
from profiles p
left join has_scores s
  on s.platform = p.platform and s.platform_id = p.platform_id and s.partition_date = p.first_partition_date
where p.platform = $1 and p.first_partition_date >= $2 and p.first_partition_date <= $3
"""

# The local labeler's labels of the window ($1 alias) and how many it deferred (null: unsure).
DEFERRED_SQL = """
select count(*) as labels,
       sum(case when deferred is null or deferred then 1 else 0 end) as deferred
from llm_labels where model = $1 and partition_date >= $2 and partition_date <= $3
"""

# An LLM's ($1) labels of the window on units the local labeler ($2) labeled, and how many it left
# unsettled for the next LLM (said null, or not the local label: queue.py PREVIOUS_UNSETTLED).
UNSETTLED_SQL = """
select count(*) as labels,
       sum(case when prev.label is null or loc.label is null or prev.label <> loc.label
                then 1 else 0 end) as unsettled
from llm_labels prev
join llm_labels loc
  on loc.platform = prev.platform and loc.platform_id = prev.platform_id
 and loc.audience = prev.audience and loc.model = $2
where prev.model = $1 and prev.partition_date >= $3 and prev.partition_date <= $4
"""


@dataclass(frozen=True)
class Window:
    """The days history is read over: the keyword engine's feedback window, ending on the plan's day."""

    first: date
    last: date

    def describe(self) -> str:
        return f"{self.first}..{self.last}"


def keyword_history(warehouse: Warehouse, platform: str, window: Window) -> pl.DataFrame:
    """Per keyword of ``platform``: pages, API calls, new profiles and true labels summed over ``window``."""
    frame = warehouse.read(KEYWORD_HISTORY_SQL, [platform, window.first, window.last])
    return frame.cast(
        {c: pl.Int64 for c in ("pages", "api_calls", "new_profiles", "labels_true")} | {"keyword": pl.String}
    )


@dataclass(frozen=True)
class NewProfiles:
    """The window's new profiles on one platform and how many were queued for labeling."""

    new_profiles: int
    queued: int


def new_profile_figures(warehouse: Warehouse, platform: str, window: Window) -> NewProfiles:
    row = warehouse.read(NEW_PROFILES_SQL, [platform, window.first, window.last]).row(0, named=True)
    return NewProfiles(int(row["new_profiles"] or 0), int(row["queued"] or 0))


def deferred_counts(warehouse: Warehouse, local: str, window: Window) -> tuple[int, int]:
    """(labels, deferred) of the local labeler over ``window``."""
    row = warehouse.read(DEFERRED_SQL, [local, window.first, window.last]).row(0, named=True)
    return int(row["labels"] or 0), int(row["deferred"] or 0)


def unsettled_counts(warehouse: Warehouse, model: str, local: str, window: Window) -> tuple[int, int]:
    """(labels, unsettled) of LLM ``model`` over ``window`` (see ``UNSETTLED_SQL``)."""
    row = warehouse.read(UNSETTLED_SQL, [model, local, window.first, window.last]).row(0, named=True)
    return int(row["labels"] or 0), int(row["unsettled"] or 0)


# --- a share with the reason it has its value ---------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A number the plan rests on, and where it came from (printed next to it)."""

    value: float | None
    basis: str


def share_from_history(
    part: int, whole: int, default: float | None, what: str, default_basis: str, window: Window
) -> Figure:
    """``part / whole`` over the window when ``whole`` > 0, else ``default`` with its reason."""
    if whole > 0:
        return Figure(part / whole, f"{what} {window.describe()}: {part} of {whole}")
    return Figure(default, default_basis)


# --- searches -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prior:
    """What a keyword without history is expected to yield per page on one platform."""

    new_per_page: float | None
    true_per_page: float | None
    basis: str


def platform_prior(platform: str, history: pl.DataFrame, window: Window, page_size: int) -> Prior:
    """The platform's pooled rate per page over the window; without any page, the page size (new)."""
    pages = int(history["pages"].sum()) if history.height else 0
    if pages > 0:
        new = int(history["new_profiles"].sum())
        true = int(history["labels_true"].sum())
        keywords = int((history["pages"] > 0).sum())
        return Prior(
            new / pages,
            true / pages,
            f"{platform} mean over keyword_stats {window.describe()}: {new} new profiles and {true} true "
            f"labels on {pages} pages of {keywords} keyword(s)",
        )
    return Prior(
        float(page_size),
        None,
        f"no keyword_stats on {platform} in {window.describe()}: new profiles = the page size ({page_size} "
        "per page, every profile new: an upper bound); true labels not estimated",
    )


@dataclass(frozen=True)
class KeywordEstimate:
    """One target keyword: what it is expected to bring in this run, and on what basis."""

    keyword: str
    next_page: int
    pages: int
    history_pages: int
    new_per_page: float | None
    true_per_page: float | None
    source: Literal["history", "prior"]

    @property
    def expected_new(self) -> float | None:
        return None if self.new_per_page is None else self.pages * self.new_per_page

    @property
    def expected_true(self) -> float | None:
        return None if self.true_per_page is None else self.pages * self.true_per_page


def keyword_estimates(
    targets: Sequence[SearchTarget], history: pl.DataFrame, pages: int, prior: Prior
) -> list[KeywordEstimate]:
    """Each target's expected yield: its own rate per page over the window, else the prior."""
    own = {row["keyword"]: row for row in history.iter_rows(named=True) if row["pages"] and row["pages"] > 0}
    estimates = []
    for target in targets:
        row = own.get(target.keyword)
        if row is None:
            estimates.append(
                KeywordEstimate(
                    target.keyword, target.page, pages, 0, prior.new_per_page, prior.true_per_page, "prior"
                )
            )
            continue
        estimates.append(
            KeywordEstimate(
                target.keyword,
                target.page,
                pages,
                int(row["pages"]),
                row["new_profiles"] / row["pages"],
                row["labels_true"] / row["pages"],
                "history",
            )
        )
    return estimates


@dataclass(frozen=True)
class PlatformPlan:
    """One platform's searches: targets, pages, calls, dollars and the yield expected."""

    platform: str
    keywords: list[KeywordEstimate]
    pages_per_keyword: int
    calls_per_page: Figure
    price_per_call: float
    prior: Prior
    distinct_share: Figure
    queue_rate: Figure
    resumed: tuple[str, ...] = ()  # keywords a budget stop left, searched first (spend/enforce.py)
    # The share of the planned calls the budgets leave room for (``allowed_share``): a run stops
    # at a cap, so what it is expected to do is the planned work cut there.
    allowed: Figure = field(default_factory=lambda: Figure(1.0, "no cap limits this run"))

    @property
    def pages(self) -> int:
        return len(self.keywords) * self.pages_per_keyword

    @property
    def planned_calls(self) -> float:
        """Calls of every planned page (what the budgets are checked against)."""
        return self.pages * (self.calls_per_page.value or 0.0)

    @property
    def planned_usd(self) -> float:
        return self.planned_calls * self.price_per_call

    @property
    def share(self) -> float:
        return 1.0 if self.allowed.value is None else self.allowed.value

    @property
    def expected_calls(self) -> float:
        """Calls expected: the planned calls, cut where a cap stops the run."""
        return self.planned_calls * self.share

    @property
    def expected_usd(self) -> float:
        return self.expected_calls * self.price_per_call

    def _total(self, values: list[float | None]) -> float | None:
        if any(value is None for value in values):
            return None
        distinct = 1.0 if self.distinct_share.value is None else self.distinct_share.value
        return sum(v for v in values if v is not None) * distinct * self.share

    @property
    def keyword_new(self) -> float | None:
        """Sum over keywords, counted as keyword_stats counts (a profile once per keyword)."""
        values = [k.expected_new for k in self.keywords]
        return None if any(v is None for v in values) else sum(v for v in values if v is not None)

    @property
    def expected_new(self) -> float | None:
        """Distinct new profiles: the keywords' sum x the window's distinct share x the budgets' share."""
        return self._total([k.expected_new for k in self.keywords])

    @property
    def expected_true(self) -> float | None:
        return self._total([k.expected_true for k in self.keywords])

    @property
    def expected_units(self) -> float | None:
        """Queue units this run adds for one audience: new profiles x the queue rate."""
        if self.expected_new is None or self.queue_rate.value is None:
            return None
        return self.expected_new * self.queue_rate.value


def platform_plan(
    platform: str,
    targets: Sequence[SearchTarget],
    history: pl.DataFrame,
    new_figures: NewProfiles,
    *,
    pages_per_keyword: int,
    window: Window,
    page_size: int,
    calls_per_page_prior: float,
    price_per_call: float,
    resumed: Sequence[str] = (),
) -> PlatformPlan:
    """Put together one platform's search plan from its targets and history (rules in the module doc)."""
    prior = platform_prior(platform, history, window, page_size)
    pages = int(history["pages"].sum()) if history.height else 0
    calls = int(history["api_calls"].sum()) if history.height else 0
    calls_per_page = (
        Figure(calls / pages, f"keyword_stats {window.describe()}: {calls} calls / {pages} pages")
        if pages > 0
        else Figure(
            calls_per_page_prior, f"no history: the client's {calls_per_page_prior:g} call(s) per page"
        )
    )
    keyword_new = int(history["new_profiles"].sum()) if history.height else 0
    distinct = (
        Figure(
            min(1.0, new_figures.new_profiles / keyword_new),
            f"{new_figures.new_profiles} distinct new profiles / {keyword_new} counted per keyword, "
            f"{window.describe()}",
        )
        if keyword_new > 0
        else Figure(1.0, "no history: every keyword's new profiles counted as distinct")
    )
    queue_rate = share_from_history(
        new_figures.queued,
        new_figures.new_profiles,
        None,
        "new profiles queued with a name and bio,",
        f"no new profiles on {platform} in {window.describe()}",
        window,
    )
    return PlatformPlan(
        platform=platform,
        keywords=keyword_estimates(targets, history, pages_per_keyword, prior),
        pages_per_keyword=pages_per_keyword,
        calls_per_page=calls_per_page,
        price_per_call=price_per_call,
        prior=prior,
        distinct_share=distinct,
        queue_rate=queue_rate,
        resumed=tuple(resumed),
    )


def allowed_share(
    plan: PlatformPlan, caps: Sequence[Any], used: Mapping[tuple[str, str, str, str], float] | None
) -> Figure:
    """The share of ``plan``'s calls its platform's caps leave room for (1: none binds).

    Each cap in calls or requests leaves ``cap - used`` calls (per run: the cap itself); a dollar
    cap leaves ``(cap - used) / price``. The tightest one binds. ``used`` as in ``budget_lines``.
    """
    planned = plan.planned_calls
    if planned <= 0:
        return Figure(1.0, "no call planned")
    tightest: tuple[float, str] | None = None
    for cap in caps:
        if cap.scope != "platform" or cap.name != plan.platform:
            continue
        so_far = (
            0.0
            if cap.period == "run" or used is None
            else used.get((cap.scope, cap.name, cap.period, cap.unit), 0.0)
        )
        left = max(0.0, cap.cap - so_far)
        if cap.unit == "usd":
            if plan.price_per_call <= 0:
                continue
            left = left / plan.price_per_call
        if tightest is None or left < tightest[0]:
            tightest = (left, cap.field)
    if tightest is None or tightest[0] >= planned:
        return Figure(1.0, "the caps leave room for every planned call")
    left, name = tightest
    return Figure(
        left / planned,
        f"{plan.platform} {name} leaves room for {left:.0f} of the {planned:.0f} planned calls: the run stops there",
    )


# --- labeling ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelInput:
    """One model as the labeling estimate needs it (the CLI reads these from the registry and queue)."""

    alias: str
    available: bool
    probability: float
    batch_size: int
    cap: int  # most labels one cycle may store when drawn
    is_local: bool
    previous: str | None  # the LLM before it among those that can run here (cascade route)
    backlog: int  # today's units pending for its route now, over the active audiences
    call_usd: float  # USD of one call's shared prompt (system prompt and examples)
    profile_usd: float  # USD of one profile's input and output tokens


@dataclass(frozen=True)
class ModelPlan:
    """One model's expected labels and dollars in this cycle."""

    model: ModelInput
    units: float | None  # units it may get this cycle (backlog + what this run adds); None: unknown
    expected_labels: float | None  # None when this run's new units could not be estimated
    expected_calls: float | None
    expected_usd: float | None
    max_usd: float  # if drawn: a full cycle's cap
    basis: str

    @property
    def alias(self) -> str:
        return self.model.alias

    @property
    def usd_per_label(self) -> float:
        """Full-batch USD per profile (``cascade.estimated_cost_per_profile``)."""
        return self.model.call_usd / self.model.batch_size + self.model.profile_usd


def _cycle_cost(model: ModelInput, labels: float) -> tuple[float, float]:
    """(calls, USD) of labeling ``labels`` units in full batches as far as they go."""
    if labels <= 0:
        return 0.0, 0.0
    calls = math.ceil(labels / model.batch_size - 1e-9)
    return float(calls), calls * model.call_usd + labels * model.profile_usd


def model_plans(
    models: Sequence[ModelInput], new_units: float | None, deferred: Figure, unsettled: Mapping[str, Figure]
) -> list[ModelPlan]:
    """Each model's expected labels in the cascade's order (``models`` come in that order).

    ``new_units``: the queue units this run adds (None: not estimated, and then neither are the
    labels of any model that can run: they all rest on it); ``deferred``: the share of local labels
    that go on to the first LLM; ``unsettled[alias]``: the share of an LLM's labels that go on to
    the next one.
    """
    plans: list[ModelPlan] = []
    local_labels: float | None = None
    expected: dict[str, float | None] = {}
    for model in models:
        _, max_usd = _cycle_cost(model, model.cap)
        if not model.available:
            plans.append(ModelPlan(model, None, 0.0, 0.0, 0.0, 0.0, "cannot run here (no key): not drawn"))
            continue
        added: float | None
        if model.is_local:
            added = new_units
            basis = "every queued unit: today's backlog + this run's new units"
        elif model.previous is None:
            added = None if local_labels is None else local_labels * (deferred.value or 0.0)
            basis = f"today's backlog + local labels x deferred share {_share(deferred.value)}"
        else:
            share = unsettled.get(model.previous, Figure(1.0, "no history"))
            before = expected.get(model.previous)
            added = None if before is None else before * (1.0 if share.value is None else share.value)
            basis = f"today's backlog + {model.previous}'s labels x unsettled share {_share(share.value)}"
        rule = f"p {model.probability:g} x min(cap {model.cap}, units); units = {basis}"
        if added is None:
            expected[model.alias] = None
            plans.append(ModelPlan(model, None, None, None, None, max_usd, rule + " (not estimated)"))
            continue
        units = model.backlog + added
        labels = model.probability * min(model.cap, units)
        calls, usd = _cycle_cost(model, min(model.cap, units))
        expected[model.alias] = labels
        if model.is_local:
            local_labels = labels
        plans.append(
            ModelPlan(model, units, labels, model.probability * calls, model.probability * usd, max_usd, rule)
        )
    return plans


def _share(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.2f}"


# --- budgets -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetLine:
    """One capped budget against this run: spent so far in its period, expected, worst case, cap."""

    scope: str
    name: str
    field: str
    period: str
    unit: str
    cap: float
    used: float | None  # so far this day/month (0 for a per-run cap; None when unknown)
    expected: float | None  # None: not estimated (then only the worst case is compared)
    worst: float

    @property
    def verdict(self) -> Verdict:
        used = self.used or 0.0
        if self.expected is not None and used + self.expected > self.cap + 1e-12:
            return "exceeds"
        if used + self.worst > self.cap + 1e-12:
            return "may exceed"
        return "fits"


def budget_lines(
    caps: Sequence[Any],
    platforms: Sequence[PlatformPlan],
    models: Sequence[ModelPlan],
    used: Mapping[tuple[str, str, str, str], float] | None,
) -> list[BudgetLine]:
    """Every cap of the planned platforms and models (``budgets.Cap`` objects) against the plan.

    Platforms are checked with their planned calls (before any cap cuts them), models with their
    expected dollars and, as the worst case, a full cycle's cap.

    ``used`` maps (scope, name, period, unit) to what the current day or month has spent
    (``usage.spend_status``); None when it could not be read (then only the run's share is compared).
    """
    by_platform = {p.platform: p for p in platforms}
    by_model = {m.alias: m for m in models}
    lines: list[BudgetLine] = []
    for cap in caps:
        if cap.scope == "platform" and cap.name in by_platform:
            plan = by_platform[cap.name]
            expected = plan.planned_usd if cap.unit == "usd" else plan.planned_calls
            worst = expected
        elif cap.scope == "model" and cap.name in by_model and by_model[cap.name].model.available:
            model = by_model[cap.name]
            expected, worst = model.expected_usd, model.max_usd
        else:
            continue
        so_far: float | None = 0.0
        if cap.period != "run":
            so_far = None if used is None else used.get((cap.scope, cap.name, cap.period, cap.unit), 0.0)
        lines.append(
            BudgetLine(cap.scope, cap.name, cap.field, cap.period, cap.unit, cap.cap, so_far, expected, worst)
        )
    return lines


# --- the plan ------------------------------------------------------------------------------------------


@dataclass
class RunPlan:
    """Everything a plan says; ``rows()`` is what ``run_plans`` stores of it."""

    planned_at: datetime
    command: str
    window: Window
    platforms: list[PlatformPlan]
    models: list[ModelPlan]
    budgets: list[BudgetLine]
    deferred: Figure
    unsettled: dict[str, Figure] = field(default_factory=dict)  # per LLM that can run here
    not_estimated: list[str] = field(default_factory=list)
    plan_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def fits(self) -> bool:
        """No budget is expected to be passed (a "may exceed" only warns: the run stops at a cap)."""
        return all(line.verdict != "exceeds" for line in self.budgets)

    def budget_notes(self, scope: str, name: str) -> str:
        lines = [b for b in self.budgets if b.scope == scope and b.name == name]
        return "; ".join(f"{b.field}: {b.verdict}" for b in lines) or "no cap"

    def rows(self, finished_at: datetime | None = None) -> list[dict[str, Any]]:
        """One ``run_plans`` row per platform and per model."""
        common = {"plan_id": self.plan_id, "planned_at": self.planned_at, "finished_at": finished_at}
        rows: list[dict[str, Any]] = []
        for p in self.platforms:
            verdicts = [b.verdict for b in self.budgets if b.scope == "platform" and b.name == p.platform]
            rows.append(
                {
                    **common,
                    "subject_kind": "platform",
                    "subject": p.platform,
                    "command": self.command,
                    "keywords": len(p.keywords),
                    "pages": p.pages,
                    "expected_calls": p.expected_calls,
                    "expected_new_profiles": p.expected_new,
                    "expected_true_labels": p.expected_true,
                    "expected_labels": None,
                    "expected_usd": p.expected_usd,
                    "max_usd": p.expected_usd,
                    "basis": f"prior: {p.prior.basis}; calls/page: {p.calls_per_page.basis}",
                    "fits_budgets": "exceeds" not in verdicts,
                    "budget_notes": self.budget_notes("platform", p.platform),
                }
            )
        for m in self.models:
            verdicts = [b.verdict for b in self.budgets if b.scope == "model" and b.name == m.alias]
            rows.append(
                {
                    **common,
                    "subject_kind": "model",
                    "subject": m.alias,
                    "command": self.command,
                    "keywords": None,
                    "pages": None,
                    "expected_calls": m.expected_calls,
                    "expected_new_profiles": None,
                    "expected_true_labels": None,
                    "expected_labels": m.expected_labels,
                    "expected_usd": m.expected_usd,
                    "max_usd": m.max_usd,
                    "basis": m.basis,
                    "fits_budgets": "exceeds" not in verdicts,
                    "budget_notes": self.budget_notes("model", m.alias),
                }
            )
        return rows
