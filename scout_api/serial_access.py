"""One DuckDB access at a time in the API process: the marts reader and the warehouse share a lock.

DuckDB refuses a read-only connection to a file while the same process holds a read-write one
("different configuration"), and the API answers requests in parallel threads: a lead list
(read-only, ``MartReader``) next to a key check or a write (read-write, ``WarehouseClient``) would
fail. DuckDB admits one writer anyway, and every operation opens and closes the file, so taking
turns costs little. PostgreSQL has no such limit: its clients are used as they are.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import polars as pl

from resources.warehouse import WarehouseClient, WarehouseLocation
from resources.warehouse.transaction import WarehouseTransaction
from scout_leads.reader import MartReader
from scout_leads.sql import Query


@dataclass(frozen=True, repr=False)
class SerialWarehouseClient(WarehouseClient):
    """``WarehouseClient`` whose transactions (every operation) hold ``lock``; re-entrant per thread."""

    lock: threading.RLock = field(default_factory=threading.RLock, compare=False)

    @contextmanager
    def transaction(self) -> Iterator[WarehouseTransaction]:
        with self.lock, super().transaction() as tx:
            yield tx

    def ensure_schema(self) -> list[str]:
        with self.lock:
            return super().ensure_schema()


@dataclass(frozen=True)
class SerialMartReader(MartReader):
    """``MartReader`` whose reads hold ``lock`` (the warehouse's)."""

    lock: threading.RLock = field(default_factory=threading.RLock, compare=False)

    def read(self, query: Query) -> pl.DataFrame:
        with self.lock:
            return super().read(query)


def warehouse_and_reader(
    location: WarehouseLocation, lock_wait_seconds: float
) -> tuple[WarehouseClient, MartReader]:
    """The API's warehouse client and marts reader: taking turns on DuckDB, free on PostgreSQL."""
    if location.kind != "duckdb":
        return (
            WarehouseClient(location, duckdb_lock_timeout_seconds=lock_wait_seconds),
            MartReader(location, lock_wait_seconds=lock_wait_seconds),
        )
    lock = threading.RLock()
    return (
        SerialWarehouseClient(location, duckdb_lock_timeout_seconds=lock_wait_seconds, lock=lock),
        SerialMartReader(location, lock_wait_seconds=lock_wait_seconds, lock=lock),
    )
