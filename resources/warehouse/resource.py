"""``Warehouse``: the Dagster resource every asset reads and writes tables through.

One interface, two backends chosen by a URL: the embedded default is a DuckDB file under
the data folder; production binds a PostgreSQL URL (``scout_assets.resources_binding``).
Assets hand over and get back polars frames shaped by ``schema.py``; this package is the
only code that spells SQL types or dialect differences.

Parameters in ``read``/``execute`` are positional ``$1, $2 ...`` on both backends. Bind
real Python types (``datetime.date`` for a date column, not ``"2026-03-01"``) or cast the
placeholder (``$1::DATE``): PostgreSQL types a Python ``str`` as ``text``. The methods that
take a ``where`` mapping do this for you.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal

import dagster as dg
import polars as pl
from pydantic import Field

from resources.warehouse.backend import Backend, open_backend
from resources.warehouse.location import WarehouseLocation, parse_warehouse_url
from resources.warehouse.schema_sync import sync_schema
from resources.warehouse.transaction import WarehouseTransaction


class Warehouse(dg.ConfigurableResource):
    """Scout's warehouse: DuckDB (embedded default) or PostgreSQL (production).

    Every method opens a connection, runs in one transaction and closes it again, so other
    processes (Dagster runs, dbt) can use a DuckDB file between operations. Use
    ``transaction()`` to write several tables atomically.
    """

    url: str = Field(
        repr=False,  # may carry a password
        description=(
            "duckdb:///abs/path.duckdb: that file. postgresql://user[:password]@host:port/db: PostgreSQL "
            "(bind with EnvVar('SCOUT_WAREHOUSE_URL')). The binding chooses the embedded default."
        ),
    )
    duckdb_lock_timeout_seconds: float = Field(
        default=60.0,
        description="How long to keep retrying while another process holds the DuckDB file lock.",
    )

    @property
    def location(self) -> WarehouseLocation:
        return parse_warehouse_url(self.url)

    @property
    def kind(self) -> Literal["duckdb", "postgres"]:
        return self.location.kind

    def describe(self) -> str:
        """Where the warehouse is, safe for logs and metadata (password masked)."""
        return self.location.display

    def __repr__(self) -> str:
        return f"Warehouse({self.describe()!r})"

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

    def replace_partition(self, table: str, frame: pl.DataFrame, where: Mapping[str, Any]) -> int:
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
    getattr(Warehouse, _name).__doc__ = getattr(WarehouseTransaction, _name).__doc__
del _name
