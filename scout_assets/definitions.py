"""The Scout code location: one ``Definitions`` object for the webserver, daemon and CLI."""

from __future__ import annotations

import dagster as dg

from scout_assets.assets import (
    has_scores,
    keyword_stats,
    keywords,
    llm_labels,
    profiles,
    profiles_to_score,
    raw_searches,
)
from scout_assets.jobs import keyword_stats_job, label_job, rederive_job, scout_main_job
from scout_assets.resources_binding import build_resources

# Evaluates every asset's automation condition (derived assets following their upstream, dbt
# marts following the tables they read). Running by default: Scout runs without a person.
automation_sensor = dg.AutomationConditionSensorDefinition(
    "scout_automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
)

defs = dg.Definitions(
    assets=dg.load_assets_from_modules(
        [keywords, raw_searches, profiles, has_scores, profiles_to_score, llm_labels, keyword_stats]
    ),
    jobs=[scout_main_job, rederive_job, label_job, keyword_stats_job],
    sensors=[automation_sensor],
    resources=build_resources(),
)
