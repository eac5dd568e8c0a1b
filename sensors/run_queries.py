"""Questions automation asks the Dagster instance about runs, in one place."""

from __future__ import annotations

import dagster as dg

from sensors.targets import PARTITION_TAG

# Runs that have not started working yet, and runs that are working: either will still act on
# their partition, so a second launch would only wait behind them.
WAITING = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED]
UNFINISHED = [
    *WAITING,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def run_of_partition(
    instance: dg.DagsterInstance,
    job_name: str,
    partition_key: str,
    statuses: list[dg.DagsterRunStatus],
    tags: dict[str, str] | None = None,
) -> str | None:
    """The id of one run of ``job_name`` on ``partition_key`` in one of ``statuses``, if any."""
    runs = instance.get_runs(
        filters=dg.RunsFilter(
            job_name=job_name, tags={PARTITION_TAG: partition_key, **(tags or {})}, statuses=statuses
        ),
        limit=1,
    )
    return runs[0].run_id if runs else None
