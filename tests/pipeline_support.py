"""Shared helpers for tests that materialize the asset graph against the sandbox."""

from __future__ import annotations

import dagster as dg
import polars as pl

from resources.archive import LocalArchive
from resources.platforms.bluesky import BlueskySearch
from resources.platforms.twitter import TwitterSearch
from scout_assets.config_files import ConfigFiles
from scout_assets.jobs import MAIN_ASSETS
from scout_assets.partitions import partition_key, today_utc
from scout_assets.resources_binding import current_settings
from scout_assets.spend.budgets import BudgetsResource
from scout_assets.suppression_list import SuppressionList
from scout_location.definitions import defs

__all__ = [
    "DERIVED",
    "MAIN_ASSETS",
    "archive_for",
    "assets",
    "budgets_resource",
    "defer_queue",
    "materialize",
    "resources_for",
    "table",
]

FAST_RETRIES = {
    "max_attempts": 2,
    "backoff_initial_s": 0.01,
    "backoff_max_s": 0.02,
    "backoff_jitter_s": 0.0,
    "retry_after_max_s": 0.05,
    "timeout_s": 5.0,
}
DERIVED = ["profiles", "has_scores", "profiles_to_score"]


def archive_for(warehouse) -> LocalArchive:
    """A raw archive folder of the test's own, inside the session's data folder, so tests never share one."""
    data_dir = current_settings().data_dir
    return LocalArchive(root=str(data_dir / f"raw-archive-{id(warehouse)}"))  # removed with the session


def budgets_resource() -> BudgetsResource:
    """The budgets as the binding reads them: budgets.yaml with the SCOUT_BUDGET_* variables set now."""
    return BudgetsResource.from_settings(current_settings())


def resources_for(warehouse, sandbox) -> dict:
    return {
        "warehouse": warehouse,
        "archive": archive_for(warehouse),
        "twitter": TwitterSearch(base_url=sandbox.base_url, **FAST_RETRIES),
        "bluesky": BlueskySearch(base_url=sandbox.base_url, **FAST_RETRIES),
        # The keyword file the environment names now (tests swap it with SCOUT_KEYWORD_FILE).
        "config_files": ConfigFiles.from_settings(current_settings()),
        "budgets": budgets_resource(),
        # scout forget's suppression list (raw_searches drops suppressed accounts); key file in the data dir
        "suppression": SuppressionList.in_data_dir(current_settings().data_dir),
    }


def assets(keys: list[str]) -> list:
    wanted = {dg.AssetKey(k) for k in keys}
    return [a for a in defs.assets if set(a.keys) & wanted]  # type: ignore[union-attr]


def materialize(
    keys, warehouse, sandbox, platform, *, day=None, keywords_per_run=4, pages=1, raise_on_error=True
):
    run_config = {
        "ops": {
            "raw_searches": {
                "config": {
                    "keywords_per_run": keywords_per_run,
                    "pages_per_keyword": pages,
                    "allow_past_day": day is not None,
                }
            }
        }
    }
    if "raw_searches" not in keys:
        run_config = {}
    return dg.materialize(
        assets(keys),
        partition_key=partition_key(day or today_utc(), platform),
        resources=resources_for(warehouse, sandbox),
        run_config=run_config,
        raise_on_error=raise_on_error,
    )


def defer_queue(warehouse) -> int:
    """Plant a deferred ``local-minilm`` label on every queued profile it has not labeled yet.

    The cascade sends an LLM only what the local labeler labeled and deferred; tests about an
    LLM's own behaviour start from "the local labeler was unsure of everything". Returns how many.
    """
    from datetime import datetime

    from scout_assets.labeling.settings import load_labeling_settings
    from scout_contract.tables import LLM_LABELS, polars_schema

    settings = load_labeling_settings()
    rows = []
    for audience in settings.audiences:
        todo = warehouse.read(
            "select distinct q.platform, q.platform_id, q.handle, q.partition_date from profiles_to_score q "
            "where not exists (select 1 from llm_labels l where l.platform = q.platform "
            "and l.platform_id = q.platform_id and l.model = $1 and l.audience = $2)",
            [settings.local_model, audience],
        ).unique(["platform", "platform_id"])
        rows += [
            {
                **row,
                "model": settings.local_model,
                "model_id": "test/planted",
                "audience": audience,
                "audience_hash": "test",
                "label": None,
                "reason": "planted: unsure",
                "prompt_version": "test",
                "input_tokens": 0,
                "output_tokens": 0,
                "cost_usd": 0.0,
                "latency_ms": 0.0,
                "run_id": "test",
                "labeled_at": datetime(2026, 1, 1),
                "p_true": 0.5,
                "deferred": True,
            }
            for row in todo.iter_rows(named=True)
        ]
    if rows:
        warehouse.append("llm_labels", pl.DataFrame(rows, schema=polars_schema(LLM_LABELS.columns)))
    return len(rows)


def table(warehouse, name: str, sort: list[str]) -> pl.DataFrame:
    return warehouse.read(f"select * from {name}").sort(sort)
