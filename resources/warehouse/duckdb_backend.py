"""The embedded backend: a DuckDB file, opened only for the length of one transaction.

DuckDB lets one process at a time open a file for writing. Dagster runs, the Dagster
webserver and dbt are separate processes sharing ``scout.duckdb``, so no connection is kept
between operations, and opening retries with backoff (stamina, bounded by attempts and
``lock_timeout``) while another process holds the lock. Frames reach SQL through DuckDB's
native Arrow scan (``register``), never a Python row loop.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import stamina

from resources.warehouse.errors import WarehouseLockedError
from resources.warehouse.sql import DUCKDB, Dialect, delete_where, insert_from
from scout_contract.tables import Table

_stage_numbers = itertools.count(1)


def is_lock_conflict(exc: BaseException) -> bool:
    """True when DuckDB refused the file because another process holds its lock."""
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def open_duckdb(path: Path, *, timeout: float, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open ``path``, waiting with backoff (up to ``timeout`` seconds) while another process holds it.

    The one place that knows how to wait for the file: the warehouse backend opens it for
    writing, the dashboard read-only. A lock held past ``timeout`` re-raises DuckDB's error;
    callers turn it into their own message.
    """
    for attempt in stamina.retry_context(
        on=is_lock_conflict, attempts=100, timeout=timeout, wait_initial=0.05, wait_max=2.0, wait_jitter=0.1
    ):
        with attempt:
            return duckdb.connect(str(path), read_only=read_only)
    raise AssertionError("unreachable: stamina either returns a connection or raises")  # pragma: no cover


class DuckDBSession:
    dialect: Dialect = DUCKDB

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self._con = connection

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self._con.execute(sql, list(params) if params else None)

    def execute_count(self, sql: str, params: Sequence[Any] | None = None) -> int:
        # DuckDB answers a DML statement with a one-row "Count" result.
        row = self._con.execute(sql, list(params) if params else None).fetchone()
        return int(row[0]) if row else 0

    def read(self, sql: str, params: Sequence[Any] | None = None) -> pl.DataFrame:
        relation = self._con.sql(sql, params=list(params) if params else None)
        if relation is None:  # a statement without a result set
            return pl.DataFrame()
        return pl.from_arrow(relation.to_arrow_table())

    def read_batches(self, sql: str, params: Sequence[Any] | None, rows: int) -> Iterator[pl.DataFrame]:
        relation = self._con.sql(sql, params=list(params) if params else None)
        for batch in relation.fetch_arrow_reader(batch_size=rows):
            yield pl.from_arrow(batch)

    def stage(self, table: Table, frame: pl.DataFrame) -> str:
        name = f"_scout_stage_{table.name}_{next(_stage_numbers)}"
        self._con.register(name, frame.to_arrow())
        return name

    def unstage(self, name: str) -> None:
        self._con.unregister(name)

    def prepare_partition(self, table: Table, address: Mapping[str, Any]) -> str:
        return table.name  # one plain table holds every partition

    def empty_partition(self, table: Table, address: Mapping[str, Any]) -> str:
        statement, params = delete_where(self.dialect, table, address)
        self.execute(statement, params)
        return table.name

    def load(self, table: Table, frame: pl.DataFrame, into: str | None = None) -> int:
        # A registered frame is already zero-copy: INSERT ... SELECT from it is DuckDB's bulk path.
        name = self.stage(table, frame)
        try:
            return self.execute_count(insert_from(table, name, "fail"))
        finally:
            self.unstage(name)

    def lock_schema(self) -> None:
        """Nothing to do: the file lock already makes this process the only writer."""


class DuckDBBackend:
    dialect: Dialect = DUCKDB
    errors: tuple[type[Exception], ...] = (duckdb.Error,)

    def __init__(self, path: Path, display: str, lock_timeout: float) -> None:
        self.path = path
        self.display = display
        self.lock_timeout = lock_timeout

    def connect(self) -> duckdb.DuckDBPyConnection:
        """Open the file, waiting (with backoff) while another process holds its lock."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return open_duckdb(self.path, timeout=self.lock_timeout)
        except duckdb.IOException as exc:
            if is_lock_conflict(exc):
                raise WarehouseLockedError(
                    f"warehouse {self.display} stayed locked by another process for "
                    f"{self.lock_timeout:g}s; is a long Dagster run, dbt or a DuckDB shell holding it? ({exc})"
                ) from exc
            raise

    @contextmanager
    def session(self) -> Iterator[DuckDBSession]:
        con = self.connect()
        try:
            con.begin()
            yield DuckDBSession(con)
            con.commit()
        except BaseException:
            with suppress(duckdb.Error):
                con.rollback()
            raise
        finally:
            con.close()
