"""The SQL both backends share, and the few words in which their dialects differ.

DuckDB and PostgreSQL agree on almost everything Scout needs: ``CREATE TABLE IF NOT
EXISTS``, ``INSERT ... SELECT ... ON CONFLICT``, ``information_schema`` and ``$1``-style
positional parameters. They differ in type names, so a ``Dialect`` carries those and the
statement builders below take one. Identifiers come only from ``schema.py`` and are still
checked and quoted; values are always bound parameters, never formatted into SQL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from scout_contract.tables import Table

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Dialect:
    """Type names of one backend.

    ``ddl_types`` maps a logical type to the DDL spelling; ``catalog_types`` to the spelling
    ``information_schema.columns.data_type`` reports (lower-cased), used to spot drift.
    """

    name: str
    ddl_types: Mapping[str, str]
    catalog_types: Mapping[str, str]

    def ddl_type(self, logical: str) -> str:
        return self.ddl_types[logical]


DUCKDB = Dialect(
    name="duckdb",
    ddl_types={
        "text": "VARCHAR",
        "int": "BIGINT",
        "float": "DOUBLE",
        "bool": "BOOLEAN",
        "date": "DATE",
        "timestamp": "TIMESTAMP",
    },
    catalog_types={
        "text": "varchar",
        "int": "bigint",
        "float": "double",
        "bool": "boolean",
        "date": "date",
        "timestamp": "timestamp",
    },
)

POSTGRES = Dialect(
    name="postgres",
    ddl_types={
        "text": "TEXT",
        "int": "BIGINT",
        "float": "DOUBLE PRECISION",
        "bool": "BOOLEAN",
        "date": "DATE",
        "timestamp": "TIMESTAMP WITHOUT TIME ZONE",
    },
    catalog_types={
        "text": "text",
        "int": "bigint",
        "float": "double precision",
        "bool": "boolean",
        "date": "date",
        "timestamp": "timestamp without time zone",
    },
)


def quote(identifier: str) -> str:
    """Double-quote a schema identifier after checking it is a plain lower-case name."""
    if not _IDENTIFIER.match(identifier):
        raise ValueError(f"refusing SQL identifier {identifier!r}: only [a-z_][a-z0-9_]* names are used")
    return f'"{identifier}"'


def column_list(columns: Sequence[str]) -> str:
    return ", ".join(quote(c) for c in columns)


def declares_key(dialect: Dialect, table: Table) -> bool:
    """Whether the table is created with its key as a PRIMARY KEY (else the writes keep it).

    DuckDB keeps a primary key in an ART index that every insert updates and every commit
    writes out: replacing a 1 M-row partition of a keyed table took about 13 s there against
    2 s without the key (docs/performance.md). The large tables (``stored_by_day`` and
    ``bulk``) are written only by the warehouse's own operations, which keep the key without
    the index: a frame's key is unique (``check_key``); a partition replace empties the
    partition first, and the key holds every partition column, so it cannot clash with another
    partition; appends skip and upserts delete the stored rows of the frame's keys
    (``insert_statements``). DuckDB creates them without the index; PostgreSQL keeps every key
    (its partitioned tables index each leaf).
    """
    return not (dialect.name == DUCKDB.name and (table.stored_by_day or table.bulk))


def create_table(dialect: Dialect, table: Table) -> str:
    columns = [f"{quote(name)} {dialect.ddl_type(logical)}" for name, logical in table.columns]
    if declares_key(dialect, table):
        columns.append(f"PRIMARY KEY ({column_list(table.key)})")
    statement = f"CREATE TABLE IF NOT EXISTS {quote(table.name)} ({', '.join(columns)})"
    if dialect.name == "postgres" and table.stored_by_day:
        statement += f" PARTITION BY RANGE ({quote(table.partition_columns[0])})"
    return statement


_LIST_VALUE = re.compile(r"^[a-z0-9_]{1,40}$")


def day_partition_tables(table: Table, address: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(name, CREATE statement)`` of each level down to the leaf holding partition ``address``.

    PostgreSQL only (``Table.stored_by_day``): a child per day (``<table>__d20260301``), listed
    further by each other partition column (``<table>__d20260301__twitter``). DDL takes no
    parameters, so the values are written into it: the day as an ISO date, the others only when
    they are short lower-case words (platform and model names), else ``ValueError``.
    """
    day_column, *list_columns = table.partition_columns
    day = address[day_column]
    parent, name = table.name, f"{table.name}__d{day:%Y%m%d}"
    bounds = (
        f"FOR VALUES FROM ('{day.isoformat()}') TO ('{day.fromordinal(day.toordinal() + 1).isoformat()}')"
    )
    levels: list[tuple[str, str]] = []
    for column in [*list_columns, None]:
        sub = f" PARTITION BY LIST ({quote(column)})" if column else ""
        levels.append(
            (name, f"CREATE TABLE IF NOT EXISTS {quote(name)} PARTITION OF {quote(parent)} {bounds}{sub}")
        )
        if column is None:
            break
        value = str(address[column])
        if not _LIST_VALUE.match(value):
            raise ValueError(
                f"table {table.name!r}: partition value {column}={value!r} is not a short lower-case word"
            )
        parent, name, bounds = name, f"{name}__{value}", f"FOR VALUES IN ('{value}')"
    return levels


