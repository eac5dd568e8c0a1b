"""The plan before a run (``scout plan``, ``scout run --dry-run``) and how good it was.

- On a hand-built warehouse (DuckDB and PostgreSQL), the plan's figures equal the arithmetic done
  here by hand: targets from the keyword engine, calls per page, new profiles and true labels per
  keyword from ``keyword_stats``, the prior for a keyword without history, the distinct share, the
  queue rate, the cascade's expected labels and dollars, and the budgets (fitting and not).
- Estimate vs actual: ``plan_comparisons`` (the run summary) and ``mart_plan_accuracy`` give the
  hand-computed actuals of hand-built plans and ledgers.
- End to end (slow): ``scout plan`` and ``scout run --dry-run`` send nothing to the loopback
  sandbox or the loopback LLM server (each counts what it receives, and a control shows each does
  receive a real call), while a real ``scout run`` records its plan, prints estimate and actual,
  and feeds ``mart_plan_accuracy``.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import yaml

from resources.models.registry import MODELS_FILE
from resources.warehouse import Warehouse
from scout_assets.labeling.cascade import CALL_INPUT_TOKENS, PROFILE_INPUT_TOKENS, PROFILE_OUTPUT_TOKENS
from scout_assets.spend.plan import (
    BudgetLine,
    Figure,
    ModelInput,
    model_plans,
)
from scout_cli.plan import format_plan, gather_plan, plan_comparisons
from tests.dbt_fixtures import rows, run_dbt

DAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 12, 0)
KEY_VARIABLES = ("ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GROQ_API_KEY")
GEMINI_IN, GEMINI_OUT = 1.0e-7, 4.0e-7  # models.yaml's gemini-flash-2.0 prices
KEYWORD_FILE = """keyword,platforms,tags,enabled
alpha,*,,true
beta,*,,true
delta,*,,true
gamma,*,,true
epsilon,*,,true
"""


@pytest.fixture
def plan_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A keyword file of our own, no model key, no budget override."""
    keywords = tmp_path / "keywords.csv"
    keywords.write_text(KEYWORD_FILE)
    monkeypatch.setenv("SCOUT_KEYWORD_FILE", str(keywords))
    for name in KEY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in [n for n in os.environ if n.startswith("SCOUT_BUDGET_")]:
        monkeypatch.delenv(name)


def _stat(keyword: str, day: date, pages: int, calls: int, new: int, true: int) -> dict:
    return {
        "platform": "twitter",
        "keyword": keyword,
        "day": day,
        "searches": pages,
        "pages": pages,
        "api_calls": calls,
        "new_profiles": new,
        "labels_true": true,
        "labels_false": 0,
    }


def _profile(pid: str, first: date, bio: str = "qualitative researcher") -> dict:
    return {
        "platform": "twitter",
        "platform_id": pid,
        "handle": f"h{pid}",
        "name": f"Name {pid}",
        "bio": bio,
        "first_partition_date": first,
        "last_partition_date": first,
        "first_seen_at": datetime.combine(first, datetime.min.time()) + timedelta(hours=9),
    }


def _score(pid: str, day: date, queued: bool) -> dict:
    return {"platform": "twitter", "platform_id": pid, "partition_date": day, "has": 0.8, "is_queued": queued}


def _label(pid: str, day: date, model: str, label: bool | None, deferred: bool | None) -> dict:
    return {
        "platform": "twitter",
        "platform_id": pid,
        "handle": f"h{pid}",
        "model": model,
        "audience": "thelai_customers.v3",
        "partition_date": day,
        "label": label,
        "deferred": deferred,
        "cost_usd": 0.0,
        "labeled_at": datetime.combine(day, datetime.min.time()) + timedelta(hours=10),
    }


