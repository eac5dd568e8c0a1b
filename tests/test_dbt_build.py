"""The dbt project built for real on DuckDB and PostgreSQL, twice, against hand-computed marts.

The demo rows (``tests/dbt_fixtures.py``) are written through the real ``Warehouse``
resource; dbt runs with the project, profile and vars Dagster uses. The first ``dbt build`` is a
full build of days 2026-03-01/02; the second adds 2026-03-03 and builds what Dagster's
partitioned dbt asset selects (``config.materialized:incremental``) with the partition window
``min_date=2026-03-03, max_date=2026-03-04``, i.e. the incremental path. Every
expected number below is worked out from the demo rows in the comment beside it. The marts
rebuilt whole (model agreement, review queue, model comparison) are not in the second run and
stay as the first built them.
"""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from resources.warehouse import Warehouse
from scout_assets.assets.keyword_stats import audience_verdicts
from scout_contract.paths import DBT_PROJECT_DIR
from scout_contract.tables import TABLES
from tests.dbt_fixtures import (
    D1,
    D2,
    D3,
    GEMINI,
    HAIKU,
    MARTS,
    MINILM,
    SENTINEL_DAY,
    SENTINEL_PLATFORM,
    SENTINEL_RETRIES,
    THELAI,
    UX,
    WHOLE_MARTS,
    DemoBuild,
    at,
    build_demo,
    demo_duckdb_marts,
    run_dbt,
)

pytestmark = pytest.mark.slow


def read(warehouse: Warehouse, mart: str, key: tuple[str, ...]) -> dict[tuple, dict]:
    """A mart's rows keyed by ``key`` (dates as ``date``, numbers as Python numbers)."""
    return keyed(warehouse.read(f"select * from analytics.{mart}"), key)


def keyed(frame: pl.DataFrame, key: tuple[str, ...]) -> dict[tuple, dict]:
    return {tuple(row[k] for k in key): row for row in frame.iter_rows(named=True)}


def close(actual: float | None, expected: float) -> bool:
    return actual is not None and math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12)


# --- the expectations, shared by both backends --------------------------------------------------------


def check_funnel(warehouse: Warehouse) -> None:
    funnel = read(warehouse, "mart_discovery_funnel", ("day", "platform"))
    stages = (
        "pages_searched",
        "profiles_returned",
        "profiles_seen",
        "new_profiles",
        "new_above_threshold",
        "new_labeled",
        "new_true",
    )
    expected = {
        # 3 pages (3+2+2 profiles); t1..t4 seen and new; above 0.65: t1 (0.90), t2 (0.70) but not
        # t3 (exactly 0.65); both labeled; true: t1, and t2 through its late gemini label of D3.
        (D1, "twitter"): (3, 7, 4, 4, 2, 2, 2),
        # b1, b2 new; only b1 above (0.75); b1 labeled uncertain twice: not true.
        (D1, "bluesky"): (1, 2, 2, 2, 1, 1, 0),
        # t1 seen again (not new) and t5 new (0.80), labeled true.
        (D2, "twitter"): (1, 2, 2, 1, 1, 1, 1),
        # b3 new at 0.66, labeled false.
        (D2, "bluesky"): (1, 1, 1, 1, 1, 1, 0),
        # t6 new (0.85) and labeled true on its own day.
        (D3, "twitter"): (1, 1, 1, 1, 1, 1, 1),
    }
    assert set(funnel) == set(expected)
    for key, numbers in expected.items():
        assert tuple(funnel[key][s] for s in stages) == numbers, key
    assert close(funnel[(D1, "twitter")]["true_rate"], 2 / 2)
    assert close(funnel[(D1, "twitter")]["new_per_page"], 4 / 3)


def check_outreach_funnel(warehouse: Warehouse) -> None:
    """Cohorts by the day a search first found the account, as the first (full) build left them.

    The mart is rebuilt whole by full builds only; exclusions in the funnel: tests/test_lead_exports.py.
    """
    funnel = read(warehouse, "mart_outreach_funnel", ("audience", "day"))
    stages = ("leads", "reviewed", "contacted", "replied", "converted", "rejected", "excluded")
    expected = {
        (UX, D1): (3, 1, 1, 0, 0, 0, 0),  # t1 (reviewed, contacted), t2 and b1 (labeled only)
        (UX, D2): (2, 1, 0, 0, 0, 1, 0),  # t5 (labeled only); b3 reviewed, then rejected
        (THELAI, D1): (1, 0, 0, 0, 0, 0, 0),  # t1: its UX review and states are not THELAI's
    }
    assert {key: tuple(funnel[key][s] for s in stages) for key in funnel} == expected


