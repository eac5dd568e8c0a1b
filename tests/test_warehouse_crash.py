"""A writer killed in the middle of a partition replace leaves the previous partition intact.

PostgreSQL: a child process replaces a ``has_scores`` partition with a large frame (delete, then
binary COPY straight into the table, one transaction) and is killed with SIGKILL while the server
still shows its COPY running, so the kill provably lands before the commit. The partition must
then hold exactly the rows it held before; a later replace of the same partition must work (no
lock or half-written row is left behind).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date

import polars as pl
import pytest

from resources.warehouse import Warehouse
from tests.dbt_fixtures import rows

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DAY = date(2026, 3, 1)
PARTITION = {"partition_date": DAY, "platform": "twitter"}
BIG_ROWS = 1_000_000  # large enough that the COPY runs for a while on this machine

# The child: build the big frame first (before it says "writing"), then replace the partition.
_CHILD = textwrap.dedent(
    """
    import sys
    from datetime import date
    import polars as pl
    from resources.warehouse import Warehouse
    from tests.dbt_fixtures import rows

    url, n = sys.argv[1], int(sys.argv[2])
    frame = rows("has_scores").clear(n).with_columns(  # n rows of nulls, then the columns that matter
        platform=pl.lit("twitter"),
        partition_date=pl.lit(date(2026, 3, 1)),
        platform_id=pl.int_range(0, n).cast(pl.Utf8).str.zfill(9),
        has=pl.lit(0.5),
    )
    print("writing", flush=True)
    Warehouse(url=url).replace_partition("has_scores", frame, {"partition_date": date(2026, 3, 1), "platform": "twitter"})
    print("committed", flush=True)
    """
)


def _before(count: int) -> pl.DataFrame:
    return pl.concat(
        [
            rows(
                "has_scores",
                {"platform": "twitter", "platform_id": f"old{i}", "partition_date": DAY, "has": i / count},
            )
            for i in range(count)
        ]
    )


def _copy_running(warehouse: Warehouse) -> bool:
    frame = warehouse.read(
        "select count(*) as n from pg_stat_activity "
        "where datname = current_database() and pid <> pg_backend_pid() and query ilike 'copy%'"
    )
    return int(frame["n"][0]) > 0


def test_a_writer_killed_mid_copy_leaves_the_previous_partition(postgres_warehouse: Warehouse) -> None:
    postgres_warehouse.ensure_schema()
    postgres_warehouse.replace_partition("has_scores", _before(50), PARTITION)
    before = postgres_warehouse.read_table("has_scores", PARTITION)
    assert before.height == 50

    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, postgres_warehouse.url, str(BIG_ROWS)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=os.getcwd(),
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "writing"
        deadline = time.monotonic() + 120
        while not _copy_running(postgres_warehouse):
            assert child.poll() is None, "the writer ended before its COPY was seen"
            assert time.monotonic() < deadline, "no COPY seen within 120 s"
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL

    # The server notices the dead client and rolls its transaction back; wait for that.
    deadline = time.monotonic() + 60
    while _copy_running(postgres_warehouse):
        assert time.monotonic() < deadline, "the killed writer's COPY is still running after 60 s"
        time.sleep(0.1)

    after = postgres_warehouse.read_table("has_scores", PARTITION)
    assert after.equals(before)
    assert postgres_warehouse.read("select count(*) as n from has_scores")["n"][0] == 50

    # Nothing is left locked or half-written: the same partition can be replaced again.
    assert postgres_warehouse.replace_partition("has_scores", _before(3), PARTITION) == 3
    assert postgres_warehouse.read_table("has_scores", PARTITION).height == 3
