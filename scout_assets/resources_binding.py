"""The one place that binds resources to configuration: embedded default or production.

Only environment variables differ between the two (DESIGN.md: "only configuration differs"):
- ``SCOUT_WAREHOUSE_URL`` unset → DuckDB file under data/; set → that PostgreSQL URL.
- ``TWITTERX_APIKEY`` unset → the built-in sandbox; set → the real RapidAPI host.
- ``SCOUT_BLUESKY_URL`` unset → the sandbox; set (e.g. https://public.api.bsky.app) → that AppView.
Secrets are bound with ``EnvVar`` so their values never appear in the UI or run config.
"""

from __future__ import annotations

import os

import dagster as dg

from resources.bluesky import BlueskySearch
from resources.twitter import TwitterSearch
from resources.warehouse import Warehouse


def _env(name: str) -> dg.EnvVar | None:
    return dg.EnvVar(name) if os.environ.get(name) else None


def build_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": Warehouse(url=_env("SCOUT_WAREHOUSE_URL")),
        "twitter": TwitterSearch(api_key=_env("TWITTERX_APIKEY")),
        "bluesky": BlueskySearch(base_url=_env("SCOUT_BLUESKY_URL")),
    }