def check_pipeline_health(warehouse: Warehouse, build: DemoBuild) -> None:
    health = read(warehouse, "mart_pipeline_health", ("day", "platform"))
    d1 = health[(D1, "twitter")]
    # Calls c1..c4: one 429 with an error (c1), c2 is its retry; latencies 100/200/300/400.
    assert (d1["api_calls"], d1["api_errors"], d1["retries"], d1["rate_limited"]) == (4, 1, 1, 1)
    assert close(d1["latency_p50_ms"], 250.0)
    assert close(d1["latency_p95_ms"], 300 + 0.85 * 100)  # position 0.95 * 3 = 2.85
    assert close(d1["latency_avg_ms"], 250.0) and close(d1["latency_max_ms"], 400.0)
    assert close(d1["api_error_rate"], 0.25)
    # Labels of D1 on twitter: t1 minilm, t1 haiku (x2 audiences), t2 minilm, t2 haiku; haiku costs 0.002.
    assert d1["labels_written"] == 5 and close(d1["label_cost_usd"], 0.006)
    assert (d1["label_failures"], d1["dead_letters"], d1["pages_fetched"]) == (1, 0, 3)
    assert close(d1["api_cost_usd"], 0.003 + 0.001) and close(d1["cost_usd"], 0.010)
    d2 = health[(D2, "twitter")]
    # c6 failed with 500 after 1000 ms, c7 retried in 120 ms: p95 = 120 + 0.95 * 880.
    assert (d2["api_calls"], d2["api_errors"], d2["retries"], d2["rate_limited"]) == (2, 1, 1, 0)
    assert close(d2["latency_p50_ms"], 560.0) and close(d2["latency_p95_ms"], 956.0)
    assert (d2["label_failures"], d2["dead_letters"], d2["labels_written"]) == (1, 1, 3)
    d3 = health[(D3, "twitter")]
    assert (d3["api_calls"], d3["labels_written"]) == (1, 2)
    assert close(d3["label_cost_usd"], 0.001) and close(d3["cost_usd"], 0.002)
    assert health[(D1, "bluesky")]["api_calls"] == 1 and close(
        health[(D1, "bluesky")]["latency_p95_ms"], 50.0
    )
    # A day with keyword cost but no call still appears, with its API cost.
    old = health[(SENTINEL_DAY, SENTINEL_PLATFORM)]
    assert old["api_calls"] == 0 and close(old["api_cost_usd"], 0.004)
    assert old["retries"] == 0
    # The windowed second run left the overwritten row (outside its window) as it was: it was
    # incremental. A full rebuild would have put the 0 back.
    assert build.sentinel_after_second_run == SENTINEL_RETRIES