def seed_history(warehouse: Warehouse) -> None:
    """The hand-built history the expected figures below are computed from.

    keyword_stats (twitter), window 2026-03-04..2026-03-10:
      alpha: 03-08 2 pages, 2 calls, 30 new, 3 true; 03-09 1 page, 2 calls, 6 new, 1 true
      beta:  03-09 1 page, 1 call, 10 new, 0 true
      gamma: 03-01 only (outside the window): no history -> the prior
    raw_searches: delta's one page returned no cursor -> exhausted, never a target.
    profiles: 23 first seen in the window (10 queued with a bio, 1 queued without a bio, 12 not
    queued), q1..q3 first seen 03-01 and queued again today (the backlog).
    llm_labels of local-minilm: 8 in the window (3 deferred, 1 deferred null, 4 not), q3 today
    (deferred), one on 03-01 (outside).
    """
    warehouse.ensure_schema()
    frames: dict[str, pl.DataFrame] = {
        "keyword_stats": rows(
            "keyword_stats",
            _stat("alpha", date(2026, 3, 8), 2, 2, 30, 3),
            _stat("alpha", date(2026, 3, 9), 1, 2, 6, 1),
            _stat("beta", date(2026, 3, 9), 1, 1, 10, 0),
            _stat("gamma", date(2026, 3, 1), 5, 5, 100, 9),
        ),
        "raw_searches": rows(
            "raw_searches",
            {
                "request_id": "r-delta",
                "platform": "twitter",
                "keyword": "delta",
                "partition_date": date(2026, 3, 9),
                "page": 0,
                "cursor_out": None,
                "result_count": 3,
                "fetched_at": datetime(2026, 3, 9, 8),
            },
        ),
    }
    profiles, scores = [], []
    for i in range(23):
        pid = f"n{i:02d}"
        first = date(2026, 3, 5) + timedelta(days=i % 5)
        profiles.append(_profile(pid, first, bio="" if i == 10 else "qualitative researcher"))
        scores.append(_score(pid, first, queued=i <= 10))  # n00..n09 queued with a bio, n10 without
    profiles.append(_profile("old", date(2026, 3, 1)))
    for pid in ("q1", "q2", "q3"):
        profiles.append(_profile(pid, date(2026, 3, 1)))
        scores.append(_score(pid, DAY, queued=True))
    frames["profiles"] = rows("profiles", *profiles)
    frames["has_scores"] = rows("has_scores", *scores)
    frames["profiles_to_score"] = rows(
        "profiles_to_score",
        *[
            {
                "platform": "twitter",
                "platform_id": pid,
                "partition_date": DAY,
                "handle": f"h{pid}",
                "has": 0.8,
            }
            for pid in ("q1", "q2", "q3")
        ],
    )
    deferred = [True, True, True, None, False, False, False, False]
    frames["llm_labels"] = rows(
        "llm_labels",
        *[_label(f"n{i:02d}", date(2026, 3, 6), "local-minilm", False, d) for i, d in enumerate(deferred)],
        _label("q3", DAY, "local-minilm", True, True),
        _label("old", date(2026, 3, 1), "local-minilm", True, True),
    )
    with warehouse.transaction() as tx:
        for name, frame in frames.items():
            tx.append(name, frame)


# The hand computation, shared by the tests below (pages = 3 targets x 2 pages).
PAGES = 6
CALLS_PER_PAGE = (2 + 2 + 1) / (2 + 1 + 1)  # the platform's calls / pages in the window
PRIOR_NEW, PRIOR_TRUE = (30 + 6 + 10) / 4, (3 + 1 + 0) / 4  # twitter's pooled rate per page: 11.5, 1.0
KEYWORD_NEW = {"alpha": 2 * 36 / 3, "beta": 2 * 10 / 1, "gamma": 2 * PRIOR_NEW}
KEYWORD_TRUE = {"alpha": 2 * 4 / 3, "beta": 0.0, "gamma": 2 * PRIOR_TRUE}
DISTINCT = 23 / 46  # distinct new profiles of the window / new profiles counted per keyword
QUEUE_RATE = 10 / 23
DEFERRED = (4 + 1) / (8 + 1)  # deferred or null among local-minilm's 9 labels of the window


def expected_new_units(share: float = 1.0) -> float:
    return sum(KEYWORD_NEW.values()) * DISTINCT * share * QUEUE_RATE


