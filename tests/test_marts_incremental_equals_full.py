"""Every incremental mart, after a windowed run, equals a ``--full-refresh`` build of the same tables.

The demo warehouse (``tests/dbt_fixtures.py``) gets a full build of its first two days, then a
third day and a windowed build of the incremental marts over that day only, including a late
label and reviews that reach back to earlier days. ``bench/marts_check.py`` then compares each
incremental mart with the same models rebuilt from scratch into another schema: what the check
runs at volume (issue 13), here on rows small enough to build in-process.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.marts_check import MartComparison, compare_mart, drop_schema, incremental_models
from resources.warehouse import WarehouseClient
from resources.warehouse.location import parse_warehouse_url
from scout_assets.assets.dbt import INCREMENTAL
from scout_contract.paths import DBT_PROJECT_DIR
from tests.dbt_fixtures import (
    D1,
    SENTINEL_DAY,
    SENTINEL_PLATFORM,
    build_demo,
    demo_duckdb_marts,
    environment,
    release_duckdb_file,
)

pytestmark = pytest.mark.slow

FULL_SCHEMA = "analytics_full_check"


def full_refresh_in_process(url: str, work_dir: Path) -> None:
    """What ``marts_check.full_refresh_into`` runs, through dbt's in-process runner (no start-up cost)."""
    from dbt.cli.main import dbtRunner

    env = {
        **parse_warehouse_url(url).dbt_profile_env(FULL_SCHEMA),
        "DBT_TARGET_PATH": str(work_dir / "target"),
        "DBT_LOG_PATH": str(work_dir / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    with environment(env):
        outcome = dbtRunner().invoke(
            [
                *("run", "--full-refresh", "--select", f"+{INCREMENTAL}"),
                *("--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)),
            ]
        )
    release_duckdb_file()
    assert outcome.success, outcome.exception


def assert_incremental_equals_full(url: str, work_dir: Path) -> None:
    """On a demo warehouse after both builds: every incremental mart equals its full rebuild."""
    client = WarehouseClient(location=parse_warehouse_url(url))
    full_refresh_in_process(url, work_dir)
    try:
        models = incremental_models()
        assert set(models) == {
            "mart_audience_leads",
            "mart_discovery_funnel",
            "mart_keyword_performance",
            "mart_pipeline_health",
            "mart_plan_accuracy",
        }
        comparisons = {model: compare_mart(client, model, "analytics", FULL_SCHEMA) for model in models}
        assert all(c.equal for c in comparisons.values()), "\n".join(c.line() for c in comparisons.values())
        # The marts the third day's window touched hold rows, so equality is not of two empty tables.
        for model in ("mart_audience_leads", "mart_discovery_funnel", "mart_keyword_performance"):
            assert comparisons[model].incremental_rows > 0, model

        # The comparison sees a single changed value, both ways.
        client.execute(
            f"update {FULL_SCHEMA}.mart_pipeline_health set retries = retries + 1 where day = $1 and platform = $2",
            [SENTINEL_DAY, SENTINEL_PLATFORM],
        )
        changed = compare_mart(client, "mart_pipeline_health", "analytics", FULL_SCHEMA)
        assert changed == MartComparison(
            "mart_pipeline_health",
            incremental_rows=changed.full_rows,
            full_rows=changed.full_rows,
            only_incremental=1,
            only_full=1,
        )
        assert not changed.equal
    finally:
        drop_schema(client, FULL_SCHEMA)


def assert_late_review_recounted(url: str) -> None:
    """mart_keyword_performance: the third day's review of t3 (sighted on D1) reaches D1's row.

    Confirmed true on D1 for twitter / "ux research": t1 (reviewed true on D2, in the first build)
    and t3 (reviewed true on D3, only in the windowed run); t2 was sighted for "user interviews".
    """
    client = WarehouseClient(location=parse_warehouse_url(url))
    row = client.read(
        "select labels_confirmed_true, cost_usd, cost_per_confirmed_true_label"
        " from analytics.mart_keyword_performance where platform = 'twitter' and keyword = 'ux research' and day = $1",
        [D1],
    ).row(0, named=True)
    assert row["labels_confirmed_true"] == 2
    assert row["cost_per_confirmed_true_label"] == pytest.approx(row["cost_usd"] / 2, rel=1e-12)


def test_duckdb_incremental_marts_equal_their_full_rebuild(tmp_path: Path) -> None:
    assert_incremental_equals_full(demo_duckdb_marts().url, tmp_path)


def test_duckdb_a_review_in_the_window_recounts_the_older_days_its_account_was_sighted() -> None:
    assert_late_review_recounted(demo_duckdb_marts().url)


def test_postgres_incremental_marts_equal_their_full_rebuild(postgres_warehouse, tmp_path: Path) -> None:
    build_demo(postgres_warehouse.url, tmp_path)
    assert_late_review_recounted(postgres_warehouse.url)
    assert_incremental_equals_full(postgres_warehouse.url, tmp_path)
