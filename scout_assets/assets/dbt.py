"""The dbt project as Dagster assets: staging views and marts downstream of the Python assets.

Two ``@dbt_assets`` split the project by how it grows (the pattern of Dagster's own platform):
- the incremental marts carry the daily partitions; a partition (or a range, in one run:
  ``BackfillPolicy.single_run()``) becomes ``--vars {"min_date", "max_date"}``, a half-open
  window the models filter on inside ``is_incremental()``;
- everything else (staging views, full-refresh marts) is unpartitioned and rebuilt whole.
Each dbt source names the Python asset that writes its table (``meta.dagster.asset_key`` in
``dbt_project/models/sources.yml``), which draws the lineage edges; dbt tests become asset
checks. ``dbt_docs`` regenerates the docs site after a build.

dbt runs against the run's ``Warehouse`` through ``ScoutDbtCli.cli_against``
(``scout_assets/dbt_project.py``), which hands the profile its variables while the dbt process
starts and restores this process's environment right after. Both builds take ``DbtBuildConfig``: ``full_refresh: true`` adds
``--full-refresh``, and an incremental mart is then rebuilt over every day, not just the window.
"""

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, dbt_assets
from pydantic import Field

from resources.warehouse import Warehouse
from scout_assets.assets.common import OWNERS
from scout_assets.dbt_project import DBT_PROJECT, ScoutDbtCli
from scout_assets.partitions import daily_partitions

ANALYTICS_GROUP = "analytics"
INCREMENTAL = "config.materialized:incremental"


class ScoutDbtTranslator(DagsterDbtTranslator):
    """Groups the dbt models under ``analytics`` and makes them follow their upstream tables."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return ANALYTICS_GROUP

    def get_owners(self, dbt_resource_props: Mapping[str, Any]):
        return OWNERS

    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition | None:
        if dbt_resource_props.get("resource_type") != "model":
            return None
        return dg.AutomationCondition.eager().with_label("rebuild when the tables it reads change")


TRANSLATOR = ScoutDbtTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_asset_checks=True,
        # Several tables come from one asset (api_calls and raw_searches both from raw_searches).
        enable_duplicate_source_asset_keys=True,
    )
)


def window_vars(start: datetime, end: datetime) -> dict[str, str]:
    """The dbt vars of a partition window: half-open ``[min_date, max_date)`` dates."""
    if end <= start:
        raise ValueError(f"an empty partition window: {start.isoformat()} .. {end.isoformat()}")
    return {"min_date": start.date().isoformat(), "max_date": end.date().isoformat()}


class DbtBuildConfig(dg.Config):
    """Run config of the dbt builds."""

    full_refresh: bool = Field(
        default=False,
        description="Rebuild the incremental marts from scratch (dbt build --full-refresh): every day, "
        "whatever the partition window; after a change to a mart's logic or columns.",
    )


def build_args(config: DbtBuildConfig, window: Mapping[str, str] | None = None) -> list[str]:
    """The ``dbt build`` arguments: the partition window as vars, ``--full-refresh`` when asked."""
    args = ["build"]
    if window is not None:
        args += ["--vars", json.dumps(window)]
    if config.full_refresh:
        args.append("--full-refresh")
    return args


# Row counts are not fetched (`.fetch_row_counts()`): that opens the warehouse through the dbt
# adapter inside the run process, and dbt-duckdb keeps the file open, locking out every other
# writer. dbt's own run results already carry rows affected.


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    select=INCREMENTAL,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    dagster_dbt_translator=TRANSLATOR,
    pool="dbt",
    retry_policy=dg.RetryPolicy(max_retries=2, delay=20),  # DuckDB: another writer may hold the file
    name="dbt_incremental_marts",
)
def scout_dbt_incremental(
    context: dg.AssetExecutionContext, dbt: ScoutDbtCli, warehouse: Warehouse, config: DbtBuildConfig
):
    window = context.partition_time_window
    args = build_args(config, window_vars(window.start, window.end))
    yield from dbt.cli_against(warehouse.location, args, context=context).stream()


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    exclude=INCREMENTAL,
    dagster_dbt_translator=TRANSLATOR,
    pool="dbt",
    retry_policy=dg.RetryPolicy(max_retries=2, delay=20),
    name="dbt_models",
)
def scout_dbt_models(
    context: dg.AssetExecutionContext, dbt: ScoutDbtCli, warehouse: Warehouse, config: DbtBuildConfig
):
    yield from dbt.cli_against(warehouse.location, build_args(config), context=context).stream()


@dg.asset(
    key="dbt_docs",
    deps=[*scout_dbt_models.keys, *scout_dbt_incremental.keys],
    group_name=ANALYTICS_GROUP,
    owners=OWNERS,
    kinds={"dbt"},
    pool="dbt",
    automation_condition=dg.AutomationCondition.eager().with_label("regenerate after a build"),
    description="The dbt docs site (dbt_project/target): catalog and lineage of every model. "
    "Serve it with `bash infra/scripts/dbt_docs.sh`.",
)
def dbt_docs(dbt: ScoutDbtCli, warehouse: Warehouse) -> dg.MaterializeResult:
    target = DBT_PROJECT.project_dir / "target"
    dbt.cli_against(warehouse.location, ["docs", "generate"], target_path=target).wait()
    catalog = json.loads((target / "catalog.json").read_text())
    return dg.MaterializeResult(
        metadata={
            "site": dg.MetadataValue.path(str(target / "index.html")),
            "documented_relations": len(catalog.get("nodes", {})) + len(catalog.get("sources", {})),
        }
    )
