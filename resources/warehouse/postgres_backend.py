"""The production backend: PostgreSQL through ADBC, bulk loads through binary COPY.

Why ADBC (``adbc-driver-postgresql``) and not psycopg2's ``copy_expert``:

* ``adbc_ingest`` streams an Arrow table with ``COPY ... FROM STDIN (FORMAT binary)``. Values
  travel typed, so there is no CSV/TEXT escaping to get wrong: empty string and NULL stay
  distinct, and commas, quotes, tabs, newlines, backslashes and emoji need no handling.
  Polars hands over Arrow without a copy, and dates/timestamps/booleans keep their types.
* Results come back as Arrow (``fetch_arrow_table``), straight into polars.
* Its placeholders are libpq's own ``$1, $2 ...``, the same style DuckDB accepts, so SQL
  written for one backend runs on the other without translation.

A partition replace deletes the partition's rows and COPYs the new ones straight into the
table, in one transaction (no staging: nothing can conflict with rows just deleted, and a crash
mid-COPY rolls back to the previous rows). Appends and upserts need conflict handling, so they
copy the frame into a temporary staging table shaped ``LIKE`` the target (exact column types),
then move rows with ``INSERT ... SELECT`` (``ON CONFLICT DO NOTHING`` for ledgers, ``DO UPDATE``
for upserts); the staging table is dropped at once and in any case at commit. A connection lives for one transaction only. (After each ingest the
driver sends a redundant BEGIN; the server logs "there is already a transaction in
progress" and carries on in the same transaction, which the rollback tests prove.)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import adbc_driver_postgresql.dbapi as pg
import polars as pl
from adbc_driver_manager import dbapi as adbc_dbapi

from resources.warehouse.errors import WarehouseError
from resources.warehouse.location import WarehouseLocation
from resources.warehouse.sql import POSTGRES, Dialect, day_partition_tables, delete_where, quote
from scout_contract.tables import Table

_stage_numbers = itertools.count(1)

# Any fixed number works; it only has to be the same for every Scout process.
_SCHEMA_LOCK_ID = 0x5C0_7AB1E
_CONNECT_TIMEOUT_SECONDS = 15

# The kind of a relation in the current schema: 'r' a plain table, 'p' a partitioned one.
_RELKIND = (
    "SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = current_schema() AND c.relname = $1"
)


class PostgresSession:
    dialect: Dialect = POSTGRES

    def __init__(self, cursor: adbc_dbapi.Cursor) -> None:
        self._cur = cursor

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self._cur.execute(sql, list(params) if params else None)

    def execute_count(self, sql: str, params: Sequence[Any] | None = None) -> int:
        # ADBC reports no row count for prepared DML, so count what the statement returns.
        self._cur.execute(
            f"WITH _scout_changed AS ({sql} RETURNING 1) SELECT count(*) FROM _scout_changed",
            list(params) if params else None,
        )
        row = self._cur.fetchone()
        return int(row[0]) if row else 0

    def read(self, sql: str, params: Sequence[Any] | None = None) -> pl.DataFrame:
        self._cur.execute(sql, list(params) if params else None)
        if self._cur.description is None:  # a statement without a result set
            return pl.DataFrame()
        return pl.from_arrow(self._cur.fetch_arrow_table())

    def read_batches(self, sql: str, params: Sequence[Any] | None, rows: int) -> Iterator[pl.DataFrame]:
        # The driver streams the result (COPY TO binary) in batches of about 16 MB of its own sizing;
        # they are gathered up to ``rows``.
        self._cur.execute(sql, list(params) if params else None)
        held: list[pl.DataFrame] = []
        for batch in self._cur.fetch_record_batch():
            held.append(pl.from_arrow(batch))
            if sum(frame.height for frame in held) >= rows:
                yield pl.concat(held)
                held = []
        if held:
            yield pl.concat(held)

    def stage(self, table: Table, frame: pl.DataFrame) -> str:
        name = f"_scout_stage_{table.name}_{next(_stage_numbers)}"
        self._cur.execute(f"CREATE TEMPORARY TABLE {quote(name)} (LIKE {quote(table.name)}) ON COMMIT DROP")
        # temporary=True makes the driver look the table up in pg_temp; "append" keeps our types.
        self._cur.adbc_ingest(name, frame.to_arrow(), mode="append", temporary=True)
        return name

    def unstage(self, name: str) -> None:
        self._cur.execute(f"DROP TABLE IF EXISTS pg_temp.{quote(name)}")

    def prepare_partition(self, table: Table, address: Mapping[str, Any]) -> str:
        if table.stored_by_day and self._is_partitioned(table.name):
            return self._ensure_day_partition(table, address)
        return table.name

    def empty_partition(self, table: Table, address: Mapping[str, Any]) -> str:
        leaf = self.prepare_partition(table, address)
        if leaf != table.name:
            # Transactional in PostgreSQL: a rollback (or a crash) brings the old rows back.
            self._cur.execute(f"TRUNCATE {quote(leaf)}")
            return leaf
        # A plain table (any table not stored by day, or one created before it was).
        statement, params = delete_where(self.dialect, table, address)
        self.execute(statement, params)
        return table.name

    def load(self, table: Table, frame: pl.DataFrame, into: str | None = None) -> int:
        # Binary COPY into the table (or its partition's leaf): the frame's columns, in its order.
        self._cur.adbc_ingest(into or table.name, frame.to_arrow(), mode="append")
        return frame.height

    def _is_partitioned(self, name: str) -> bool:
        self._cur.execute(_RELKIND, [name])
        row = self._cur.fetchone()
        return bool(row) and row[0] == "p"

    def _ensure_day_partition(self, table: Table, address: Mapping[str, Any]) -> str:
        """Create the day and leaf partitions of ``address`` when missing; return the leaf's name.

        Only the first write of a new day and platform creates anything: it takes a transaction
        lock named after the day's partition (so two writers of one new day cannot race each other's
        CREATE) and holds the table's ``CREATE ... PARTITION OF`` lock until it commits.
        """
        levels = day_partition_tables(table, address)
        leaf = levels[-1][0]
        if self._exists(leaf):
            return leaf
        self._cur.execute("SELECT pg_advisory_xact_lock(hashtext($1))", [levels[0][0]])
        for _name, statement in levels:
            self._cur.execute(statement)
        return leaf

    def _exists(self, name: str) -> bool:
        self._cur.execute(_RELKIND, [name])
        return self._cur.fetchone() is not None

    def lock_schema(self) -> None:
        # Two processes racing CREATE TABLE IF NOT EXISTS can still collide in pg_type.
        self._cur.execute("SELECT pg_advisory_xact_lock($1)", [_SCHEMA_LOCK_ID])


class PostgresBackend:
    dialect: Dialect = POSTGRES
    errors: tuple[type[Exception], ...] = (adbc_dbapi.Error,)

    def __init__(self, location: WarehouseLocation) -> None:
        assert location.dsn is not None
        self._location = location
        self.display = location.display

    def connect(self) -> adbc_dbapi.Connection:
        dsn = self._location.dsn
        if "connect_timeout=" not in dsn:
            # libpq waits forever on a silent host by default; a run should fail and retry instead.
            dsn += ("&" if "?" in dsn else "?") + f"connect_timeout={_CONNECT_TIMEOUT_SECONDS}"
        try:
            return pg.connect(dsn, autocommit=False)
        except adbc_dbapi.Error as exc:
            # `from None`: the driver's exception (and its args) might echo the URI.
            raise WarehouseError(
                f"cannot connect to warehouse {self.display}: {self._location.scrub(str(exc))}"
            ) from None

    @contextmanager
    def session(self) -> Iterator[PostgresSession]:
        con = self.connect()
        try:
            cursor = con.cursor()
            try:
                yield PostgresSession(cursor)
                con.commit()
            except BaseException:
                with suppress(adbc_dbapi.Error):
                    con.rollback()
                raise
            finally:
                with suppress(adbc_dbapi.Error):
                    cursor.close()
        finally:
            with suppress(adbc_dbapi.Error):
                con.close()