@pytest.mark.usefixtures("plan_env")
def test_the_plan_of_a_seeded_warehouse_matches_the_hand_computation(warehouse: Warehouse, monkeypatch):
    seed_history(warehouse)
    monkeypatch.setenv("GEMINI_API_KEY", "test-key-not-used")  # gemini can run: it gets the deferred units
    plan = gather_plan(warehouse, ["twitter"], 3, 2, command="scout plan", now=NOW)

    (twitter,) = plan.platforms
    assert [k.keyword for k in twitter.keywords] == ["alpha", "beta", "gamma"]  # delta is exhausted
    assert [k.source for k in twitter.keywords] == ["history", "history", "prior"]
    assert twitter.pages == PAGES
    assert twitter.planned_calls == pytest.approx(PAGES * CALLS_PER_PAGE)  # 7.5
    assert twitter.expected_usd == pytest.approx(7.5 * 0.0002)  # budgets.yaml's price per request
    assert twitter.prior.new_per_page == pytest.approx(11.5) and twitter.prior.true_per_page == pytest.approx(
        1.0
    )
    for k in twitter.keywords:
        assert k.expected_new == pytest.approx(KEYWORD_NEW[k.keyword])
        assert k.expected_true == pytest.approx(KEYWORD_TRUE[k.keyword])
    assert twitter.distinct_share.value == pytest.approx(DISTINCT)
    assert twitter.queue_rate.value == pytest.approx(QUEUE_RATE)
    assert twitter.expected_new == pytest.approx(67 * 0.5)
    assert twitter.expected_true == pytest.approx((8 / 3 + 2) * 0.5)

    assert plan.deferred.value == pytest.approx(DEFERRED)
    models = {m.alias: m for m in plan.models}
    local, gemini = models["local-minilm"], models["gemini-flash-2.0"]
    assert local.model.backlog == 2  # q1, q2 (q3 is labeled)
    local_labels = 1.0 * min(32 * 8, 2 + expected_new_units())
    assert local.expected_labels == pytest.approx(local_labels)
    assert gemini.model.backlog == 1  # q3: deferred by the local labeler, not labeled by gemini
    gemini_units = 1 + local_labels * DEFERRED  # 10.2...: under one batch of 15
    assert gemini.expected_labels == pytest.approx(0.4 * gemini_units)
    per_profile = PROFILE_INPUT_TOKENS * GEMINI_IN + PROFILE_OUTPUT_TOKENS * GEMINI_OUT
    assert gemini.expected_usd == pytest.approx(
        0.4 * (CALL_INPUT_TOKENS * GEMINI_IN + gemini_units * per_profile)
    )
    assert gemini.max_usd == pytest.approx(CALL_INPUT_TOKENS * GEMINI_IN + 15 * per_profile)
    assert models["claude-haiku-4.5"].expected_labels == 0.0  # no key here
    assert plan.fits and all(line.verdict == "fits" for line in plan.budgets)
    assert {(b.name, b.field) for b in plan.budgets} >= {
        ("twitter", "calls_per_run"),
        ("gemini-flash-2.0", "usd_per_run"),
    }


@pytest.mark.usefixtures("plan_env")
def test_budgets_that_do_not_fit_are_reported_and_cut_the_estimate(warehouse: Warehouse, monkeypatch):
    seed_history(warehouse)
    # 3 calls already today; the day's cap leaves 8 - 3 = 5 of the 7.5 planned calls, the run's 6.
    warehouse.append(
        "api_calls",
        rows(
            "api_calls",
            *[
                {
                    "call_id": f"c{i}",
                    "platform": "twitter",
                    "called_at": datetime(2026, 3, 10, 8, i),
                    "partition_date": DAY,
                    "cost_usd": 0.0002,
                }
                for i in range(3)
            ],
        ),
    )
    monkeypatch.setenv("SCOUT_BUDGET_TWITTER_CALLS_PER_RUN", "6")
    monkeypatch.setenv("SCOUT_BUDGET_TWITTER_CALLS_PER_DAY", "8")
    plan = gather_plan(warehouse, ["twitter"], 3, 2, command="scout plan", now=NOW)

    verdicts = {b.field: b for b in plan.budgets if b.name == "twitter"}
    assert verdicts["calls_per_run"].verdict == "exceeds" and verdicts[
        "calls_per_run"
    ].expected == pytest.approx(7.5)
    assert verdicts["calls_per_day"].verdict == "exceeds" and verdicts["calls_per_day"].used == 3
    assert verdicts["usd_per_day"].verdict == "fits"
    assert not plan.fits
    (twitter,) = plan.platforms
    assert twitter.share == pytest.approx(5 / 7.5)  # the tightest cap binds
    assert twitter.expected_calls == pytest.approx(5.0)
    assert twitter.expected_new == pytest.approx(67 * 0.5 * 5 / 7.5)
    text = format_plan(plan, warehouse.describe())
    assert "EXCEEDS    platform twitter calls_per_day: expected 8 + 3 used this day of cap 8" in text
    assert "Fits the budgets: NO (twitter calls_per_run, twitter calls_per_day" in text
    assert "twitter calls_per_day leaves room for 5 of the 8 planned calls" in text


