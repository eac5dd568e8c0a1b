"""The one place that binds resources to configuration: embedded default or production.

Only environment variables differ between the two (DESIGN.md: "only configuration differs"):
- ``SCOUT_WAREHOUSE_URL`` unset → DuckDB file under data/; set → that PostgreSQL URL.
- ``TWITTERX_APIKEY`` unset → the built-in sandbox; set → the real RapidAPI host.
- ``SCOUT_BLUESKY_URL`` unset → the sandbox; set (e.g. https://public.api.bsky.app) → that AppView.
- ``SCOUT_ARCHIVE_BUCKET`` unset → raw pages archived under data/raw_archive; set → that S3 bucket.
- a model's key variable (``ANTHROPIC_API_KEY``, ``GEMINI_API_KEY``, ``GROQ_API_KEY`` …, named in
  config/models.yaml) unset → that model cannot run; ``local-minilm`` needs none.
Secrets are bound with ``EnvVar`` so their values never appear in the UI or run config.
"""

from __future__ import annotations

import os

import dagster as dg
from dagster_dbt import DbtCliResource

from resources.archive import build_archive
from resources.models.registry import raw_model_entries
from resources.models.resource import LabelModel, model_resource_key
from resources.platforms.bluesky import BlueskySearch
from resources.platforms.twitter import TwitterSearch
from resources.warehouse import Warehouse
from scout_contract.paths import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


def _env(name: str) -> dg.EnvVar | None:
    return dg.EnvVar(name) if os.environ.get(name) else None


def build_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": Warehouse(url=_env("SCOUT_WAREHOUSE_URL")),
        "twitter": TwitterSearch(api_key=_env("TWITTERX_APIKEY")),
        "bluesky": BlueskySearch(base_url=_env("SCOUT_BLUESKY_URL")),
        "archive": build_archive(),
        "dbt": DbtCliResource(project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR)),
        **model_resources(),
    }


def model_resources() -> dict[str, LabelModel]:
    """One resource per registered model; a provider key is bound only where its variable is set."""
    resources = {}
    for alias, entry in raw_model_entries().items():
        key_env = entry.get("api_key_env") if isinstance(entry, dict) else None
        resources[model_resource_key(alias)] = LabelModel(
            alias=alias, api_key=_env(key_env) if key_env else None
        )
    return resources
