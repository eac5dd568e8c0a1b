"""The Scout code location: one ``Definitions`` object for the webserver, daemon and CLI.

It stands above every other floor (assets, resources, sensors) because it is where they are
put together; nothing in the project imports it except the programs that run it.
"""

from __future__ import annotations

import dagster as dg

from scout_assets.assets import (
    dbt,
    has_scores,
    keyword_stats,
    keywords,
    lead_exports,
    llm_labels,
    local_labeler,
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


def build_definitions() -> dg.Definitions:
    """The code location's definitions, with resources bound to the environment as it is now.

    The webserver, the daemon and every run process build it when they load the code location;
    a changed environment therefore applies from the next reload.
    """
    return dg.Definitions(
        assets=dg.load_assets_from_modules(
            [
                keywords,
                raw_searches,
                profiles,
                has_scores,
                profiles_to_score,
                llm_labels,
                local_labeler,
                keyword_stats,
                dbt,
                lead_exports,
            ]
        ),
        asset_checks=dg.load_asset_checks_from_modules([local_labeler]),
        jobs=ALL_JOBS,
        schedules=SCHEDULES,
        sensors=[automation_sensor, *SENSORS],
        resources=build_resources(),
    )


defs = build_definitions()