@pytest.mark.usefixtures("plan_env")
def test_a_platform_without_history_gets_a_stated_prior_and_says_what_it_cannot_estimate(
    warehouse: Warehouse,
):
    seed_history(warehouse)  # twitter only: bluesky has no history at all
    plan = gather_plan(warehouse, ["bluesky", "twitter"], 3, 1, command="scout plan", now=NOW)
    bluesky = plan.platforms[0]
    assert [k.keyword for k in bluesky.keywords] == ["alpha", "beta", "delta"]  # file order: never searched
    assert bluesky.prior.new_per_page == 25.0 and bluesky.prior.true_per_page is None  # the page size
    assert bluesky.calls_per_page.value == 2.0  # searchActors + one getProfiles for 25 actors
    assert bluesky.expected_new == 75.0 and bluesky.expected_true is None
    # Without bluesky's queue rate the labels rest on an unknown: not estimated, not zero.
    assert plan.models[0].expected_labels is None
    text = format_plan(plan, warehouse.describe())
    assert "prior for keywords without history: 25.00 new profiles and ? true labels per page" in text
    assert "prior for keywords without history: 11.50 new profiles and 1.000 true labels per page" in text
    assert "Could not estimate:" in text
    assert "true labels on bluesky: no keyword_stats on bluesky in 2026-03-04..2026-03-10" in text


def test_the_cascade_estimate_over_two_llms_by_hand():
    def model(alias, p, batch, cap, *, local=False, previous=None, backlog=0, call=0.0, per=0.0):
        return ModelInput(alias, True, p, batch, cap, local, previous, backlog, call, per)

    inputs = [
        model("local", 1.0, 32, 256, local=True, backlog=4),
        model("cheap", 0.5, 10, 10, backlog=2, call=0.001, per=0.0001),
        model("dear", 0.25, 5, 5, previous="cheap", call=0.01, per=0.001),
    ]
    plans = model_plans(inputs, 36.0, Figure(0.5, "test"), {"cheap": Figure(0.4, "test")})
    local, cheap, dear = plans
    assert local.expected_labels == 40.0  # 4 + 36 units, p 1
    assert cheap.units == 2 + 40 * 0.5 and cheap.expected_labels == 0.5 * 10  # the cap: one batch of 10
    assert cheap.expected_usd == pytest.approx(0.5 * (1 * 0.001 + 10 * 0.0001))
    assert dear.units == pytest.approx(5 * 0.4) and dear.expected_labels == pytest.approx(0.25 * 2)
    assert dear.expected_usd == pytest.approx(0.25 * (0.01 + 2 * 0.001))
    assert dear.max_usd == pytest.approx(0.01 + 5 * 0.001)
    unknown = model_plans(inputs, None, Figure(0.5, "test"), {})
    assert [m.expected_labels for m in unknown] == [None, None, None]
    line = BudgetLine(
        "model", "dear", "usd_per_run", "run", "usd", cap=0.012, used=0.0, expected=0.003, worst=0.015
    )
    assert line.verdict == "may exceed"


# --- estimate vs actual -----------------------------------------------------------------------------------

P1, P2 = "plan-one", "plan-two"


def _plan_row(
    plan_id: str, kind: str, subject: str, start: datetime, end: datetime | None, **expected
) -> dict:
    return {
        "plan_id": plan_id,
        "subject_kind": kind,
        "subject": subject,
        "planned_at": start,
        "finished_at": end,
        **expected,
    }


