"""``relabel_after_refresh_sensor``: label a day for a new audience version once its queue is refreshed.

``config_change_sensor`` answers a newly active audience version by refreshing the recent
days' ``profiles_to_score`` partitions (tagged ``scout/relabel_audience``). Labeling before a
refresh has finished would miss the accounts it brings back, so the labeling runs are started
here, by the refresh's success: every available model labels that day (all of the new
version's units are pending, since pending is per model and audience version).

A day has one refresh per platform; each success requests the day's labeling runs under its
own run key, so the run after the second refresh labels what the first could not yet see
(it finds little else pending: a run only labels units still to do).
"""

from __future__ import annotations

import dagster as dg

from resources.models.roster import ModelRoster
from scout_assets.jobs import label_job, rederive_job
from scout_assets.partitions import model_partition_key, split_partition_key
from sensors.config_changes import RELABEL_AUDIENCE_TAG
from sensors.targets import PARTITION_TAG, REASON_TAG, TRIGGER_TAG

SENSOR_NAME = "relabel_after_refresh_sensor"


def relabel_requests(run: dg.DagsterRun, models: list[str]) -> list[dg.RunRequest]:
    """The labeling runs that follow one successful queue refresh (none for other runs)."""
    audience = run.tags.get(RELABEL_AUDIENCE_TAG)
    if audience is None:
        return []
    day, platform = split_partition_key(run.tags[PARTITION_TAG])
    return [
        dg.RunRequest(
            run_key=f"relabel:{audience}:{key}:after:{run.run_id}",
            partition_key=str(key),
            tags={
                TRIGGER_TAG: SENSOR_NAME,
                REASON_TAG: f"audience:{audience}",
                "scout/after_refresh": f"{day.isoformat()}|{platform}",
            },
        )
        for key in (model_partition_key(day, model) for model in models)
    ]


@dg.run_status_sensor(
    name=SENSOR_NAME,
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[rederive_job],
    request_job=label_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "After a queue refresh started by a newly active audience version succeeds, labels that day "
        "with every available model."
    ),
)
def relabel_after_refresh_sensor(
    context: dg.RunStatusSensorContext, model_roster: ModelRoster
) -> list[dg.RunRequest] | None:
    # None lets Dagster go on to the next finished run in the same tick; requests end the tick.
    run = context.dagster_run
    if RELABEL_AUDIENCE_TAG not in run.tags:
        return None
    requests = relabel_requests(run, model_roster.available)
    if not requests:
        context.log.warning(f"no labeling model is available to relabel after refresh run {run.run_id}")
        return None
    return requests
