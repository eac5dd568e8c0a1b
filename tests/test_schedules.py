"""The search, keyword-stats and lead-export schedules, tick by tick (``dg.build_schedule_context``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import dagster as dg
import pytest

from scout_assets.jobs import keyword_stats_job, lead_exports_job, scout_main_job
from scout_assets.partitions import PLATFORMS, audience_partitions
from scout_contract.settings import ScoutSettings, SettingsError
from sensors import schedules
from sensors.schedules import keyword_stats_schedule, lead_export_schedule, search_schedule
from sensors.settings import (
    SEARCH_CRON_ENV,
    search_cron,
)
from tests.sensors_fixtures import stand_in_job


@pytest.fixture
def instance():
    """A persistent test instance: schedule contexts need an instance reference (ephemeral has none)."""
    with dg.instance_for_test() as instance:
        yield instance


def tick(at: datetime, instance: dg.DagsterInstance) -> list[dg.RunRequest]:
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=at)
    result = search_schedule(context)
    assert isinstance(result, list), result
    return result


def test_search_tick_requests_todays_partition_on_every_platform(instance):
    at = datetime(2026, 11, 23, 14, 15, tzinfo=UTC)
    requests = tick(at, instance)
    assert sorted(r.partition_key for r in requests) == [f"2026-11-23|{p}" for p in sorted(PLATFORMS)]
    for request in requests:
        assert request.run_key == f"{request.partition_key}@2026-11-23T14:15:00+00:00"
        assert request.tags["scout/trigger"] == "search_schedule"
        assert request.tags["scout/tick"] == at.isoformat()
        assert scout_main_job.partitions_def.has_partition_key(request.partition_key)


def test_search_day_comes_from_the_scheduled_time_in_utc_not_the_wall_clock(instance):
    # 23:45 UTC is already the next day in Tokyo: the partition stays the UTC day.
    tokyo = timezone(timedelta(hours=9))
    late = datetime(2026, 11, 24, 8, 45, tzinfo=tokyo)  # == 2026-11-23 23:45 UTC
    assert {r.partition_key.split("|")[0] for r in tick(late, instance)} == {"2026-11-23"}
    # the first tick after midnight UTC asks for the new day
    midnight = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    assert {r.partition_key.split("|")[0] for r in tick(midnight, instance)} == {"2026-11-24"}


def test_consecutive_ticks_have_distinct_run_keys_and_a_repeated_tick_the_same(instance):
    at = datetime(2026, 11, 23, 14, 15, tzinfo=UTC)
    first, again = tick(at, instance), tick(at, instance)
    following = tick(at + timedelta(minutes=15), instance)
    assert [r.run_key for r in first] == [r.run_key for r in again]  # a re-evaluated tick is deduplicated
    assert not {r.run_key for r in first} & {r.run_key for r in following}


def test_a_platform_whose_scheduled_search_still_waits_gets_no_second_one(instance):
    at = datetime(2026, 11, 23, 14, 15, tzinfo=UTC)

    def waiting_run(platform: str) -> dg.DagsterRun:
        return instance.create_run_for_job(
            stand_in_job("scout_main", None),
            status=dg.DagsterRunStatus.NOT_STARTED,
            tags={"dagster/partition": f"2026-11-23|{platform}", "scout/trigger": "search_schedule"},
        )

    waiting = waiting_run("twitter")
    assert [r.partition_key for r in tick(at, instance)] == ["2026-11-23|bluesky"]
    waiting_run("bluesky")
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=at)
    skipped = search_schedule(context)
    assert isinstance(skipped, dg.SkipReason)
    assert f"run {waiting.run_id} has not started yet" in skipped.skip_message
    # once it started (or ended), the next tick searches again
    instance.report_run_canceled(waiting)
    assert [r.partition_key for r in tick(at, instance)] == ["2026-11-23|twitter"]


def test_keyword_stats_tick_requests_the_previous_utc_day():
    at = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    request = keyword_stats_schedule(dg.build_schedule_context(scheduled_execution_time=at))
    assert request.partition_key == "2026-02-28"
    assert request.run_key == "2026-02-28@2026-03-01T02:00:00+00:00"
    assert request.tags["scout/trigger"] == "keyword_stats_schedule"
    assert keyword_stats_job.partitions_def.has_partition_key(request.partition_key)


def test_lead_export_tick_requests_every_audience_for_the_utc_day():
    at = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    requests = lead_export_schedule(dg.build_schedule_context(scheduled_execution_time=at))
    audiences = audience_partitions.get_partition_keys()
    assert audiences, "the shipped audience files are the audience partitions"
    assert sorted(r.partition_key for r in requests) == sorted(f"{a}|2026-03-02" for a in audiences)
    for request in requests:
        assert request.run_key == f"{request.partition_key}@2026-03-02T06:00:00+00:00"
        assert request.tags["scout/trigger"] == "lead_export_schedule"
        assert lead_exports_job.partitions_def.has_partition_key(request.partition_key)
    # the same tick again asks for the same run keys: the daemon launches none twice
    again = lead_export_schedule(dg.build_schedule_context(scheduled_execution_time=at))
    assert [r.run_key for r in again] == [r.run_key for r in requests]


def test_schedules_are_utc_running_by_default_and_target_their_jobs():
    assert search_schedule.cron_schedule == ScoutSettings().search_cron == "*/15 * * * *"
    assert keyword_stats_schedule.cron_schedule == ScoutSettings().stats_cron == "0 2 * * *"
    assert lead_export_schedule.cron_schedule == ScoutSettings().export_cron == "0 6 * * *"
    for schedule, job in (
        (search_schedule, scout_main_job),
        (keyword_stats_schedule, keyword_stats_job),
        (lead_export_schedule, lead_exports_job),
    ):
        assert schedule.execution_timezone == "UTC"
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
        assert schedule.job_name == job.name


def test_cron_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(SEARCH_CRON_ENV, "*/5 * * * *")
    built = schedules._schedule(
        name="probe", env=SEARCH_CRON_ENV, cron=search_cron, job=scout_main_job, description="probe"
    )(lambda context: [])
    assert built.cron_schedule == "*/5 * * * *"


@pytest.mark.parametrize("bad", ["every 15 minutes", "61 * * * *"])
def test_a_bad_cron_names_the_variable(monkeypatch, bad):
    monkeypatch.setenv(SEARCH_CRON_ENV, bad)
    with pytest.raises(SettingsError, match=SEARCH_CRON_ENV):
        schedules._schedule(
            name="probe", env=SEARCH_CRON_ENV, cron=search_cron, job=scout_main_job, description="probe"
        )(lambda context: [])
