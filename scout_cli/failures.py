"""Every run ``scout run`` starts and that does not succeed leaves a row in ``run_failures``.

The daemon's ``run_failure_sensor`` records the runs it launched; in-process runs are not its
to see, so the CLI records its own, with the same classification and writer
(``sensors.run_failures.record_in_process_failure``). A warehouse that cannot take the row (it
may be what failed) costs the row, not the command: the reason is printed instead.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import dagster as dg

from resources.warehouse import WarehouseError
from scout_assets.resources_binding import open_warehouse
from sensors.run_failures import record_in_process_failure

log = logging.getLogger(__name__)


def record_failed_run(instance: dg.DagsterInstance, run_id: str, *, stopped_by: str | None = None) -> None:
    """Record one failed or stopped in-process run and print what was recorded."""
    try:
        row = record_in_process_failure(
            instance, run_id, open_warehouse(), datetime.now(UTC), log, stopped_by=stopped_by
        )
    except (WarehouseError, ValueError, OSError) as exc:
        print(
            f"could not record the failure of run {run_id} in run_failures: {exc}",
            file=sys.stderr,
            flush=True,
        )
        return
    print(
        f"recorded in run_failures: {row['job_name']} {row['partition_key'] or ''} run {run_id}: "
        f"{row['failure_kind']}, {row['action']}",
        file=sys.stderr,
        flush=True,
    )