def seed_plans_and_ledgers(warehouse: Warehouse) -> None:
    """Two plans on 2026-03-10 and what happened in and around their windows.

    P1 [10:00, 10:30]: twitter expected 4 calls, $0.0008, 10 new, 1 true; local-minilm 5 labels;
       gemini 2 labels, $0.001. Actual: 3 calls ($0.0006), 8 new profiles, local 6 labels,
       gemini 2 labels and 2 call attempts ($0.0004 + $0.0003, one failed); true: t00 (a
       person's review says true) and t01 (local and gemini both true), not t02 (local alone).
    P2 [14:00, 14:20]: twitter expected 2 calls, 4 new, true not estimated. Actual: 2 calls, 5 new.
    Outside both: a call at 10:45, a profile first seen at 09:00.
    """
    warehouse.ensure_schema()
    w1, w2 = (
        (datetime(2026, 3, 10, 10), datetime(2026, 3, 10, 10, 30)),
        (datetime(2026, 3, 10, 14), datetime(2026, 3, 10, 14, 20)),
    )
    plans = [
        _plan_row(
            P1,
            "platform",
            "twitter",
            *w1,
            expected_calls=4.0,
            expected_usd=0.0008,
            expected_new_profiles=10.0,
            expected_true_labels=1.0,
        ),
        _plan_row(P1, "model", "local-minilm", *w1, expected_labels=5.0, expected_usd=0.0),
        _plan_row(P1, "model", "gemini-flash-2.0", *w1, expected_labels=2.0, expected_usd=0.001),
        _plan_row(
            P2, "platform", "twitter", *w2, expected_calls=2.0, expected_usd=0.0004, expected_new_profiles=4.0
        ),
    ]
    calls = [
        {
            "call_id": f"a{i}",
            "platform": "twitter",
            "called_at": at,
            "partition_date": DAY,
            "cost_usd": 0.0002,
        }
        for i, at in enumerate(
            [w1[0] + timedelta(minutes=m) for m in (1, 2, 3)]
            + [datetime(2026, 3, 10, 10, 45)]
            + [w2[0] + timedelta(minutes=m) for m in (1, 2)]
        )
    ]
    profiles = [
        {**_profile(f"t{i:02d}", DAY), "first_seen_at": w1[0] + timedelta(minutes=i + 1)} for i in range(8)
    ] + [{**_profile(f"u{i}", DAY), "first_seen_at": w2[0] + timedelta(minutes=i + 1)} for i in range(5)]
    profiles.append({**_profile("early", DAY), "first_seen_at": datetime(2026, 3, 10, 9)})
    in_w1 = w1[0] + timedelta(minutes=20)
    labels = [
        {**_label(f"t{i:02d}", DAY, "local-minilm", i < 3, False), "labeled_at": in_w1} for i in range(6)
    ] + [
        {**_label("t01", DAY, "gemini-flash-2.0", True, None), "labeled_at": in_w1, "cost_usd": 0.0002},
        {**_label("t03", DAY, "gemini-flash-2.0", False, None), "labeled_at": in_w1, "cost_usd": 0.0002},
        {**_label("u0", DAY, "local-minilm", True, False), "labeled_at": w2[0] + timedelta(minutes=5)},
    ]
    model_calls = [
        {
            "call_id": "m1",
            "model": "gemini-flash-2.0",
            "called_at": in_w1,
            "cost_usd": 0.0004,
            "outcome": "labeled",
        },
        {
            "call_id": "m2",
            "model": "gemini-flash-2.0",
            "called_at": in_w1,
            "cost_usd": 0.0003,
            "outcome": "failed",
        },
    ]
    review = {
        "review_id": "rv1",
        "platform": "twitter",
        "platform_id": "t00",
        "handle": "ht00",
        "bio": "qualitative researcher",
        "audience": "thelai_customers.v3",
        "label": True,
        "reviewer": "test",
        "source": "cli",
        "reviewed_at": datetime(2026, 3, 10, 11),
    }
    with warehouse.transaction() as tx:
        tx.append("run_plans", rows("run_plans", *plans))
        tx.append("api_calls", rows("api_calls", *calls))
        tx.append("profiles", rows("profiles", *profiles))
        tx.append("llm_labels", rows("llm_labels", *labels))
        tx.append("model_calls", rows("model_calls", *model_calls))
        tx.append("reviews", rows("reviews", review))


