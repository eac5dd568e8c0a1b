"""What a backend must offer: one transaction at a time, as a small ``Session``.

The write logic (validation, delete-then-insert, conflict handling) lives once in
``transaction.py`` on top of this protocol; a backend only knows how to open a connection,
run a statement, read an Arrow result and stage a frame where SQL can select from it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

import polars as pl

from resources.warehouse.location import WarehouseLocation
from resources.warehouse.sql import Dialect
from scout_contract.tables import Table


class Session(Protocol):
    """One open transaction on one connection."""

    dialect: Dialect

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None: ...

    def execute_count(self, sql: str, params: Sequence[Any] | None = None) -> int:
        """Run one INSERT/UPDATE/DELETE and return how many rows it changed."""
        ...

    def read(self, sql: str, params: Sequence[Any] | None = None) -> pl.DataFrame: ...

    def read_batches(self, sql: str, params: Sequence[Any] | None, rows: int) -> Iterator[pl.DataFrame]:
        """The result of ``sql`` as the driver streams it, in frames of up to about ``rows`` rows.

        The whole result is never held at once. Nothing else may run on the session until the
        iterator is exhausted.
        """
        ...

    def stage(self, table: Table, frame: pl.DataFrame) -> str:
        """Make ``frame`` selectable under the returned name for the rest of the transaction.

        ``frame`` already has exactly ``table``'s columns and polars types.
        """
        ...

    def unstage(self, name: str) -> None: ...

    def prepare_partition(self, table: Table, address: Mapping[str, Any]) -> str:
        """Make sure rows of partition ``address`` can be stored; return the relation holding them.

        PostgreSQL creates a missing day partition of a ``stored_by_day`` table; otherwise a no-op.
        """
        ...

    def empty_partition(self, table: Table, address: Mapping[str, Any]) -> str:
        """Remove every row of partition ``address`` (checked); return the relation to load it into."""
        ...

    def load(self, table: Table, frame: pl.DataFrame, into: str | None = None) -> int:
        """Insert every row of ``frame`` into ``table`` as it is; return how many.

        No conflict handling: a key already in the table fails the transaction. The fastest way in
        (PostgreSQL: binary COPY straight into the table, or into ``into``, the partition's own
        leaf table from ``empty_partition``), for a partition just emptied.
        """
        ...

    def lock_schema(self) -> None:
        """Serialize concurrent ``ensure_schema`` calls for the rest of the transaction."""
        ...


class Backend(Protocol):
    dialect: Dialect
    display: str
    errors: tuple[type[Exception], ...]

    def session(self) -> AbstractContextManager[Session]:
        """A fresh connection in one transaction: commit on clean exit, roll back on error, close."""
        ...


def open_backend(location: WarehouseLocation, duckdb_lock_timeout_seconds: float) -> Backend:
    """The backend of ``location``; each driver is imported only when its backend is used.

    ``Warehouse`` uses it, and so do programs that must not import Dagster (the dashboard).
    """
    if location.kind == "duckdb":
        from resources.warehouse.duckdb_backend import DuckDBBackend

        assert location.path is not None
        return DuckDBBackend(location.path, location.display, duckdb_lock_timeout_seconds)
    from resources.warehouse.postgres_backend import PostgresBackend

    return PostgresBackend(location)