def check_leads(frame: pl.DataFrame, after_second_run: bool) -> None:
    """The leads: a person's latest review overrides the models, the rest is the weighted consensus.

    Weights are (agreements with people + 1) / (reviewed overlaps + 2) per audience and model.
    After phase one the UX reviews are t1 true and b3 true (its latest review, by handle):
    minilm agrees on t1, not on b3: 2/4 = 0.5; haiku agrees on t1: 2/3; gemini not: 1/3.
    Phase two adds t5 false (minilm and haiku said true): minilm 2/5 = 0.4, haiku 2/4 = 0.5.
    """
    leads = keyed(frame, ("audience", "platform_id"))
    minilm, haiku, gemini = (0.4, 0.5, 1 / 3) if after_second_run else (0.5, 2 / 3, 1 / 3)
    t1 = leads[(UX, "t1")]
    # Reviewed true: the person's verdict. The models' consensus, minilm + haiku against gemini, agrees.
    assert (t1["verdict"], t1["verdict_source"], t1["reviewed_label"], t1["reviewed_by"]) == (
        "match",
        "review",
        True,
        "ana",
    )
    assert t1["consensus_verdict"] == "match" and t1["verdict_backed"]
    assert close(t1["weight_true"], minilm + haiku) and close(t1["weight_false"], gemini)
    assert (t1["models_labeled"], t1["votes_true"], t1["votes_false"]) == (3, 2, 1)
    assert t1["agreeing_models"] == f"{HAIKU}, {MINILM}" and t1["models_agreeing"] == 2
    assert close(t1["match_share"], 2 / 3) and close(t1["label_cost_usd"], 0.002 + 0.001)
    assert f"{GEMINI} (no_match): looks like a designer" in t1["reasons"]
    # The latest HAS is D2's, and the profile columns come along.
    assert close(t1["has"], 0.92) and t1["has_scored_on"] == D2
    assert (t1["followers"], t1["source_keywords"], t1["platform"]) == (1500, "ux research", "twitter")
    # Audiences never mix: no review and no weight learned for THELAI, haiku weighs 1/2 alone.
    thelai = leads[(THELAI, "t1")]
    assert (thelai["verdict"], thelai["verdict_source"], thelai["reviewed_label"]) == (
        "no_match",
        "consensus",
        None,
    )
    assert close(thelai["weight_false"], 0.5) and not thelai["verdict_backed"]  # one unvalidated model
    # The override: every model that labeled b3 said false; the person's latest review says true.
    b3 = leads[(UX, "b3")]
    assert (b3["verdict"], b3["verdict_source"], b3["consensus_verdict"]) == ("match", "review", "no_match")
    assert b3["reviewed_at"] == at(D2, 12) and b3["models_agreeing"] == 0 and b3["agreeing_models"] is None
    # b3 was labeled, seen and scored on D2 only: the second run recomputed it because the
    # weights of UX moved (its weights_basis changed), not because of its window.
    basis = (
        f"{HAIKU} 1/2, {GEMINI} 0/1, {MINILM} 1/3"
        if after_second_run
        else f"{HAIKU} 1/1, {GEMINI} 0/1, {MINILM} 1/2"
    )
    assert b3["weights_basis"] == basis
    # Lead state: the latest event, else reviewed when a person reviewed the account, else new.
    # t1 replied in phase two: no label, sighting or score of t1 then, the changed event found it.
    assert (t1["lead_state"], t1["lead_note"], t1["lead_state_by"], t1["lead_ever_contacted"]) == (
        ("replied", "keen", "ana", True) if after_second_run else ("contacted", "DM'd", "ana", True)
    )
    assert t1["lead_state_at"] == (at(D3, 9) if after_second_run else at(D2, 14))
    assert (b3["lead_state"], b3["lead_ever_contacted"]) == ("rejected", False)
    assert (thelai["lead_state"], thelai["lead_state_at"]) == ("new", None)  # another audience
    if after_second_run:
        assert (leads[(UX, "t5")]["lead_state"], leads[(UX, "t5")]["lead_state_at"]) == (
            "reviewed",
            at(D3, 10),
        )
    # b1: two null votes; the null label has the largest weight.
    b1 = leads[(UX, "b1")]
    assert (b1["verdict"], b1["models_agreeing"], b1["verdict_backed"]) == ("uncertain", 2, True)
    assert close(b1["weight_uncertain"], minilm + haiku) and b1["lead_state"] == "new"
    t2 = leads[(UX, "t2")]
    t5 = leads[(UX, "t5")]
    if after_second_run:
        # minilm false (0.4), haiku null (0.5), gemini's late true (1/3): the null weight is largest.
        assert (t2["verdict"], t2["votes_true"], t2["votes_false"], t2["votes_uncertain"]) == (
            "uncertain",
            1,
            1,
            1,
        )
        assert close(t2["weight_uncertain"], haiku) and t2["agreeing_models"] == HAIKU
        # t5: reviewed false in phase two (a review carries no partition day) against two true models.
        assert (t5["verdict"], t5["verdict_source"], t5["consensus_verdict"]) == (
            "no_match",
            "review",
            "match",
        )
        t6 = leads[(UX, "t6")]
        # Only minilm, unvalidated: the verdict stands in the list but is not backed.
        assert (t6["verdict"], t6["verdict_backed"], t6["models_labeled"]) == ("match", False, 1)
        # t3: no model labeled it; a person's review alone makes it a lead.
        t3 = leads[(UX, "t3")]
        assert (t3["verdict"], t3["verdict_source"], t3["models_labeled"], t3["consensus_verdict"]) == (
            "match",
            "review",
            0,
            None,
        )
        assert t3["handle"] == "cy_edge" and close(t3["has"], 0.65)
        assert len(leads) == 8
    else:
        # minilm false (0.5) against haiku null (2/3): uncertain, where counting votes said no_match.
        assert (t2["verdict"], t2["agreeing_models"]) == ("uncertain", HAIKU)
        assert (t5["verdict"], t5["verdict_source"]) == ("match", "consensus")
        assert close(t5["weight_true"], minilm + haiku) and t5["verdict_backed"]  # two models
        assert len(leads) == 6
    # The unmatched review (a handle no profile has) leads nowhere.
    assert all(row["handle"] != "zed_unknown" for row in leads.values())


