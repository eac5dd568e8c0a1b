"""Run a dashboard ``Query`` against the marts and return a polars frame.

DuckDB allows either one writing process or several read-only ones per file, and Dagster
runs and dbt write ``scout.duckdb``. So the dashboard never keeps the file open: each query
opens it read-only, reads, and closes, retrying for a few seconds while a writer holds it.
PostgreSQL has no such limit; a connection per query keeps the two paths alike (the
results are cached by the app, so queries are few).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from resources.warehouse.duckdb_backend import is_lock_conflict, open_duckdb
from resources.warehouse.location import WarehouseLocation
from scout_leads.sql import Query


class MartsUnavailable(RuntimeError):
    """The marts cannot be read now: no warehouse, marts not built yet, or a writer holds the file."""


@dataclass(frozen=True)
class MartReader:
    """Reads the marts of one warehouse; ``describe()`` is safe to show (password masked)."""

    location: WarehouseLocation
    lock_wait_seconds: float = 10.0

    def describe(self) -> str:
        return self.location.display

    def read(self, query: Query) -> pl.DataFrame:
        if self.location.kind == "duckdb":
            return self._read_duckdb(query)
        return self._read_postgres(query)

    def _read_duckdb(self, query: Query) -> pl.DataFrame:
        import duckdb

        path = self.location.path
        assert path is not None
        if not path.exists():
            raise MartsUnavailable(
                f"no warehouse at {self.describe()}: materialize the assets, then build the marts (dbt build)"
            )
        try:
            with open_duckdb(path, timeout=self.lock_wait_seconds, read_only=True) as con:
                return con.sql(query.sql, params=list(query.params)).pl()
        except duckdb.CatalogException as exc:
            raise MartsUnavailable(
                f"the marts are not built in {self.describe()} yet (run dbt build): {exc}"
            ) from exc
        except duckdb.IOException as exc:
            if is_lock_conflict(exc):
                raise MartsUnavailable(
                    f"{self.describe()} stayed locked by a writer (a Dagster run or dbt) for "
                    f"{self.lock_wait_seconds:g}s; reload in a moment"
                ) from exc
            raise

    def _read_postgres(self, query: Query) -> pl.DataFrame:
        import adbc_driver_postgresql.dbapi as pg

        assert self.location.dsn is not None
        try:
            with pg.connect(self.location.dsn) as con, con.cursor() as cur:
                cur.execute(query.sql, list(query.params) or None)
                return pl.from_arrow(cur.fetch_arrow_table())  # type: ignore[return-value]
        except pg.ProgrammingError as exc:
            message = self.location.scrub(str(exc))
            if "does not exist" in message:
                raise MartsUnavailable(
                    f"the marts are not built in {self.describe()} yet (run dbt build): {message}"
                ) from None
            raise MartsUnavailable(f"query failed in {self.describe()}: {message}") from None
        except pg.OperationalError as exc:
            raise MartsUnavailable(
                f"cannot reach {self.describe()}: {self.location.scrub(str(exc))}"
            ) from None
