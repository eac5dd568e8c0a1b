"""``scout plan`` and ``scout run --dry-run``: the plan before a run, with no call of any kind.

The estimate is ``scout_assets/spend/plan.py``; this module gathers what it rests on (the keyword
engine's own target selection, exactly the calls ``raw_searches`` makes; the cascade's route, queue
and prices; the budgets and what today and this month have spent), prints it, and for a real
``scout run`` records it in ``run_plans`` before the run and closes its window when the paid work
is done, so the summary (and ``mart_plan_accuracy``) can put estimate and actual side by side.

Nothing here builds the Dagster definitions or a platform or model client: a plan cannot reach
the sandbox, a platform or a model, whatever the environment says (tests/test_plan.py counts the
requests the loopback servers receive).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from resources.models.registry import MODELS_FILE, load_model_registry
from resources.warehouse import Warehouse, WarehouseError
from scout_assets.spend.plan import (
    Figure,
    ModelInput,
    RunPlan,
    Window,
    allowed_share,
    budget_lines,
    deferred_counts,
    keyword_history,
    model_plans,
    new_profile_figures,
    platform_plan,
    share_from_history,
    unsettled_counts,
)
from scout_contract.platforms import PLATFORMS
from scout_contract.tables import RUN_PLANS, polars_schema

DEFAULT_KEYWORDS = 10
DEFAULT_PAGES = 1
# Without any history, every local label counts as deferred: what the zero-shot labeler does.
ALL_DEFERRED = 1.0


def add_search_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments ``scout run`` and ``scout plan`` share: what the searches cover."""
    parser.add_argument("--platforms", nargs="*", help="platforms to run (default: all)")
    parser.add_argument(
        "--keywords",
        type=int,
        default=DEFAULT_KEYWORDS,
        help=f"keywords searched per platform (default {DEFAULT_KEYWORDS})",
    )
    parser.add_argument(
        "--pages",
        type=int,
        default=DEFAULT_PAGES,
        help=f"pages fetched per keyword (default {DEFAULT_PAGES})",
    )


def add_plan_parser(sub: argparse._SubParsersAction) -> None:
    plan = sub.add_parser(
        "plan",
        help="what a run would search, call, find, label and spend, and whether it fits the budgets "
        "(no call is made)",
    )
    add_search_arguments(plan)
    plan.set_defaults(handler=plan_main)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _command(args: argparse.Namespace, name: str) -> str:
    platforms = f" --platforms {' '.join(args.platforms)}" if args.platforms else ""
    return f"scout {name}{platforms} --keywords {args.keywords} --pages {args.pages}"


def _check_arguments(args: argparse.Namespace) -> None:
    unknown = [p for p in args.platforms or () if p not in PLATFORMS]
    if unknown:
        raise ValueError(f"--platforms: unknown platform(s) {unknown}; known: {list(PLATFORMS)}")
    if args.keywords < 0 or args.pages < 1:
        raise ValueError(f"--keywords must be >= 0 and --pages >= 1, got {args.keywords} and {args.pages}")


def _plan_for(warehouse: Warehouse, args: argparse.Namespace, name: str) -> RunPlan:
    """The plan for the command line's platforms, keywords and pages (arguments checked first)."""
    _check_arguments(args)
    return gather_plan(
        warehouse, args.platforms or list(PLATFORMS), args.keywords, args.pages, command=_command(args, name)
    )


def plan_main(args: argparse.Namespace, name: str = "plan") -> int:
    """Print the plan; exit 2 on bad input (config, environment, arguments), naming what is wrong."""
    from scout_assets.resources_binding import open_warehouse

    try:
        warehouse = open_warehouse()
        plan = _plan_for(warehouse, args, name)
    except (WarehouseError, ValueError, OSError) as exc:
        print(f"scout {name}: {exc}", file=sys.stderr)
        return 2
    print(format_plan(plan, warehouse.describe()))
    return 0


def dry_run_main(args: argparse.Namespace) -> int:
    """``scout run --dry-run``: the plan of that run, nothing run, nothing recorded."""
    return plan_main(args, name="run --dry-run")


# --- gathering ------------------------------------------------------------------------------------


