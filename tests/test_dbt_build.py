"""The dbt project built for real on DuckDB and PostgreSQL, twice, against hand-computed marts.

The demo rows (``tests/dbt_fixtures.py``) are written through the real ``Warehouse``
resource; dbt runs with the project, profile and vars Dagster uses. The first ``dbt build`` is a
full build of days 2026-03-01/02; the second adds 2026-03-03 and builds what Dagster's
partitioned dbt asset selects (``config.materialized:incremental``) with the partition window
``min_date=2026-03-03, max_date=2026-03-04``, i.e. the incremental path. Every
expected number below is worked out from the demo rows in the comment beside it.
"""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from resources.warehouse import Warehouse
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
    DemoBuild,
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
    leads = keyed(frame, ("audience", "platform_id"))
    t1 = leads[(UX, "t1")]
    # minilm true, haiku true, gemini false: 2 > 1, match; the two true models agree.
    assert (t1["verdict"], t1["models_labeled"], t1["votes_true"], t1["votes_false"]) == ("match", 3, 2, 1)
    assert t1["agreeing_models"] == f"{HAIKU}, {MINILM}" and t1["models_agreeing"] == 2
    assert close(t1["match_share"], 2 / 3) and close(t1["label_cost_usd"], 0.002 + 0.001)
    assert f"{GEMINI} (no_match): looks like a designer" in t1["reasons"]
    # The latest HAS is D2's, and the profile columns come along.
    assert close(t1["has"], 0.92) and t1["has_scored_on"] == D2
    assert (t1["followers"], t1["source_keywords"], t1["platform"]) == (1500, "ux research", "twitter")
    assert leads[(THELAI, "t1")]["verdict"] == "no_match"  # audiences never mix
    b1 = leads[(UX, "b1")]
    assert (b1["verdict"], b1["models_agreeing"]) == ("uncertain", 2)  # two nulls: a tie at 0-0
    assert leads[(UX, "t5")]["verdict"] == "match" and leads[(UX, "b3")]["verdict"] == "no_match"
    t2 = leads[(UX, "t2")]
    if after_second_run:
        # gemini's late true (D3) against minilm's false: a 1-1 tie; only haiku (null) agrees.
        assert (t2["verdict"], t2["votes_true"], t2["votes_false"], t2["votes_uncertain"]) == (
            "uncertain",
            1,
            1,
            1,
        )
        assert t2["agreeing_models"] == HAIKU
        assert leads[(UX, "t6")]["verdict"] == "match"
        assert len(leads) == 7
    else:
        assert (t2["verdict"], t2["agreeing_models"]) == ("no_match", MINILM)
        assert len(leads) == 6


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
    assert len(build.first_build.statuses) == 19 + 80  # every model and data test
    # The second run built exactly the four growing marts (and their tests), incrementally.
    built = sorted(uid for uid in build.second_build.statuses if uid.startswith("model."))
    assert built == sorted(f"model.scout.{mart}" for mart in MARTS if mart != "mart_model_comparison")
    assert "OK created sql incremental model analytics.mart_discovery_funnel" in build.second_build.log
    check_leads(build.leads_after_first_run, after_second_run=False)
    check_funnel(warehouse)
    check_pipeline_health(warehouse, build)
    check_leads(warehouse.read("select * from analytics.mart_audience_leads"), after_second_run=True)
    check_model_comparison(warehouse)
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
    assert len(staging) == 14 and set(staging.values()) == {"VIEW"}


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
    assert len(writers) == 14


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

    assert {key.path[-1] for key in partitioned.keys} == set(MARTS) - {"mart_model_comparison"}
    upstream = {
        dep for assets in (partitioned, unpartitioned) for deps in assets.asset_deps.values() for dep in deps
    }
    python_assets = {key for key in upstream if not key.path[-1].startswith(("stg_", "mart_"))}
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
        )
    }