def check_model_agreement(warehouse: Warehouse) -> None:
    """Agreement with people, as the first (full) build left it: reviews t1 true, b3 true."""
    models = read(warehouse, "mart_model_agreement", ("audience", "model"))
    minilm = models[(UX, MINILM)]
    # minilm voted t1 true (agrees), b3 false (the person said true).
    assert (minilm["labels"], minilm["reviewed"], minilm["agreements"]) == (5, 2, 1)
    assert close(minilm["agreement_rate"], 0.5) and close(minilm["weight"], 2 / 4)
    assert (minilm["people_true"], minilm["model_true"], minilm["both_true"]) == (2, 1, 1)
    assert close(minilm["precision_true"], 1.0) and close(minilm["recall_true"], 0.5)
    assert not minilm["validated"] and minilm["validated_min_reviews"] == 20
    haiku = models[(UX, HAIKU)]
    assert (haiku["reviewed"], haiku["agreements"]) == (1, 1) and close(haiku["weight"], 2 / 3)
    gemini = models[(UX, GEMINI)]
    assert (gemini["reviewed"], gemini["agreements"]) == (1, 0) and close(gemini["weight"], 1 / 3)
    assert gemini["precision_true"] is None and close(gemini["recall_true"], 0.0)
    unreviewed = models[(THELAI, HAIKU)]
    assert (unreviewed["reviewed"], unreviewed["agreement_rate"]) == (0, None) and close(
        unreviewed["weight"], 0.5
    )
    assert len(models) == 4


def check_review_queue(warehouse: Warehouse) -> None:
    """The queue as the first build left it: the unreviewed labeled accounts, most uncertain first.

    p(true) = (sum(weight * belief) + 0.25) / (sum(weight) + 0.5); priority = H(p) + 0.2 *
    disagreement + 0.1 * HAS of a match. Weights: minilm 1/2, haiku 2/3 (UX), haiku 1/2 (THELAI).
    """
    queue = warehouse.read("select * from analytics.mart_review_queue order by audience, queue_rank")
    ux = queue.filter(pl.col("audience") == UX)
    # b1: two null votes, p = 0.5, a coin flip (1 bit); t2: minilm false, haiku null, p = 0.35;
    # t5: minilm and haiku true, p = 0.85, a lead (HAS 0.80). Reviewed t1 and b3 are not queued.
    assert ux["platform_id"].to_list() == ["b1", "t2", "t5"]
    b1, t2, t5 = ux.iter_rows(named=True)
    assert close(b1["priority"], 1.0) and b1["consensus_label"] is None
    p_t2 = (0.5 * 0 + (2 / 3) * 0.5 + 0.25) / (0.5 + 2 / 3 + 0.5)
    assert close(t2["priority"], entropy(p_t2)) and not t2["models_disagree"]
    p_t5 = (0.5 + 2 / 3 + 0.25) / (0.5 + 2 / 3 + 0.5)
    assert close(t5["priority"], entropy(p_t5) + 0.1 * 0.80) and t5["consensus_label"] is True
    assert t5["why"] == "p(true) 0.85 from 2 model(s); an unreviewed lead, HAS 0.80"
    assert (t5["handle"], t5["followers"], t5["bio"]) == ("eve_ops", 900, "eve_ops does user research")
    thelai = queue.filter(pl.col("audience") == THELAI).row(0, named=True)
    assert thelai["why"] == "p(true) 0.25 from 1 model(s); rests on one unvalidated model"
    assert queue.height == 4


