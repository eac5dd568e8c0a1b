"""The dbt project run by Dagster on the graph's real output: marts built, tests as asset checks.

Seeds the warehouse with the real search graph against the sandbox and labels from a loopback
model server, then materializes the dbt assets through dagster-dbt on DuckDB and PostgreSQL.
Also: the environment the dbt process gets (and this process keeps), the shell exporter the
infra scripts eval, and the ``full_refresh`` run config on a real build.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
import pytest

from resources.models.resource import LabelModel, model_resource_key
from resources.warehouse import Warehouse
from resources.warehouse.location import parse_warehouse_url
from scout_assets.assets import dbt as dbt_module
from scout_assets.assets.dbt import DbtBuildConfig, build_args, window_vars
from scout_assets.assets.llm_labels import MODEL_ALIASES
from scout_assets.dbt_project import DBT_PROJECT, build_dbt_resource
from scout_assets.partitions import model_partition_key, today_utc
from scout_assets.resources_binding import build_resources
from scout_contract.paths import DBT_PROJECT_DIR, PROJECT_ROOT
from tests.dbt_fixtures import D3, SENTINEL_DAY, SENTINEL_PLATFORM, SENTINEL_RETRIES, demo_duckdb_marts
from tests.llm_server import FakeLLMServer
from tests.pipeline_support import (
    MAIN_ASSETS,
    archive_for,
    assets,
    budgets_resource,
    defer_queue,
    materialize,
)


def test_window_vars_are_half_open_days():
    from datetime import datetime

    assert window_vars(datetime(2026, 3, 1), datetime(2026, 3, 2)) == {
        "min_date": "2026-03-01",
        "max_date": "2026-03-02",
    }
    assert window_vars(datetime(2026, 3, 1), datetime(2026, 3, 8))["max_date"] == "2026-03-08"
    with pytest.raises(ValueError, match="empty partition window"):
        window_vars(datetime(2026, 3, 2), datetime(2026, 3, 2))


def test_build_args_carry_the_window_and_full_refresh_only_when_asked():
    window = {"min_date": "2026-03-01", "max_date": "2026-03-02"}
    assert build_args(DbtBuildConfig(), window) == ["build", "--vars", json.dumps(window)]
    assert build_args(DbtBuildConfig(full_refresh=True), window)[-1] == "--full-refresh"
    assert build_args(DbtBuildConfig(full_refresh=True)) == ["build", "--full-refresh"]
    assert build_args(DbtBuildConfig()) == ["build"]


def test_one_dbt_project_for_the_assets_and_the_resource():
    resource = build_dbt_resource("marts")
    assert (
        Path(resource.project_dir)
        == Path(resource.profiles_dir)
        == DBT_PROJECT.project_dir
        == DBT_PROJECT_DIR
    )
    assert resource.marts_schema == "marts"
    assert DBT_PROJECT.manifest_path.is_file()  # prepared by infra/scripts/setup.sh, never at import


# --- the dbt process's environment -----------------------------------------------------------------


def test_the_profile_env_of_a_duckdb_file_is_an_absolute_path():
    location = parse_warehouse_url("duckdb:///srv/scout/../scout/scout.duckdb")
    assert location.dbt_profile_env("marts") == {
        "SCOUT_MARTS_SCHEMA": "marts",
        "SCOUT_DBT_TARGET": "duckdb",
        "SCOUT_DUCKDB_PATH": "/srv/scout/scout.duckdb",
    }


def test_the_profile_env_of_postgres_keeps_the_password_in_the_secret_variable():
    env = parse_warehouse_url("postgresql://ana:p%40ss'word@db.internal:6543/scout").dbt_profile_env(
        "analytics"
    )
    assert {k: v for k, v in env.items() if k.startswith("SCOUT_PG")} == {
        "SCOUT_PG_HOST": "db.internal", "SCOUT_PG_PORT": "6543", "SCOUT_PG_USER": "ana", "SCOUT_PG_DBNAME": "scout",
    }  # fmt: skip
    assert env["DBT_ENV_SECRET_SCOUT_PG_PASSWORD"] == "p@ss'word"
    assert not any("p@ss" in value for name, value in env.items() if not name.startswith("DBT_ENV_SECRET_"))


def test_the_shell_exporter_points_a_shell_at_the_warehouse():
    """What ``infra/scripts/dbt_docs.sh`` evals: the password survives the shell's quoting."""
    environ = {
        **os.environ,
        "SCOUT_WAREHOUSE_URL": "postgresql://ana:p%40ss'word@db.internal:6543/scout",
        "SCOUT_MARTS_SCHEMA": "marts",
    }
    script = (
        f'eval "$("{sys.executable}" -m scout_cli.dbt_env)" && '
        'printf "%s|%s|%s|%s" "$DBT_ENV_SECRET_SCOUT_PG_PASSWORD" "$SCOUT_PG_HOST" "$SCOUT_MARTS_SCHEMA" "$DBT_PROFILES_DIR"'
    )
    result = subprocess.run(
        ["bash", "-c", script], env=environ, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout == f"p@ss'word|db.internal|marts|{DBT_PROJECT_DIR}"


@pytest.mark.postgres
def test_dbt_reaches_the_warehouse_through_its_own_environment_only(postgres_url: str, tmp_path: Path):
    """``cli_against``: dbt connects with the location's parts, this process's environment is left
    as it was, and the password (the local server trusts, so any will do) is in no dbt log."""
    password = "s3cret-Dbt-pw"
    parts = urlsplit(postgres_url)
    url = urlunsplit(
        parts._replace(netloc=f"{parts.username}:{password}@{parts.hostname}:{parts.port or 5432}")
    )
    before = dict(os.environ)

    invocation = build_dbt_resource("marts_probe").cli_against(
        parse_warehouse_url(url), ["debug"], target_path=tmp_path / "target", raise_on_error=False
    )
    succeeded = invocation.is_successful()  # waits, keeping dbt's events for the stream below
    log = "\n".join(event.raw_event["info"]["msg"] for event in invocation.stream_raw_events())

    assert succeeded, log
    assert f"database: {parts.path.strip('/')}" in log and "schema: marts_probe" in log
    assert dict(os.environ) == before
    assert password not in log
    assert password not in (tmp_path / "target" / "dbt.log").read_text()


@pytest.mark.slow
def test_full_refresh_rebuilds_the_incremental_marts_beyond_the_partition(tmp_path: Path):
    """A run of one day's partition with ``full_refresh`` recomputes a mart row of another day.

    The demo marts are copied, and one row far outside the window is overwritten; a windowed
    run would leave it (``tests/test_dbt_build.py``), a full refresh must put the true value back.
    """
    demo = demo_duckdb_marts()
    shutil.copyfile(demo.path, tmp_path / "scout.duckdb")
    warehouse = Warehouse(url=f"duckdb://{tmp_path / 'scout.duckdb'}")
    sentinel = [SENTINEL_DAY, SENTINEL_PLATFORM]
    read = "select retries from analytics.mart_pipeline_health where day = $1 and platform = $2"
    true_retries = warehouse.read(read, sentinel)["retries"][0]
    assert true_retries != SENTINEL_RETRIES
    warehouse.execute(
        "update analytics.mart_pipeline_health set retries = $1 where day = $2 and platform = $3",
        [SENTINEL_RETRIES, *sentinel],
    )

    result = dg.materialize(
        [dbt_module.scout_dbt_incremental],
        partition_key=D3.isoformat(),
        resources={"warehouse": warehouse, "dbt": build_dbt_resource("analytics")},
        run_config={"ops": {"dbt_incremental_marts": {"config": {"full_refresh": True}}}},
    )

    assert result.success
    assert warehouse.read(read, sentinel)["retries"][0] == true_retries


@pytest.mark.slow
def test_dagster_builds_the_marts_and_reports_dbt_tests_as_checks(warehouse, sandbox):
    for platform in ("twitter", "bluesky"):
        assert materialize(MAIN_ASSETS, warehouse, sandbox, platform, keywords_per_run=3).success
    models = {model_resource_key(a): LabelModel(alias=a) for a in MODEL_ALIASES}
    defer_queue(warehouse)  # the cascade sends an LLM only what the local labeler deferred
    with FakeLLMServer("good") as server:
        models[model_resource_key("meta-maverick-17b")] = LabelModel(
            alias="meta-maverick-17b", api_key="x", api_base=server.url, litellm_model="openai/fake"
        )
        assert dg.materialize(
            assets(["llm_labels"]),
            partition_key=model_partition_key(today_utc(), "meta-maverick-17b"),
            resources={
                "warehouse": warehouse,
                "archive": archive_for(warehouse),
                "budgets": budgets_resource(),
                **models,
            },
            run_config={"ops": {"llm_labels": {"config": {"max_batches": 2}}}},
        ).success

    dbt_resources = {"warehouse": warehouse, "dbt": build_resources()["dbt"]}
    unpartitioned = dg.materialize([dbt_module.scout_dbt_models], resources=dbt_resources)
    assert unpartitioned.success
    marts = dg.materialize(
        [dbt_module.scout_dbt_incremental], partition_key=today_utc().isoformat(), resources=dbt_resources
    )
    assert marts.success

    checks = [e for e in marts.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert checks and all(e.event_specific_data.passed for e in checks)
    schema = "analytics"
    leads = warehouse.read(f"select * from {schema}.mart_audience_leads")
    labels = warehouse.read("select * from llm_labels")
    assert leads.height == labels.select("platform", "platform_id").n_unique()
    funnel = warehouse.read(f"select * from {schema}.mart_discovery_funnel order by platform")
    pages = warehouse.read(
        "select platform, count(*) as n from raw_searches group by platform order by platform"
    )
    assert funnel["pages_searched"].to_list() == pages["n"].to_list()
