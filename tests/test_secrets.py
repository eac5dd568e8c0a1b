"""A planted key must never reach the warehouse, run config, metadata or logs.

The key is sent for real (RapidAPI header to the sandbox, bearer token to the loopback model
server), so this proves the paths that handle it, not a configuration that never uses it.
"""

from __future__ import annotations

import dagster as dg

from resources.models.resource import LabelModel, model_resource_key
from scout_assets.assets.llm_labels import MODEL_ALIASES
from scout_assets.partitions import model_partition_key, partition_key, today_utc
from tests.llm_server import FakeLLMServer
from tests.pipeline_support import (
    MAIN_ASSETS,
    archive_for,
    assets,
    budgets_resource,
    defer_queue,
    resources_for,
)

PLANTED = "sk-planted-Zq8xV3kLmN5pR7tY"


def test_planted_keys_never_leave_their_headers(duckdb_warehouse, sandbox):
    warehouse = duckdb_warehouse
    instance = dg.DagsterInstance.ephemeral()
    resources = resources_for(warehouse, sandbox)
    resources["twitter"] = resources["twitter"].model_copy(update={"api_key": PLANTED})
    run_ids = []
    result = dg.materialize(
        assets(MAIN_ASSETS),
        partition_key=partition_key(today_utc(), "twitter"),
        resources=resources,
        instance=instance,
        run_config={"ops": {"raw_searches": {"config": {"keywords_per_run": 3}}}},
    )
    assert result.success
    run_ids.append(result.run_id)

    models = {model_resource_key(a): LabelModel(alias=a) for a in MODEL_ALIASES}
    defer_queue(warehouse)  # the cascade sends an LLM only what the local labeler deferred
    with FakeLLMServer("unauthorized") as server:  # echoes the key it received in its error body
        models[model_resource_key("meta-maverick-17b")] = LabelModel(
            alias="meta-maverick-17b", api_key=PLANTED, api_base=server.url, litellm_model="openai/fake"
        )
        labeled = dg.materialize(
            assets(["llm_labels"]),
            partition_key=model_partition_key(today_utc(), "meta-maverick-17b"),
            resources={
                "warehouse": warehouse,
                "archive": archive_for(warehouse),
                "budgets": budgets_resource(),
                **models,
            },
            instance=instance,
            run_config={"ops": {"llm_labels": {"config": {"max_batches": 1}}}},
        )
        assert server.requests, "the model server was called with the key"
    run_ids.append(labeled.run_id)

    # the key was really sent to the platform
    assert any(r.path.startswith("/api/search/people") for r in sandbox.requests)

    for table in warehouse.read(
        "select table_name from information_schema.tables where table_schema = 'main'"
    )["table_name"]:
        frame = warehouse.read(f"select * from {table}")
        for column in frame.columns:
            values = frame[column].cast(str, strict=False).drop_nulls()
            assert not values.str.contains(PLANTED, literal=True).any(), f"{table}.{column}"
    for run_id in run_ids:
        run = instance.get_run_by_id(run_id)
        assert PLANTED not in repr(run.run_config) and PLANTED not in repr(run.tags)
        for entry in instance.all_logs(run_id):
            assert PLANTED not in repr(entry), entry.dagster_event_type
