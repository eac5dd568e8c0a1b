"""The warehouse's read and write operations, bound to one open transaction.

``Warehouse`` methods each run one of these in a transaction of their own; an asset that
must change several tables together uses ``Warehouse.transaction()`` and calls the same
methods on the yielded ``WarehouseTransaction``, so they commit or roll back as one.

Every write validates its frame against ``schema.py`` first (see ``frames.py``), so a bad
frame fails before anything is deleted (a partition replaced chunk by chunk checks each later
chunk as it comes); a failure after that (a bad chunk, a constraint, a lost connection) rolls
the whole transaction back and the previous rows stay.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import polars as pl

import resources.warehouse.sql as sql
from resources.warehouse.backend import Backend, Session
from resources.warehouse.errors import WarehouseError
from resources.warehouse.frames import (
    check_key,
    check_rows_match,
    coerce_filter,
    conform_frame,
    partition_filter,
)
from scout_contract.tables import Table, polars_schema
from scout_contract.tables import table as declared_table

T = TypeVar("T")


class WarehouseTransaction:
    """Write and read methods sharing one transaction (see module docstring)."""

    def __init__(self, session: Session, backend: Backend) -> None:
        self._session = session
        self._backend = backend

    def replace_partition(
        self, table: str, frame: pl.DataFrame | Iterable[pl.DataFrame], where: Mapping[str, Any]
    ) -> int:
        """Delete the rows of partition ``where`` and insert ``frame``; return rows inserted.

        ``where`` names exactly the table's partition columns and every row of ``frame``
        must belong to it, so re-running a partition replaces it and touches nothing else.
        ``frame`` may also be an iterable of frames, for a partition too large to hold at once:
        the partition is emptied once and each chunk is loaded as it comes. A key is unique
        across the chunks too (checked by the hashes of the keys already loaded: DuckDB stores
        the large tables without a key index), so split the rows by key.
        """
        spec = declared_table(table)
        address = partition_filter(spec, where)
        what = f"replace_partition {spec.name} ({_describe_where(address)})"
        chunks = iter([frame] if isinstance(frame, pl.DataFrame) else frame)
        first = self._checked(spec, next(chunks, pl.DataFrame(schema=polars_schema(spec.columns))), address)
        target = self._guard(what, lambda: self._session.empty_partition(spec, address))
        loaded = pl.Series("key_hash", [], dtype=pl.UInt64)
        for chunk in itertools.chain([first], (self._checked(spec, c, address) for c in chunks)):
            keys = chunk.select(spec.key).hash_rows(seed=0)
            if loaded.len() and keys.is_in(loaded.implode()).any():
                raise ValueError(
                    f"table {spec.name!r}: partition {_describe_where(address)} was given in chunks that share "
                    "a key; split the rows by key"
                )
            if chunk.height:
                self._guard(what, functools.partial(self._session.load, spec, chunk, into=target))
            loaded = loaded.append(keys)
        return loaded.len()

    @staticmethod
    def _checked(spec: Table, frame: pl.DataFrame, address: Mapping[str, Any]) -> pl.DataFrame:
        frame = conform_frame(spec, frame)
        check_key(spec, frame)
        check_rows_match(spec, frame, address)
        return frame

    def append(self, table: str, frame: pl.DataFrame) -> int:
        """Insert the rows whose key is not in the table yet; return how many were added.

        Meant for ledgers: appending the same frame again adds nothing.
        """
        spec = declared_table(table)
        frame = conform_frame(spec, frame)
        check_key(spec, frame)
        if not frame.height:
            return 0
        return self._insert(spec, frame, "ignore", f"append {spec.name}")

    def upsert(self, table: str, frame: pl.DataFrame) -> int:
        """Insert rows, replacing those whose key already exists; return rows written."""
        spec = declared_table(table)
        frame = conform_frame(spec, frame)
        check_key(spec, frame)
        if not frame.height:
            return 0
        return self._insert(spec, frame, "update", f"upsert {spec.name}")

    def delete(self, table: str, where: Mapping[str, Any]) -> int:
        """Delete the rows matching every ``column == value`` of ``where`` (None: IS NULL)."""
        spec = declared_table(table)
        if not where:
            raise ValueError(
                f"table {spec.name!r}: delete() needs at least one column in `where`; "
                "to empty a table say so with execute('DELETE FROM ...')"
            )
        statement, params = sql.delete_where(self._session.dialect, spec, coerce_filter(spec, where))
        return self._guard(f"delete {spec.name}", lambda: self._session.execute_count(statement, params))

    def read_table(self, table: str, where: Mapping[str, Any] | None = None) -> pl.DataFrame:
        """The table's rows (optionally filtered), ordered by key, with ``polars_schema`` types."""
        spec = declared_table(table)
        statement, params = sql.select_table(self._session.dialect, spec, coerce_filter(spec, where or {}))
        frame = self._guard(f"read_table {spec.name}", lambda: self._session.read(statement, params))
        schema = polars_schema(spec.columns)
        if frame.height == 0:
            return pl.DataFrame(schema=schema)
        return frame.cast(dict(schema))

    def read(self, query: str, params: Sequence[Any] | None = None) -> pl.DataFrame:
        """Run a query with ``$1, $2 ...`` placeholders and return its result as polars."""
        return self._guard(_describe_sql(query), lambda: self._session.read(query, params))

    def read_batches(
        self, query: str, params: Sequence[Any] | None = None, rows: int = 100_000
    ) -> Iterator[pl.DataFrame]:
        """:meth:`read`, streamed: the result in frames of up to about ``rows`` rows, so a result
        larger than memory can be consumed. Run nothing else in the transaction until it is done."""
        batches = self._session.read_batches(query, params, rows)
        what = _describe_sql(query)
        while (batch := self._guard(what, lambda: next(batches, None))) is not None:
            yield batch

    def execute(self, statement: str, params: Sequence[Any] | None = None) -> None:
        """Run one statement with ``$1, $2 ...`` placeholders, discarding any result."""
        self._guard(_describe_sql(statement), lambda: self._session.execute(statement, params))

    def _insert(self, spec: Table, frame: pl.DataFrame, on_conflict: sql.OnConflict, what: str) -> int:
        def run() -> int:
            if spec.stored_by_day:  # every partition the rows fall in must exist first
                for address in frame.select(spec.partition_columns).unique().iter_rows(named=True):
                    self._session.prepare_partition(spec, address)
            stage = self._session.stage(spec, frame)
            for statement in sql.insert_statements(self._session.dialect, spec, stage, on_conflict):
                changed = self._session.execute_count(statement)
            # Only on success: after a failure Postgres refuses every statement until rollback,
            # and rollback (or closing the DuckDB connection) discards the stage anyway.
            self._session.unstage(stage)
            return changed

        return self._guard(what, run)

    def _guard(self, what: str, action: Callable[[], T]) -> T:
        """Run ``action``, turning driver errors into ``WarehouseError`` that says what failed where."""
        try:
            return action()
        except self._backend.errors as exc:
            raise WarehouseError(f"{what} failed in warehouse {self._backend.display}: {exc}") from exc


def _describe_where(where: Mapping[str, Any]) -> str:
    return ", ".join(f"{column}={value}" for column, value in where.items())


def _describe_sql(statement: str) -> str:
    flat = " ".join(statement.split())
    return f"SQL {flat[:200]!r}"