def entropy(p: float) -> float:
    """Binary entropy in bits."""
    return -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


def check_python_consensus(warehouse: Warehouse) -> None:
    """The keyword_stats asset's verdicts (consensus.py over the tables) equal the leads mart's."""
    python = keyed(audience_verdicts(warehouse, (UX, THELAI)), ("audience", "platform", "platform_id"))
    mart = read(warehouse, "mart_audience_leads", ("audience", "platform", "platform_id"))
    # The mart leaves excluded accounts out (do-not-contact); the Python verdicts are not leads lists.
    excluded = set(warehouse.read("select platform, platform_id from excluded_accounts").rows())
    assert {key for key in python if key[1:] not in excluded} == set(mart)
    for key, row in mart.items():
        mine = python[key]
        for column in ("verdict", "verdict_source", "verdict_backed", "consensus_verdict", "models_labeled"):
            assert mine[column] == row[column], (key, column)
        for column in ("weight_true", "weight_false", "weight_uncertain"):
            assert close(mine[column], row[column]) or mine[column] == row[column] == 0, (key, column)


def check_model_comparison(warehouse: Warehouse) -> None:
    """A full-rebuild mart: the second (incremental-only) run left it as the first built it."""
    models = read(warehouse, "mart_model_comparison", ("audience", "model", "compared_with"))
    # haiku vs minilm share t1 (T,T), t2 (null,F), t5 (T,T), b1 (null,null): 3 of 4 agree;
    # decided on both sides: t1, t5, both agree.
    pair = models[(UX, HAIKU, MINILM)]
    assert (pair["shared_profiles"], pair["agreements"]) == (4, 3) and close(pair["agreement_rate"], 0.75)
    assert (pair["shared_decided"], pair["decided_agreements"]) == (2, 2)
    assert models[(UX, MINILM, HAIKU)]["agreements"] == 3  # symmetric
    # gemini vs minilm share t1 only: gemini false, minilm true.
    split = models[(UX, GEMINI, MINILM)]
    assert (split["shared_profiles"], split["agreements"]) == (1, 0)
    assert (split["only_model_true"], split["only_compared_true"]) == (0, 1)
    # Per-model columns: haiku labeled t1, t2, t5, b1 for UX at 0.002 each; 2 true.
    haiku = models[(UX, HAIKU, HAIKU)]
    assert (haiku["labels"], haiku["labels_true"], haiku["labels_uncertain"]) == (4, 2, 2)
    assert close(haiku["agreement_rate"], 1.0)
    assert close(haiku["cost_per_label"], 0.002) and close(haiku["cost_per_true_label"], 0.004)
    assert close(haiku["agreement_with_reference"], 0.75)
    minilm = models[(UX, MINILM, MINILM)]
    # t1 T, t2 F, t5 T, b1 null, b3 F.
    assert (minilm["labels"], minilm["labels_true"], minilm["labels_false"]) == (5, 2, 2)
    assert close(minilm["cost_per_label"], 0.0) and close(minilm["agreement_with_reference"], 1.0)
    gemini = models[(UX, GEMINI, GEMINI)]
    assert (gemini["label_failures"], gemini["dead_letters"]) == (2, 1)
    assert close(gemini["agreement_with_reference"], 0.0)
    # No local-minilm label for the second audience: nothing to compare with.
    assert models[(THELAI, HAIKU, HAIKU)]["agreement_with_reference"] is None
    assert len(models) == 10  # UX: 3 models -> 9 ordered pairs; THELAI: haiku alone


