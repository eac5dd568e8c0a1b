"""The clocks of Scout: the 15-minute search, the 02:00 UTC keyword statistics, the 06:00 UTC exports.

Both derive the partition from the tick's *scheduled* time, never from the wall clock, so a
tick evaluated late (daemon down at midnight, a busy host) still asks for the day it was
meant for. Each request carries a run key built from the partition and the scheduled time:
the daemon never launches a second run for a run key it has seen, so a restart that
re-evaluates a tick does not double it.

A platform whose previous scheduled search has not even started yet (the run queue is backed
up: an outage, a long backfill) gets no new one: the waiting run will search the next pages
when it starts, and piling up identical runs would only lengthen the queue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import dagster as dg

from scout_assets.jobs import keyword_stats_job, lead_exports_job, scout_main_job
from scout_assets.partitions import PLATFORMS, audience_partitions, partition_key
from scout_contract.settings import SettingsError
from sensors.cursors import utc_now
from sensors.run_queries import WAITING, run_of_partition
from sensors.settings import (
    EXPORT_CRON_ENV,
    SEARCH_CRON_ENV,
    STATS_CRON_ENV,
    TIMEZONE,
    export_cron,
    search_cron,
    stats_cron,
)
from sensors.targets import MAIN_JOB, TICK_TAG, TRIGGER_TAG

if TYPE_CHECKING:  # what define_asset_job returns; dagster exports no public name for it
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

SEARCH_SCHEDULE = "search_schedule"


def tick_time(context: dg.ScheduleEvaluationContext) -> datetime:
    """The tick's scheduled time in UTC (now, when the UI's "test schedule" gives none)."""
    scheduled = context.scheduled_execution_time
    if scheduled is None:
        return utc_now()
    if scheduled.tzinfo is None:  # build_schedule_context accepts naive times; read them as UTC
        return scheduled.replace(tzinfo=UTC)
    return scheduled.astimezone(UTC)


def search_requests(tick: datetime, instance: dg.DagsterInstance) -> list[dg.RunRequest] | dg.SkipReason:
    """One scout_main run per platform for the tick's UTC day, unless one is still waiting."""
    day = tick.astimezone(UTC).date()
    requests: list[dg.RunRequest] = []
    waiting: list[str] = []
    for key in (str(partition_key(day, platform)) for platform in PLATFORMS):
        queued = run_of_partition(instance, MAIN_JOB, key, WAITING, {TRIGGER_TAG: SEARCH_SCHEDULE})
        if queued is not None:
            waiting.append(f"{key}: run {queued} has not started yet")
            continue
        requests.append(
            dg.RunRequest(
                run_key=f"{key}@{tick.isoformat()}",
                partition_key=key,
                tags={TRIGGER_TAG: SEARCH_SCHEDULE, TICK_TAG: tick.isoformat()},
            )
        )
    return requests or dg.SkipReason("; ".join(waiting))


def keyword_stats_request(tick: datetime) -> dg.RunRequest:
    """The scout_keyword_stats run for the day before the tick's UTC day (that day is complete)."""
    day: date = tick.astimezone(UTC).date() - timedelta(days=1)
    return dg.RunRequest(
        run_key=f"{day.isoformat()}@{tick.isoformat()}",
        partition_key=day.isoformat(),
        tags={TRIGGER_TAG: "keyword_stats_schedule", TICK_TAG: tick.isoformat()},
    )


def lead_export_requests(tick: datetime) -> list[dg.RunRequest]:
    """One ``scout_lead_exports`` run per audience version for the tick's UTC day.

    The export writes the leads no export has carried yet, so the day only names the batch: the
    leads found since yesterday's export go out in today's files, and none twice.
    """
    day = tick.astimezone(UTC).date().isoformat()
    return [
        dg.RunRequest(
            run_key=f"{key}@{tick.isoformat()}",
            partition_key=key,
            tags={TRIGGER_TAG: "lead_export_schedule", TICK_TAG: tick.isoformat()},
        )
        for key in (
            dg.MultiPartitionKey({"date": day, "audience": audience})
            for audience in audience_partitions.get_partition_keys()
        )
    ]


ScheduleFn = Callable[[dg.ScheduleEvaluationContext], list[dg.RunRequest] | dg.RunRequest | dg.SkipReason]


def _schedule(
    *, name: str, env: str, cron: Callable[[], str], job: UnresolvedAssetJobDefinition, description: str
) -> Callable[[ScheduleFn], dg.ScheduleDefinition]:
    """``dg.schedule`` with the cadence from ``env``; an invalid cron names the variable.

    Dagster checks the cron string while the code location loads and cannot know which
    environment variable it came from; naming it turns a failed load into a one-line fix.
    """
    cron_string = cron()

    def wrap(fn: ScheduleFn) -> dg.ScheduleDefinition:
        try:
            return dg.schedule(
                name=name,
                job=job,
                cron_schedule=cron_string,
                execution_timezone=TIMEZONE,
                default_status=dg.DefaultScheduleStatus.RUNNING,
                description=description,
            )(fn)
        except dg.DagsterInvalidDefinitionError as exc:
            raise SettingsError(f"{env}={cron_string!r} is not a valid cron string: {exc}") from exc

    return wrap


@_schedule(
    name=SEARCH_SCHEDULE,
    env=SEARCH_CRON_ENV,
    cron=search_cron,
    job=scout_main_job,
    description=(
        "Every 15 minutes (SCOUT_SEARCH_CRON, UTC): search the next keyword pages on every platform "
        "and re-derive today's profiles, HAS and labeling queue."
    ),
)
def search_schedule(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest] | dg.SkipReason:
    return search_requests(tick_time(context), context.instance)


@_schedule(
    name="keyword_stats_schedule",
    env=STATS_CRON_ENV,
    cron=stats_cron,
    job=keyword_stats_job,
    description=(
        "Daily at 02:00 UTC (SCOUT_STATS_CRON): yesterday's keyword statistics and the keyword "
        "engine's verdicts, which the next searches read."
    ),
)
def keyword_stats_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return keyword_stats_request(tick_time(context))


@_schedule(
    name="lead_export_schedule",
    env=EXPORT_CRON_ENV,
    cron=export_cron,
    job=lead_exports_job,
    description=(
        "Daily at 06:00 UTC (SCOUT_EXPORT_CRON): every audience's leads no export has carried yet, as "
        "CSV, Parquet and JSON lines in the export folder or the archive bucket (docs/leads.md)."
    ),
)
def lead_export_schedule(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    return lead_export_requests(tick_time(context))
