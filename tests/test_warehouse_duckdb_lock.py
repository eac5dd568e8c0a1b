"""DuckDB shares its file with other processes: short-lived connections and lock retries.

A second real process (``python -c``) holds the file open, as a Dagster run or dbt would.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from stamina.instrumentation import RetryDetails, get_on_retry_hooks, set_on_retry_hooks

from resources.warehouse import Warehouse, WarehouseLockedError

_HOLDER = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1])
    print("locked", flush=True)
    sys.stdin.readline()  # hold the lock until the test says so
    con.close()
    print("released", flush=True)
    """
)


@contextmanager
def file_held_by_another_process(path: Path) -> Iterator[subprocess.Popen]:
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "locked"
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


@contextmanager
def on_retry(hook) -> Iterator[None]:
    """Install a stamina retry hook for the block (stamina's hooks are global)."""
    previous = get_on_retry_hooks()
    set_on_retry_hooks([hook])
    try:
        yield
    finally:
        set_on_retry_hooks(previous)


def release(process: subprocess.Popen) -> None:
    assert process.stdin is not None
    process.stdin.write("go\n")
    process.stdin.flush()


def test_no_connection_is_kept_between_operations(duckdb_warehouse: Warehouse) -> None:
    path = duckdb_warehouse.location.path
    duckdb_warehouse.read_table("keywords")
    # Another process can take the write lock right after an operation returned.
    with file_held_by_another_process(path) as holder:
        release(holder)
        assert holder.stdout.readline().strip() == "released"


def test_operation_waits_for_the_lock_and_then_succeeds(duckdb_warehouse: Warehouse) -> None:
    retries: list[RetryDetails] = []

    def release_after_first_retry(details: RetryDetails) -> None:
        retries.append(details)
        if len(retries) == 1:
            release(holder)

    with (
        file_held_by_another_process(duckdb_warehouse.location.path) as holder,
        on_retry(release_after_first_retry),
    ):
        assert duckdb_warehouse.read_table("keywords").height == 0
    # It failed on the lock at least once, and succeeded only once the holder let go.
    assert retries and "lock" in str(retries[0].caused_by).lower()


def test_a_lock_held_too_long_gives_a_clear_error(tmp_path: Path) -> None:
    warehouse = Warehouse(url=f"duckdb://{tmp_path / 'held.duckdb'}", duckdb_lock_timeout_seconds=0.3)
    warehouse.ensure_schema()
    with file_held_by_another_process(warehouse.location.path) as holder:
        with pytest.raises(
            WarehouseLockedError, match=r"held\.duckdb stayed locked by another process for 0.3s"
        ):
            warehouse.read_table("keywords")
        release(holder)
    assert warehouse.read_table("keywords").height == 0