EXPECTED_ACTUALS = {
    (P1, "twitter", "api_calls"): (4.0, 3.0),
    (P1, "twitter", "platform_usd"): (0.0008, 0.0006),
    (P1, "twitter", "new_profiles"): (10.0, 8.0),
    (P1, "twitter", "true_labels"): (1.0, 2.0),
    (P1, "local-minilm", "labels"): (5.0, 6.0),
    (P1, "local-minilm", "llm_usd"): (0.0, 0.0),
    (P1, "gemini-flash-2.0", "labels"): (2.0, 2.0),
    (P1, "gemini-flash-2.0", "llm_usd"): (0.001, 0.0007),
    (P2, "twitter", "api_calls"): (2.0, 2.0),
    (P2, "twitter", "platform_usd"): (0.0004, 0.0004),
    (P2, "twitter", "new_profiles"): (4.0, 5.0),
    (P2, "twitter", "true_labels"): (None, 0.0),
}


def test_the_summary_compares_each_plan_with_the_ledgers_of_its_window(warehouse: Warehouse):
    seed_plans_and_ledgers(warehouse)
    found = {}
    for plan_id in (P1, P2):
        head, comparisons = plan_comparisons(warehouse, plan_id)
        assert head is not None
        found |= {(plan_id, c.subject, c.metric): (c.estimate, c.actual) for c in comparisons}
    assert found.keys() == EXPECTED_ACTUALS.keys()
    for key, (estimate, actual) in EXPECTED_ACTUALS.items():
        assert found[key][0] == (None if estimate is None else pytest.approx(estimate)), key
        assert found[key][1] == pytest.approx(actual), key


def test_an_open_plan_has_nothing_to_compare_yet(duckdb_warehouse: Warehouse):
    duckdb_warehouse.append(
        "run_plans",
        rows("run_plans", _plan_row("open", "platform", "twitter", NOW, None, expected_calls=1.0)),
    )
    head, comparisons = plan_comparisons(duckdb_warehouse, "open")
    assert head is not None and comparisons == []


@pytest.mark.slow
def test_mart_plan_accuracy_sums_the_plans_of_a_day(warehouse: Warehouse, tmp_path: Path):
    seed_plans_and_ledgers(warehouse)
    run_dbt(
        warehouse.url, tmp_path, "build", "--select", "+mart_plan_accuracy", "--exclude", "test_type:data"
    )
    mart = warehouse.read("select * from analytics.mart_plan_accuracy")
    got = {(r["subject"], r["metric"]): r for r in mart.to_dicts()}
    assert {r["day"] for r in mart.to_dicts()} == {DAY}
    calls = got[("twitter", "api_calls")]
    assert (calls["plans"], calls["estimate"], calls["actual"]) == (2, 6.0, 5.0)
    assert calls["error"] == pytest.approx(1.0) and calls["rel_error"] == pytest.approx(1 / 5)
    new = got[("twitter", "new_profiles")]
    assert (new["estimate"], new["actual"], new["abs_error"]) == (14.0, 13.0, 1.0)
    true = got[("twitter", "true_labels")]  # P2 did not estimate it: only P1 counts
    assert (true["plans"], true["estimate"], true["actual"]) == (1, 1.0, 2.0)
    assert true["error"] == -1.0 and true["rel_error"] == 0.5
    assert got[("local-minilm", "labels")]["actual"] == 6.0
    usd = got[("gemini-flash-2.0", "llm_usd")]
    assert usd["estimate"] == pytest.approx(0.001) and usd["actual"] == pytest.approx(0.0007)
    total = got[("all", "labels")]
    assert (total["subject_kind"], total["estimate"], total["actual"]) == ("total", 7.0, 8.0)


# --- end to end: no request during plan or dry run; a real run records and compares -----------------------


