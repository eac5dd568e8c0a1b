"""The Scout jobs automation launches and watches, named once."""

from __future__ import annotations

from scout_assets.jobs import ALL_JOBS, label_job, scout_main_job

# Every job of the code location: failures of any of them are recorded and, if transient, retried.
SCOUT_JOBS = list(ALL_JOBS)
SCOUT_JOB_NAMES = frozenset(job.name for job in SCOUT_JOBS)

MAIN_JOB = scout_main_job.name
LABEL_JOB = label_job.name

# Tags automation puts on the runs it launches, so the UI can filter by them.
TRIGGER_TAG = "scout/trigger"  # which schedule or sensor launched the run
REASON_TAG = "scout/reason"  # why, in a few words (e.g. audience:thelai_customers.v4)
TICK_TAG = "scout/tick"  # the tick's scheduled time (schedules)
RETRY_OF_TAG = "scout/retry_of"  # the failed run this run retries
ATTEMPT_TAG = "scout/attempt"  # 1 for a first run, 2.. for retries
PARTITION_TAG = "dagster/partition"  # set by Dagster on every partitioned run
