"""The Scout code location: one ``Definitions`` object for the webserver, daemon and CLI."""

from __future__ import annotations

import dagster as dg

from scout_assets.assets import (
    dbt,
    has_scores,
    keyword_stats,
    keywords,
    llm_labels,
    profiles,
    profiles_to_score,
    raw_searches,
)
from scout_assets.jobs import ALL_JOBS
from scout_assets.resources_binding import build_resources
from sensors import SCHEDULES, SENSORS

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
        [keywords, raw_searches, profiles, has_scores, profiles_to_score, llm_labels, keyword_stats, dbt]
    ),
    jobs=ALL_JOBS,
    schedules=SCHEDULES,
    sensors=[automation_sensor, *SENSORS],
    resources=build_resources(),
)