def _models_file_pointing_gemini_at(tmp_path: Path, url: str) -> Path:
    """models.yaml with gemini-flash-2.0 served by the loopback LLM server (OpenAI-compatible)."""
    data = yaml.safe_load(MODELS_FILE.read_text())
    data["models"]["gemini-flash-2.0"].update(
        {"litellm_model": "openai/fake-gemini", "provider": "openai", "api_base": url}
    )
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.slow
def test_plan_and_dry_run_call_nothing_and_a_real_run_records_its_plan(
    tmp_path, monkeypatch, capsys, sandbox
):
    from scout_assets.resources_binding import open_warehouse
    from scout_cli.main import main
    from tests.llm_server import FakeLLMServer

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("SCOUT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SCOUT_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("TWITTERX_APIKEY", raising=False)
    monkeypatch.setenv("SCOUT_TWITTER_URL", sandbox.base_url)
    monkeypatch.setenv("SCOUT_BLUESKY_URL", sandbox.base_url)
    for name in KEY_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    # A fresh clone: no warehouse yet. The plan says what it cannot know and calls nothing.
    assert main(["plan", "--keywords", "2"]) == 0
    fresh = capsys.readouterr().out
    assert "Could not estimate:" in fresh and "no keyword_stats on twitter" in fresh
    assert sandbox.requests == []

    # The first run: it reaches the sandbox, records its plan and prints estimate vs actual.
    assert main(["run", "--keywords", "2", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert sandbox.requests, "the control: a real run does reach the sandbox"
    warehouse = open_warehouse()
    plans = warehouse.read("select * from run_plans order by subject_kind desc, subject")
    assert plans["plan_id"].n_unique() == 1 and plans["finished_at"].is_not_null().all()
    assert plans.filter(pl.col("subject_kind") == "platform")["subject"].to_list() == ["bluesky", "twitter"]
    plan_id = plans["plan_id"][0]
    assert f"Plan {plan_id[:12]} at" in out and f"Plan {plan_id[:12]} vs actual" in out
    _, comparisons = plan_comparisons(warehouse, plan_id)
    actual = {(c.subject, c.metric): c for c in comparisons}
    # Every planned page is one search (X) and a search + one getProfiles (Bluesky): exact.
    assert actual[("twitter", "api_calls")].actual == actual[("twitter", "api_calls")].estimate == 2.0
    assert actual[("bluesky", "api_calls")].actual == actual[("bluesky", "api_calls")].estimate == 4.0
    calls = warehouse.read(
        "select platform, count(*) as n from api_calls group by platform order by platform"
    )
    assert calls["n"].to_list() == [4, 2]
    mart = warehouse.read("select * from analytics.mart_plan_accuracy where subject_kind <> 'total'")
    in_mart = {(r["subject"], r["metric"]): r["actual"] for r in mart.to_dicts()}
    for (subject, metric), c in actual.items():
        if c.estimate is not None:
            assert in_mart[(subject, metric)] == pytest.approx(c.actual), (subject, metric)

    # After the first run (the Done-means case), with an LLM that could run: still no request.
    before = len(sandbox.requests)
    with FakeLLMServer("good") as llm:
        models = _models_file_pointing_gemini_at(tmp_path, llm.url)
        monkeypatch.setattr("scout_cli.plan.MODELS_FILE", models)
        monkeypatch.setenv("GEMINI_API_KEY", "test-key")
        assert main(["plan", "--keywords", "2"]) == 0
        assert main(["run", "--dry-run", "--keywords", "2"]) == 0
        printed = capsys.readouterr().out
        assert len(sandbox.requests) == before and llm.requests == []
        assert "gemini-flash-2.0" in printed and "no key: cannot run here" in printed  # the others
        assert "keyword_stats" in printed and "Fits the budgets: yes" in printed
        assert (
            warehouse.read("select count(distinct plan_id) as n from run_plans")["n"][0] == 1
        )  # dry: not recorded
        # The control: a labeling call through the same models file does reach the server.
        source = tmp_path / "in.jsonl"
        source.write_text('{"handle": "a", "name": "A", "bio": "qualitative researcher"}\n')
        main(
            [
                "label",
                "--model",
                "gemini-flash-2.0",
                "--models-file",
                str(models),
                "--audience",
                "thelai_customers.v3",
                "--input",
                str(source),
                "--output",
                str(tmp_path / "out.jsonl"),
            ]
        )
        assert llm.requests, "the control: a real model call reaches the loopback server"


@pytest.mark.usefixtures("plan_env")
def test_bad_input_stops_the_plan_naming_what_is_wrong(monkeypatch, capsys):
    from scout_cli.main import main

    assert main(["plan", "--platforms", "mastodon"]) == 2
    assert (
        "--platforms: unknown platform(s) ['mastodon']; known: ['bluesky', 'twitter']"
        in capsys.readouterr().err
    )
    monkeypatch.setenv("SCOUT_BUDGET_TWITTER_CALLS_PER_DAY", "1.5")
    assert main(["run", "--dry-run", "--platforms", "twitter"]) == 2
    assert "SCOUT_BUDGET_TWITTER_CALLS_PER_DAY='1.5' is not a whole number" in capsys.readouterr().err