def index_name(table: Table, columns: Sequence[str]) -> str:
    # Postgres truncates identifiers at 63 bytes; schema.py names are far below that.
    return f"{table.name}__{'__'.join(columns)}__idx"


def create_index(table: Table, columns: Sequence[str]) -> str:
    return (
        f"CREATE INDEX IF NOT EXISTS {quote(index_name(table, columns))} "
        f"ON {quote(table.name)} ({column_list(columns)})"
    )


def add_column(dialect: Dialect, table: Table, column: str, logical: str) -> str:
    return f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(column)} {dialect.ddl_type(logical)}"


CATALOG_COLUMNS = (
    "SELECT table_name, column_name, lower(data_type) AS data_type FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND table_catalog = current_database()"
)


def where_clause(
    dialect: Dialect, table: Table, where: Mapping[str, Any], first_param: int = 1
) -> tuple[str, list]:
    """``"a" = $1::TYPE AND "b" IS NULL`` plus its parameters.

    The placeholder is cast to the column's type because PostgreSQL types a bound Python
    string as ``text`` and will not compare it with a ``date`` on its own.
    """
    if not where:
        return "TRUE", []
    logical = dict(table.columns)
    parts: list[str] = []
    params: list[Any] = []
    for column, value in where.items():
        if value is None:
            parts.append(f"{quote(column)} IS NULL")
            continue
        params.append(value)
        parts.append(
            f"{quote(column)} = ${first_param + len(params) - 1}::{dialect.ddl_type(logical[column])}"
        )
    return " AND ".join(parts), params


def delete_where(dialect: Dialect, table: Table, where: Mapping[str, Any]) -> tuple[str, list]:
    condition, params = where_clause(dialect, table, where)
    return f"DELETE FROM {quote(table.name)} WHERE {condition}", params


def select_table(dialect: Dialect, table: Table, where: Mapping[str, Any] | None) -> tuple[str, list]:
    condition, params = where_clause(dialect, table, where or {})
    sql = (
        f"SELECT {column_list(table.column_names)} FROM {quote(table.name)} "
        f"WHERE {condition} ORDER BY {column_list(table.key)}"
    )
    return sql, params


OnConflict = Literal["fail", "ignore", "update"]


def insert_from(table: Table, source: str, on_conflict: OnConflict) -> str:
    """``INSERT INTO table SELECT ... FROM source`` with the requested conflict handling.

    ``source`` is a staging relation the backend created (a registered frame or a temp
    table), so it is an identifier we made, checked like the others.
    """
    columns = column_list(table.column_names)
    sql = f"INSERT INTO {quote(table.name)} ({columns}) SELECT {columns} FROM {quote(source)}"
    if on_conflict == "fail":
        return sql
    target = f" ON CONFLICT ({column_list(table.key)})"
    updates = [c for c in table.column_names if c not in table.key]
    if on_conflict == "ignore" or not updates:
        return sql + target + " DO NOTHING"
    assignments = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in updates)
    return sql + target + f" DO UPDATE SET {assignments}"


def insert_statements(dialect: Dialect, table: Table, source: str, on_conflict: OnConflict) -> list[str]:
    """The statements moving ``source`` into ``table`` with the conflict handling asked; the last
    one inserts, and its count is the rows written. A table created without its key
    (``declares_key``) cannot use ``ON CONFLICT``: rows whose key is stored are skipped
    (``ignore``) or deleted first (``update``) by a join on the key instead."""
    if declares_key(dialect, table) or on_conflict == "fail":
        return [insert_from(table, source, on_conflict)]
    columns = column_list(table.column_names)
    matches = " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in table.key)
    if on_conflict == "update":
        return [
            f"DELETE FROM {quote(table.name)} t WHERE EXISTS (SELECT 1 FROM {quote(source)} s WHERE {matches})",
            f"INSERT INTO {quote(table.name)} ({columns}) SELECT {columns} FROM {quote(source)}",
        ]
    return [
        f"INSERT INTO {quote(table.name)} ({columns}) SELECT {columns} FROM {quote(source)} s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {quote(table.name)} t WHERE {matches})"
    ]


def placeholders(count: int, first: int = 1) -> str:
    """``$first, $first+1, …`` for an ``in (...)`` list of ``count`` bound values (never the values)."""
    if count < 1:
        raise ValueError(f"an IN list needs at least one value, got {count}")
    return ", ".join(f"${n}" for n in range(first, first + count))
