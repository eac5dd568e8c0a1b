"""The dbt project run by Dagster on the graph's real output: marts built, tests as asset checks.

Seeds the warehouse with the real search graph against the sandbox and labels from a loopback
model server, then materializes the dbt assets through dagster-dbt on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import dagster as dg
import pytest

from resources.models.resource import LabelModel, model_resource_key
from scout_assets.assets import dbt as dbt_module
from scout_assets.assets.dbt import window_vars
from scout_assets.assets.llm_labels import MODEL_ALIASES
from scout_assets.partitions import model_partition_key, today_utc
from scout_assets.resources_binding import build_resources
from tests.llm_server import FakeLLMServer
from tests.pipeline_support import MAIN_ASSETS, assets, materialize


def test_window_vars_are_half_open_days():
    from datetime import datetime

    assert window_vars(datetime(2026, 3, 1), datetime(2026, 3, 2)) == {
        "min_date": "2026-03-01",
        "max_date": "2026-03-02",
    }
    assert window_vars(datetime(2026, 3, 1), datetime(2026, 3, 8))["max_date"] == "2026-03-08"
    with pytest.raises(ValueError, match="empty partition window"):
        window_vars(datetime(2026, 3, 2), datetime(2026, 3, 2))


@pytest.mark.slow
def test_dagster_builds_the_marts_and_reports_dbt_tests_as_checks(warehouse, sandbox):
    for platform in ("twitter", "bluesky"):
        assert materialize(MAIN_ASSETS, warehouse, sandbox, platform, keywords_per_run=3).success
    models = {model_resource_key(a): LabelModel(alias=a) for a in MODEL_ALIASES}
    with FakeLLMServer("good") as server:
        models[model_resource_key("meta-maverick-17b")] = LabelModel(
            alias="meta-maverick-17b", api_key="x", api_base=server.url, litellm_model="openai/fake"
        )
        assert dg.materialize(
            assets(["llm_labels"]),
            partition_key=model_partition_key(today_utc(), "meta-maverick-17b"),
            resources={"warehouse": warehouse, **models},
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
