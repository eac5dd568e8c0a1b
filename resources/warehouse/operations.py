"""The warehouse's operations, over any location: shared by the Dagster resource and plain programs.

``Warehouse`` (the resource every asset uses) and ``WarehouseClient`` (the dashboard, the HTTP API and
the lead operations, which must not need a Dagster context) are the same operations over the same
backends; only how they learn their location differs. Every method opens a connection, runs in one
transaction and closes it again, so other processes (Dagster runs, dbt) can use a DuckDB file
between operations. Use ``transaction()`` to write several tables atomically.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from resources.warehouse.backend import Backend, open_backend
from resources.warehouse.location import WarehouseLocation
from resources.warehouse.schema_sync import sync_schema
from resources.warehouse.transaction import WarehouseTransaction


class WarehouseOperations:
    """Every warehouse operation, given ``location`` and ``duckdb_lock_timeout_seconds`` (subclasses)."""

    # Declared for type checkers only: a runtime annotation here would become a pydantic field of
    # the ``Warehouse`` resource, whose location is a property of its URL.
    if TYPE_CHECKING:
        location: WarehouseLocation
        duckdb_lock_timeout_seconds: float

    @property
    def kind(self) -> Literal["duckdb", "postgres"]:
        return self.location.kind

    def describe(self) -> str:
        """Where the warehouse is, safe for logs and metadata (password masked)."""
        return self.location.display

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()!r})"

    __str__ = __repr__

    def _backend(self) -> Backend:
        return open_backend(self.location, self.duckdb_lock_timeout_seconds)

    @contextmanager
    def transaction(self) -> Iterator[WarehouseTransaction]:
        """One transaction for several operations: commit when the block ends, roll back on error."""
        backend = self._backend()
        with backend.session() as session:
            yield WarehouseTransaction(session, backend)

    def ensure_schema(self) -> list[str]:
        """Create missing tables/indexes and add missing columns; return the DDL that changed something."""
        backend = self._backend()
        with backend.session() as session:
            return sync_schema(session, backend.display)

    def replace_partition(
        self, table: str, frame: pl.DataFrame | Iterable[pl.DataFrame], where: Mapping[str, Any]
    ) -> int:
        with self.transaction() as tx:
            return tx.replace_partition(table, frame, where)

    def append(self, table: str, frame: pl.DataFrame) -> int:
        with self.transaction() as tx:
            return tx.append(table, frame)

    def upsert(self, table: str, frame: pl.DataFrame) -> int:
        with self.transaction() as tx:
            return tx.upsert(table, frame)

    def delete(self, table: str, where: Mapping[str, Any]) -> int:
        with self.transaction() as tx:
            return tx.delete(table, where)

    def read_table(self, table: str, where: Mapping[str, Any] | None = None) -> pl.DataFrame:
        with self.transaction() as tx:
            return tx.read_table(table, where)

    def read(self, sql: str, params: Sequence[Any] | None = None) -> pl.DataFrame:
        with self.transaction() as tx:
            return tx.read(sql, params)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        with self.transaction() as tx:
            tx.execute(sql, params)


for _name in ("replace_partition", "append", "upsert", "delete", "read_table", "read", "execute"):
    getattr(WarehouseOperations, _name).__doc__ = getattr(WarehouseTransaction, _name).__doc__
del _name


@dataclass(frozen=True, repr=False)
class WarehouseClient(WarehouseOperations):
    """The warehouse for programs outside Dagster (dashboard, API, lead operations): same operations."""

    location: WarehouseLocation
    duckdb_lock_timeout_seconds: float = 60.0
