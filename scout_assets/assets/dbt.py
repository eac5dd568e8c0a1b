"""The dbt project as Dagster assets: staging views and marts downstream of the Python assets.

Two ``@dbt_assets`` split the project by how it grows (the pattern of Dagster's own platform):
- the incremental marts carry the daily partitions; a partition (or a range, in one run:
  ``BackfillPolicy.single_run()``) becomes ``--vars {"min_date", "max_date"}``, a half-open
  window the models filter on inside ``is_incremental()``;
- everything else (staging views, full-refresh marts) is unpartitioned and rebuilt whole.
Each dbt source names the Python asset that writes its table (``meta.dagster.asset_key`` in
``dbt_project/models/sources.yml``), which draws the lineage edges; dbt tests become asset
checks. ``dbt_docs`` regenerates the docs site after a build.
"""

import json
import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from resources.warehouse import Warehouse
from scout_assets.assets.common import OWNERS
from scout_assets.partitions import daily_partitions
from scout_assets.resources_binding import DBT_PROJECT_DIR
from scout_dashboard.targets import dbt_env

ANALYTICS_GROUP = "analytics"
INCREMENTAL = "config.materialized:incremental"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# `dagster dev` re-parses on start; elsewhere the setup script prepares the manifest
# (`dagster-dbt project prepare-and-package`). A missing manifest is prepared here as a last
# resort so a fresh checkout still loads, at the cost of one `dbt parse` (~5 s) on first load.
dbt_project.prepare_if_dev()
if not dbt_project.manifest_path.exists():
    dbt_project.preparer.prepare(dbt_project)


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


# Row counts are not fetched (`.fetch_row_counts()`): that opens the warehouse through the dbt
# adapter inside the run process, and dbt-duckdb keeps the file open, locking out every other
# writer. dbt's own run results already carry rows affected.


def _point_dbt_at(warehouse: Warehouse) -> None:
    """dbt reads its connection from the environment (dbt_project/profiles.yml): point it at
    the run's warehouse. The values may hold a password; they go to the dbt process only."""
    os.environ.update(dbt_env(warehouse.location))


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select=INCREMENTAL,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    dagster_dbt_translator=TRANSLATOR,
    pool="dbt",
    retry_policy=dg.RetryPolicy(max_retries=2, delay=20),  # DuckDB: another writer may hold the file
    name="dbt_incremental_marts",
)
def scout_dbt_incremental(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    _point_dbt_at(warehouse)
    window = context.partition_time_window
    args = ["build", "--vars", json.dumps(window_vars(window.start, window.end))]
    yield from dbt.cli(args, context=context).stream()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    exclude=INCREMENTAL,
    dagster_dbt_translator=TRANSLATOR,
    pool="dbt",
    retry_policy=dg.RetryPolicy(max_retries=2, delay=20),
    name="dbt_models",
)
def scout_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    _point_dbt_at(warehouse)
    yield from dbt.cli(["build"], context=context).stream()


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
def dbt_docs(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse
) -> dg.MaterializeResult:
    _point_dbt_at(warehouse)
    target = DBT_PROJECT_DIR / "target"
    dbt.cli(["docs", "generate"], target_path=target).wait()
    catalog = json.loads((target / "catalog.json").read_text())
    return dg.MaterializeResult(
        metadata={
            "site": dg.MetadataValue.path(str(target / "index.html")),
            "documented_relations": len(catalog.get("nodes", {})) + len(catalog.get("sources", {})),
        }
    )