def check_keyword_performance(warehouse: Warehouse) -> None:
    keywords = read(warehouse, "mart_keyword_performance", ("platform", "keyword", "day"))
    ux = keywords[("twitter", "ux research", D1)]
    # cost 0.007 over 3 new profiles and 2 true labels; 2 true of 3 decided labels; 3 new on 2 pages.
    assert close(ux["cost_per_new_profile"], 0.007 / 3) and close(ux["cost_per_true_label"], 0.0035)
    assert close(ux["true_label_rate"], 2 / 3) and close(ux["new_per_page"], 1.5)
    # 3 new in the 7 days to D1 against 10 on 2026-02-20 (9 days earlier): falling.
    assert (ux["new_profiles_7d"], ux["new_profiles_prev_7d"], ux["trend"]) == (3, 10, "falling")
    assert (ux["pages_searched_total"], ux["tags"]) == (2, "#ux")
    # Bluesky: 2 new against 1 on 2026-02-22 (7 days earlier): rising by more than 20 %.
    assert keywords[("bluesky", "ux research", D1)]["trend"] == "rising"
    late = keywords[("twitter", "user interviews", D3)]
    # D1's 1 new + D3's 1 new, nothing the week before: new; its state says exhausted.
    assert (late["new_profiles_7d"], late["new_profiles_prev_7d"], late["trend"]) == (2, 0, "new")
    assert (late["exhausted"], late["still_valid"], late["pages_searched_total"]) == (True, False, 2)
    assert close(late["cost_per_true_label"], 0.001)
    # Without a true label there is no cost per true label (not a division by zero).
    assert keywords[("bluesky", "ux research", D1)]["cost_per_true_label"] is None


def check_all(warehouse: Warehouse, build: DemoBuild) -> None:
    for run in (build.first_build, build.second_build):
        assert set(run.statuses.values()) <= {"success", "pass"}, run.log  # no error, failure or warning
    models = [uid for uid in build.first_build.statuses if uid.startswith("model.")]
    # every staging view, intermediate view and mart of the project (one .sql file each)
    assert len(models) == len(list((DBT_PROJECT_DIR / "models").rglob("*.sql")))
    assert len(build.first_build.statuses) - len(models) > 140  # and every data test
    # The second run built exactly the four growing marts (and their tests), incrementally.
    built = sorted(uid for uid in build.second_build.statuses if uid.startswith("model."))
    assert built == sorted(f"model.scout.{mart}" for mart in MARTS if mart not in WHOLE_MARTS)
    assert "OK created sql incremental model analytics.mart_discovery_funnel" in build.second_build.log
    check_leads(build.leads_after_first_run, after_second_run=False)
    check_funnel(warehouse)
    check_outreach_funnel(warehouse)
    check_pipeline_health(warehouse, build)
    check_leads(warehouse.read("select * from analytics.mart_audience_leads"), after_second_run=True)
    check_model_comparison(warehouse)
    check_model_agreement(warehouse)
    check_review_queue(warehouse)
    check_python_consensus(warehouse)
    check_keyword_performance(warehouse)


# --- DuckDB -------------------------------------------------------------------------------------------


def test_duckdb_build_twice_matches_hand_computed_marts():
    demo = demo_duckdb_marts()
    check_all(Warehouse(url=demo.url), demo.build)


def test_marts_are_tables_and_staging_are_views_in_the_analytics_schema():
    import duckdb

    demo = demo_duckdb_marts()
    with duckdb.connect(str(demo.path), read_only=True) as con:
        kinds = dict(
            con.execute(
                "select table_name, table_type from information_schema.tables where table_schema = 'analytics'"
            ).fetchall()
        )
    assert {name: kinds.get(name) for name in MARTS} == dict.fromkeys(MARTS, "BASE TABLE")
    staging = {name: kind for name, kind in kinds.items() if name.startswith("stg_")}
    staging_files = {path.stem for path in (DBT_PROJECT_DIR / "models" / "staging").glob("stg_*.sql")}
    assert set(staging) == staging_files and set(staging.values()) == {"VIEW"}
    intermediate = {name: kind for name, kind in kinds.items() if name.startswith("int_")}
    intermediate_files = {
        path.stem for path in (DBT_PROJECT_DIR / "models" / "intermediate").glob("int_*.sql")
    }
    assert set(intermediate) == intermediate_files
    assert set(intermediate.values()) == {"VIEW"}