def _client_figures(platform: str) -> tuple[int, float]:
    """(page size, calls per page) of a platform's client as configured: the no-history prior.

    X: one search call returns a page. Bluesky: searchActors, then getProfiles for the page's
    actors, 25 per call.
    """
    from resources.platforms.bluesky import PROFILES_PER_CALL, BlueskySearch
    from resources.platforms.twitter import TwitterSearch

    if platform == "bluesky":
        size = int(BlueskySearch.model_fields["page_size"].default)
        return size, 1.0 + -(-size // PROFILES_PER_CALL)
    return int(TwitterSearch.model_fields["page_size"].default), 1.0


def _shipped_defer_share(audiences: Sequence[str]) -> Figure | None:
    """The shipped fits' cross-validated defer share (mean over the active audiences that have one)."""
    from resources.models.fitted_labeler import SHIPPED_LABELERS_DIR

    shares: list[tuple[str, float]] = []
    for audience in audiences:
        card = SHIPPED_LABELERS_DIR / audience / "labeler.json"
        if card.is_file():
            share = json.loads(card.read_text()).get("metrics", {}).get("defer_share")
            if share is not None:
                shares.append((audience, float(share)))
    if not shares:
        return None
    mean = sum(s for _, s in shares) / len(shares)
    names = ", ".join(f"{a} {s:.3f}" for a, s in shares)
    return Figure(
        mean, f"no local labels in the window: the shipped fit's cross-validated defer share ({names})"
    )


def _pending_today(warehouse: Warehouse, day, route, audiences: Sequence[str]) -> int:
    """Today's units pending for ``route`` over ``audiences``: the asset's own pending condition."""
    from scout_assets.labeling.queue import pending_condition

    total = 0
    for audience in audiences:
        condition, params = pending_condition(route, audience, relabel=False)
        sql = f"select count(*) as n {condition} and q.partition_date = ${len(params) + 1}"
        total += int(warehouse.read(sql, [*params, day])["n"][0] or 0)
    return total


def gather_plan(
    warehouse: Warehouse,
    platforms: Sequence[str],
    keywords: int,
    pages: int,
    *,
    command: str,
    now: datetime | None = None,
) -> RunPlan:
    """The plan of a run searching ``keywords`` x ``pages`` on ``platforms`` now; reads, never calls."""
    from scout_assets.assets.keywords import stored_feedback, stored_pages
    from scout_assets.config_files import ConfigFiles
    from scout_assets.domain.keyword_rules import load_keyword_rules
    from scout_assets.domain.keyword_state import keyword_states, select_targets
    from scout_assets.labeling.cascade import (
        CALL_INPUT_TOKENS,
        PROFILE_INPUT_TOKENS,
        PROFILE_OUTPUT_TOKENS,
        route_of,
    )
    from scout_assets.labeling.draw import BATCHES_PER_CYCLE
    from scout_assets.labeling.settings import load_labeling_settings
    from scout_assets.resources_binding import build_model_roster, current_budgets, current_settings
    from scout_assets.spend.enforce import resume_targets
    from scout_assets.spend.usage import spend_status

    now = now or _now()
    day = now.date()
    warehouse.ensure_schema()
    rules = load_keyword_rules()
    window = Window(day - timedelta(days=rules.window_days - 1), day)
    settings = current_settings()
    budgets = current_budgets(settings)
    entries = ConfigFiles.from_settings(settings).keyword_entries()
    caps = budgets.caps()
    used = {(u.scope, u.name, u.period, u.unit): u.used for u in spend_status(warehouse, now, budgets)}
    not_estimated: list[str] = []

    platform_plans = []
    for platform in platforms:
        # The same calls raw_searches makes before it searches: the targets are its targets.
        states = keyword_states(
            entries,
            platform,
            stored_pages(warehouse, platform, until=None),
            stored_feedback(warehouse, platform, until=day + timedelta(days=1)),
        )
        targets, resumed = resume_targets(
            warehouse, platform, states, select_targets(states, keywords), keywords
        )
        page_size, calls_per_page = _client_figures(platform)
        plan = platform_plan(
            platform,
            targets,
            keyword_history(warehouse, platform, window),
            new_profile_figures(warehouse, platform, window),
            pages_per_keyword=pages,
            window=window,
            page_size=page_size,
            calls_per_page_prior=calls_per_page,
            price_per_call=budgets.price(platform),
            resumed=resumed,
        )
        plan = replace(plan, allowed=allowed_share(plan, caps, used))
        if plan.expected_true is None and plan.keywords:
            not_estimated.append(
                f"true labels on {platform}: no keyword_stats on {platform} in {window.describe()}"
            )
        if plan.queue_rate.value is None:
            not_estimated.append(f"labeling units from {platform}'s new profiles: {plan.queue_rate.basis}")
        platform_plans.append(plan)

    labeling = load_labeling_settings()
    audiences = labeling.audiences
    specs = load_model_registry(MODELS_FILE)
    available = [alias for alias in build_model_roster().available if alias in specs]
    order = labeling.cascade.order
    local = labeling.local_model
    units = [p.expected_units for p in platform_plans]
    new_units = (
        None if any(u is None for u in units) else sum(u for u in units if u is not None) * len(audiences)
    )

    labels, deferred = deferred_counts(warehouse, local, window)
    shipped = _shipped_defer_share(audiences)
    deferred_share = share_from_history(
        deferred,
        labels,
        shipped.value if shipped else ALL_DEFERRED,
        f"{local} labels deferred,",
        shipped.basis
        if shipped
        else "no local labels in the window and no shipped fit: every label deferred (the zero-shot labeler's way)",
        window,
    )
    unsettled: dict[str, Figure] = {}
    inputs: list[ModelInput] = []
    for alias in order:
        spec = specs[alias]
        can_run = alias in available
        route = route_of(alias, order, available) if can_run else None
        if can_run and not spec.is_local:
            done, open_ = unsettled_counts(warehouse, alias, local, window)
            unsettled[alias] = share_from_history(
                open_,
                done,
                1.0,
                f"{alias} labels left unsettled,",
                f"no {alias} labels in the window: every label left unsettled (an upper bound)",
                window,
            )
        cap = spec.batch_size * (labeling.max_batches_per_run if spec.is_local else BATCHES_PER_CYCLE)
        inputs.append(
            ModelInput(
                alias=alias,
                available=can_run,
                probability=spec.probability,
                batch_size=spec.batch_size,
                cap=cap,
                is_local=spec.is_local,
                previous=route.previous if route else None,
                backlog=_pending_today(warehouse, day, route, audiences) if route else 0,
                call_usd=CALL_INPUT_TOKENS * spec.input_cost_per_token,
                profile_usd=PROFILE_INPUT_TOKENS * spec.input_cost_per_token
                + PROFILE_OUTPUT_TOKENS * spec.output_cost_per_token,
            )
        )
    models = model_plans(inputs, new_units, deferred_share, unsettled)
    if new_units is None:
        not_estimated.append("labels and LLM dollars: they rest on the queue units this run adds (above)")

    return RunPlan(
        planned_at=now,
        command=command,
        window=window,
        platforms=platform_plans,
        models=models,
        budgets=budget_lines(caps, platform_plans, models, used),
        deferred=deferred_share,
        unsettled=unsettled,
        not_estimated=not_estimated,
    )


# --- printing -----------------------------------------------------------------------------------------


def _num(value: float | None, digits: int = 1) -> str:
    return "?" if value is None else f"{value:.{digits}f}"


def _usd(value: float | None) -> str:
    return "?" if value is None else f"${value:.4f}"


def format_plan(plan: RunPlan, where: str) -> str:
    """The plan as people read it: searches, yield per keyword, labels, dollars, budgets, unknowns."""
    out = [
        f"Plan {plan.plan_id[:12]} at {plan.planned_at:%Y-%m-%d %H:%M} UTC for `{plan.command}` "
        "(no call made: history from the warehouse)",
        f"  warehouse {where}; history window {plan.window.describe()} (keyword_rules.yaml window_days)",
    ]
    total_calls = 0.0
    total_usd: float | None = 0.0
    for p in plan.platforms:
        total_calls += p.expected_calls
        total_usd = None if total_usd is None else total_usd + p.expected_usd
        out += [
            "",
            f"{p.platform}: {len(p.keywords)} keywords x {p.pages_per_keyword} page(s) = {p.pages} pages, "
            f"{p.planned_calls:.1f} calls ({_num(p.calls_per_page.value, 2)} per page: "
            f"{p.calls_per_page.basis}), {_usd(p.planned_usd)} at ${p.price_per_call:g} per call",
            f"  prior for keywords without history: {_num(p.prior.new_per_page, 2)} new profiles and "
            f"{_num(p.prior.true_per_page, 3)} true labels per page ({p.prior.basis})",
        ]
        if p.resumed:
            out.append(f"  first, the keywords a budget stop left: {', '.join(p.resumed)}")
        if p.share < 1.0:
            out.append(
                f"  budgets: {p.allowed.basis}; expected {p.expected_calls:.1f} calls, {_usd(p.expected_usd)}, "
                f"and the totals below cut to {p.share:.0%}"
            )
        if p.keywords:
            out.append(
                f"  {'keyword':<34} {'page':>4} {'hist. pages':>11} {'new/page':>9} {'true/page':>9} "
                f"{'source':>7} {'exp. new':>9} {'exp. true':>9}"
            )
            for k in p.keywords:
                out.append(
                    f"  {k.keyword[:34]:<34} {k.next_page:>4} {k.history_pages:>11} {_num(k.new_per_page, 2):>9} "
                    f"{_num(k.true_per_page, 3):>9} {k.source:>7} {_num(k.expected_new):>9} "
                    f"{_num(k.expected_true, 2):>9}"
                )
        else:
            out.append("  no keyword to search (every keyword exhausted, stopped, invalid or disabled)")
        out.append(
            f"  expected distinct new profiles {_num(p.expected_new)} (keywords' sum {_num(p.keyword_new)} x "
            f"{_num(p.distinct_share.value, 2)}: {p.distinct_share.basis}); expected true labels "
            f"{_num(p.expected_true, 2)}"
        )
        out.append(f"  queue rate {_num(p.queue_rate.value, 3)} ({p.queue_rate.basis})")
    out += [
        "",
        "Labels (one cycle: each model drawn with its probability p; a drawn paid model labels at most one "
        "batch; only what the local labeler defers goes to an LLM)",
        f"  deferred share {_num(plan.deferred.value, 3)} ({plan.deferred.basis})",
        *(
            f"  unsettled share of {alias} {_num(figure.value, 3)} ({figure.basis})"
            for alias, figure in plan.unsettled.items()
        ),
        f"  {'model':<20} {'p':>4} {'batch':>5} {'cap':>4} {'backlog':>7} {'units':>7} {'exp. labels':>11} "
        f"{'$/label':>10} {'exp. USD':>9} {'at most':>9}",
    ]
    for m in plan.models:
        if not m.model.available:
            out.append(f"  {m.alias:<20} {m.model.probability:>4g}  no key: cannot run here")
            continue
        total_usd = None if total_usd is None or m.expected_usd is None else total_usd + m.expected_usd
        out.append(
            f"  {m.alias:<20} {m.model.probability:>4g} {m.model.batch_size:>5} {m.model.cap:>4} "
            f"{m.model.backlog:>7} {_num(m.units):>7} {_num(m.expected_labels):>11} {m.usd_per_label:>10.6f} "
            f"{_usd(m.expected_usd):>9} {_usd(m.max_usd):>9}"
        )
    out += ["", f"Expected total: {total_calls:.1f} platform calls, {_usd(total_usd)}", "", "Budgets:"]
    if not plan.budgets:
        out.append("  no cap applies to the planned platforms and models")
    for b in plan.budgets:
        fmt = _usd if b.unit == "usd" else (lambda v: _num(v, 0))
        so_far = "" if b.period == "run" else f" + {fmt(b.used)} used this {b.period}"
        worst = f" (at most {fmt(b.worst)})" if b.expected is None or b.worst > b.expected else ""
        out.append(
            f"  {b.verdict.upper():<10} {b.scope} {b.name} {b.field}: expected {fmt(b.expected)}{worst}"
            f"{so_far} of cap {fmt(b.cap)}"
        )
    if plan.not_estimated:
        out += ["", "Could not estimate:"] + [f"  - {what}" for what in plan.not_estimated]
    exceeding = [f"{b.name} {b.field}" for b in plan.budgets if b.verdict == "exceeds"]
    out += [
        "",
        "Fits the budgets: yes"
        if plan.fits
        else f"Fits the budgets: NO ({', '.join(exceeding)}: the run would stop at the cap)",
    ]
    return "\n".join(out)


# --- recording and comparing (scout run) ----------------------------------------------------------------


def _frame(plan: RunPlan, finished_at: datetime | None) -> pl.DataFrame:
    return pl.DataFrame(plan.rows(finished_at), schema=polars_schema(RUN_PLANS.columns)).select(
        RUN_PLANS.column_names
    )


def record_plan(warehouse: Warehouse, plan: RunPlan) -> None:
    """Store the plan before the run (``finished_at`` null: its window is still open)."""
    warehouse.ensure_schema()
    warehouse.replace_partition("run_plans", _frame(plan, None), {"plan_id": plan.plan_id})


def finish_plan(warehouse: Warehouse, plan: RunPlan, finished_at: datetime | None = None) -> None:
    """Close the plan's window once the run's searches and labels are done."""
    warehouse.replace_partition("run_plans", _frame(plan, finished_at or _now()), {"plan_id": plan.plan_id})


def plan_before_run(args: argparse.Namespace) -> RunPlan | None:
    """``scout run``: print and record the plan; a plan that cannot be made never stops the run."""
    from scout_assets.resources_binding import open_warehouse

    try:
        warehouse = open_warehouse()
        plan = _plan_for(warehouse, args, "run")
        record_plan(warehouse, plan)
    except (WarehouseError, ValueError, OSError) as exc:
        print(f"no plan recorded for this run: {exc}", file=sys.stderr, flush=True)
        return None
    print(format_plan(plan, warehouse.describe()), flush=True)
    print(f"plan {plan.plan_id} recorded in run_plans\n", flush=True)
    return plan


def plan_after_run(plan: RunPlan | None) -> None:
    """Close the plan's window (the run's paid work is done); a failure is reported, not raised."""
    if plan is None:
        return
    from scout_assets.resources_binding import open_warehouse

    try:
        finish_plan(open_warehouse(), plan)
    except (WarehouseError, ValueError, OSError) as exc:
        print(f"could not close plan {plan.plan_id} in run_plans: {exc}", file=sys.stderr, flush=True)


# The actuals of a plan's window [planned_at, finished_at], per subject (the same rules as
# mart_plan_accuracy; tests/test_plan.py checks that the two agree).
_CALLS_SQL = """
select count(*) as calls, coalesce(sum(cost_usd), 0) as usd from api_calls
where platform = $1 and called_at >= $2 and called_at <= $3
"""
_NEW_SQL = (
    "select count(*) as n from profiles where platform = $1 and first_seen_at >= $2 and first_seen_at <= $3"
)
_LABELS_SQL = (
    "select count(*) as n from llm_labels where model = $1 and labeled_at >= $2 and labeled_at <= $3"
)
_MODEL_USD_SQL = """
select coalesce(sum(cost_usd), 0) as usd from model_calls where model = $1 and called_at >= $2 and called_at <= $3
"""
# Every label of the (audience, account) pairs of a platform that got a label in the window.
_WINDOW_PAIRS_SQL = """
select l.audience, l.platform, l.platform_id, l.model, l.label, l.deferred from llm_labels l
where l.platform = $1 and exists (
  select 1 from llm_labels w
  where w.platform = l.platform and w.platform_id = l.platform_id and w.audience = l.audience
    and w.labeled_at >= $2 and w.labeled_at <= $3)
"""


@dataclass(frozen=True)
class Comparison:
    """One metric of one subject: the plan's estimate and what the run did."""

    subject_kind: str
    subject: str
    metric: str
    estimate: float | None
    actual: float

    @property
    def error(self) -> float | None:
        return None if self.estimate is None else self.estimate - self.actual


def true_labels_in_window(warehouse: Warehouse, platform: str, start: datetime, end: datetime) -> int:
    """(audience, account) pairs of ``platform`` labeled in the window whose verdict is a backed ``true``.

    The verdict is keyword_stats' (a person's review, else the models' weighted consensus, counted
    only when backed), over every label of the pair, as ``mart_audience_leads`` has it now.
    """
    from scout_assets.assets.keyword_stats import audience_verdicts

    labels = warehouse.read(_WINDOW_PAIRS_SQL, [platform, start, end])
    if labels.is_empty():
        return 0
    pairs = labels.select("audience", "platform", "platform_id").unique()
    audiences = tuple(sorted(pairs["audience"].unique().to_list()))
    verdicts = audience_verdicts(warehouse, audiences, labels).join(
        pairs, on=["audience", "platform", "platform_id"], how="semi"
    )
    return int(verdicts.filter(pl.col("verdict_backed") & (pl.col("label") == True)).height)  # noqa: E712


def plan_comparisons(warehouse: Warehouse, plan_id: str) -> tuple[dict[str, Any] | None, list[Comparison]]:
    """The plan's window and, per subject and metric, estimate and actual (empty while it is open)."""
    rows = warehouse.read(
        "select * from run_plans where plan_id = $1 order by subject_kind desc, subject", [plan_id]
    ).to_dicts()
    if not rows or rows[0]["finished_at"] is None:
        return (rows[0] if rows else None), []
    start, end = rows[0]["planned_at"], rows[0]["finished_at"]
    found: list[Comparison] = []
    for row in rows:
        subject = row["subject"]
        if row["subject_kind"] == "platform":
            calls = warehouse.read(_CALLS_SQL, [subject, start, end]).row(0, named=True)
            new = int(warehouse.read(_NEW_SQL, [subject, start, end])["n"][0] or 0)
            found += [
                Comparison("platform", subject, "api_calls", row["expected_calls"], float(calls["calls"])),
                Comparison(
                    "platform", subject, "platform_usd", row["expected_usd"], float(calls["usd"] or 0)
                ),
                Comparison("platform", subject, "new_profiles", row["expected_new_profiles"], float(new)),
                Comparison(
                    "platform",
                    subject,
                    "true_labels",
                    row["expected_true_labels"],
                    float(true_labels_in_window(warehouse, subject, start, end)),
                ),
            ]
        else:
            labels = int(warehouse.read(_LABELS_SQL, [subject, start, end])["n"][0] or 0)
            usd = float(warehouse.read(_MODEL_USD_SQL, [subject, start, end])["usd"][0] or 0.0)
            found += [
                Comparison("model", subject, "labels", row["expected_labels"], float(labels)),
                Comparison("model", subject, "llm_usd", row["expected_usd"], usd),
            ]
    return rows[0], found


METRIC_WORDS = {
    "api_calls": "API calls",
    "platform_usd": "platform USD",
    "new_profiles": "new profiles",
    "true_labels": "true labels",
    "labels": "labels",
    "llm_usd": "LLM USD",
}


def print_plan_comparison(warehouse: Warehouse, plan_id: str) -> None:
    """The summary's "estimate vs actual" table for one recorded plan."""
    head, comparisons = plan_comparisons(warehouse, plan_id)
    if head is None:
        print(f"\nPlan {plan_id[:12]}: not in run_plans")
        return
    if not comparisons:
        print(f"\nPlan {plan_id[:12]}: its run did not finish, so there is nothing to compare yet")
        return
    print(
        f"\nPlan {plan_id[:12]} vs actual (window {head['planned_at']:%H:%M:%S}-{head['finished_at']:%H:%M:%S} UTC; "
        "history: analytics.mart_plan_accuracy):"
    )
    print(f"  {'subject':<20} {'metric':<14} {'estimate':>10} {'actual':>10} {'error':>10}")
    for c in comparisons:
        if c.estimate == 0 and c.actual == 0:  # a model that could not run, a free one's dollars
            continue
        usd = c.metric.endswith("usd")
        shown = _usd if usd else _num
        error = "?" if c.error is None else (f"{c.error:+.4f}" if usd else f"{c.error:+.1f}")
        if c.error is not None and c.actual:
            error += f" ({c.error / c.actual:+.0%})"
        print(
            f"  {c.subject:<20} {METRIC_WORDS[c.metric]:<14} {shown(c.estimate):>10} {shown(c.actual):>10} {error:>10}"
        )