def test_docs_generate_writes_the_site_with_mart_descriptions():
    demo = demo_duckdb_marts()
    run_dbt(demo.url, demo.work_dir, "docs", "generate")
    target = demo.work_dir / "target"
    assert (target / "index.html").stat().st_size > 0
    catalog = json.loads((target / "catalog.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    leads = "model.scout.mart_audience_leads"
    assert "verdict" in catalog["nodes"][leads]["columns"]  # the catalog saw the built table
    assert "consensus" in manifest["nodes"][leads]["description"]
    # Every source table names the Dagster asset that writes it (the lineage edge for dagster-dbt).
    writers = {
        source["name"]: source["config"]["meta"]["dagster"]["asset_key"]
        for source in manifest["sources"].values()
    }
    assert writers["api_calls"] == ["raw_searches"] and writers["dead_letters"] == ["llm_labels"]
    assert writers["quarantined_rows"] == ["profiles"]
    assert writers["circuit_breakers"] == ["raw_searches"]
    assert writers["reviews"] == ["reviews"] and writers["labeler_fits"] == ["local_labeler"]
    # Every source is a table of the warehouse contract, and each names a writer.
    assert set(writers) <= set(TABLES) and all(writers.values())
    assert writers["model_calls"] == ["llm_labels"] and writers["run_plans"] == ["run_plans"]


def test_source_freshness_reports_the_ledgers_as_stale():
    demo = demo_duckdb_marts()
    # The demo's newest page was fetched on 2026-03-03: days ago, so dbt must call it an error.
    run = run_dbt(demo.url, demo.work_dir, "source", "freshness", check=False)
    sources = json.loads((demo.work_dir / "target" / "sources.json").read_text())
    status = {r["unique_id"].rsplit(".", 1)[1]: r for r in sources["results"]}
    assert set(status) == {"raw_searches", "api_calls"}
    assert status["raw_searches"]["max_loaded_at"].startswith("2026-03-03T09:01")
    expected = "error" if date.today() > date(2026, 3, 6) else "pass"
    assert {r["status"] for r in status.values()} <= {expected, "warn"}
    assert run.success == (expected != "error")


def test_a_malformed_window_fails_naming_the_variable():
    demo = demo_duckdb_marts()
    run = run_dbt(
        demo.url,
        demo.work_dir,
        "compile",
        "--select",
        "mart_pipeline_health",
        "--vars",
        '{"min_date": "03/01/2026", "max_date": "2026-03-02"}',
        check=False,
    )
    assert not run.success
    assert "dbt var min_date must be a date written YYYY-MM-DD, got '03/01/2026'" in run.log


# --- PostgreSQL ---------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_build_twice_matches_hand_computed_marts(postgres_warehouse: Warehouse, tmp_path: Path):
    url = postgres_warehouse.url
    assert url is not None
    check_all(postgres_warehouse, build_demo(url, tmp_path))
    # PostgreSQL returns counts as BIGINT, not NUMERIC: the marts cast their sums.
    funnel = postgres_warehouse.read(
        "select new_true, profiles_returned from analytics.mart_discovery_funnel"
    )
    assert funnel.schema["new_true"] == pl.Int64 and funnel.schema["profiles_returned"] == pl.Int64


def test_dagster_dbt_draws_the_edges_from_the_python_assets():
    """The contract the lead's @dbt_assets rely on: split by materialization, sources -> Python asset keys.

    Several tables written by one asset map to that asset's key, which dagster-dbt rejects
    unless ``enable_duplicate_source_asset_keys`` is set.
    """
    import dagster as dg
    from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, dbt_assets

    manifest = demo_duckdb_marts().work_dir / "target" / "manifest.json"
    translator = DagsterDbtTranslator(DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True))

    @dbt_assets(
        manifest=manifest, select="config.materialized:incremental", dagster_dbt_translator=translator
    )
    def partitioned(context): ...

    @dbt_assets(
        manifest=manifest, exclude="config.materialized:incremental", dagster_dbt_translator=translator
    )
    def unpartitioned(context): ...

    assert {key.path[-1] for key in partitioned.keys} == set(MARTS) - set(WHOLE_MARTS)
    upstream = {
        dep for assets in (partitioned, unpartitioned) for deps in assets.asset_deps.values() for dep in deps
    }
    python_assets = {key for key in upstream if not key.path[-1].startswith(("stg_", "int_", "mart_"))}
    assert python_assets == {
        dg.AssetKey(name)
        for name in (
            "raw_searches",
            "keywords",
            "profiles",
            "has_scores",
            "profiles_to_score",
            "llm_labels",
            "keyword_stats",
            "reviews",  # people write it (dashboard, `scout review import`)
            "local_labeler",  # labeler_fits
            "run_plans",  # `scout run` writes its plan before running
            "lead_events",  # people write it (`scout lead set`, dashboard, API)
        )
    }
