"""Checking frames and filters against a declared table before any SQL runs.

Everything here is pure polars/Python so both backends reject bad input the same way, with
a message that names the table and the column or key at fault, and before a transaction
has deleted anything. A frame leaves ``conform_frame`` with exactly the table's columns, in
its order, with its polars types (timestamps as naive UTC microseconds).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import polars as pl

from scout_contract.tables import Table, polars_schema


def conform_frame(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` with exactly ``table``'s columns and types, or raise ``ValueError``.

    Only lossless, unambiguous conversions happen (narrower ints, all-null columns,
    categorical text, other datetime units, tz-aware timestamps converted to UTC); anything
    else is a caller bug, reported with the table, column, expected and actual type.
    """
    if not isinstance(frame, pl.DataFrame):
        raise TypeError(f"table {table.name!r}: expected a polars DataFrame, got {type(frame).__name__}")
    expected = table.column_names
    missing = [c for c in expected if c not in frame.columns]
    extra = [c for c in frame.columns if c not in expected]
    if missing:
        raise ValueError(f"table {table.name!r}: frame is missing column(s) {missing}")
    if extra:
        raise ValueError(f"table {table.name!r}: frame has column(s) {extra} that the table does not declare")
    schema = polars_schema(table.columns)
    logical = dict(table.columns)
    columns = [
        _conform_column(table, frame.get_column(name), logical[name], schema[name]) for name in expected
    ]
    return pl.DataFrame(columns)


def _conform_column(table: Table, series: pl.Series, logical: str, target: pl.DataType) -> pl.Series:
    dtype = series.dtype
    if dtype == target:
        return series
    where = f"table {table.name!r} column {series.name!r}"
    if not _castable(dtype, logical):
        raise ValueError(f"{where}: expected {logical} ({target}), got {dtype}")
    if logical == "timestamp" and isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        series = series.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    try:
        return series.cast(target, strict=True)
    except pl.exceptions.PolarsError as exc:
        raise ValueError(
            f"{where}: cannot convert {dtype} to {logical} ({target}) without loss: {exc}"
        ) from None


def _castable(dtype: pl.DataType, logical: str) -> bool:
    if dtype == pl.Null:
        return True
    if logical == "text":
        return dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum)
    if logical == "int":
        return dtype.is_integer()
    if logical == "float":
        return dtype.is_float() or dtype.is_integer()
    if logical == "timestamp":
        return isinstance(dtype, pl.Datetime)
    return False  # bool and date only accept their own type (or all-null)


def check_key(table: Table, frame: pl.DataFrame) -> None:
    """Reject null key parts and keys that occur more than once in ``frame``."""
    for column in table.key:
        nulls = frame.get_column(column).null_count()
        if nulls:
            raise ValueError(
                f"table {table.name!r}: key column {column!r} is null in {nulls} row(s); keys {table.key} must be set"
            )
    duplicated = frame.filter(pl.struct(list(table.key)).is_duplicated())
    if duplicated.height:
        first = duplicated.row(0, named=True)
        key = tuple(first[c] for c in table.key)
        times = duplicated.filter(pl.all_horizontal(pl.col(c) == first[c] for c in table.key)).height
        raise ValueError(
            f"table {table.name!r}: key {dict(zip(table.key, key, strict=True))} occurs {times} times in the frame "
            f"({duplicated.height} rows share a key with another row)"
        )


def partition_filter(table: Table, where: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a partition address: exactly ``table.partition_columns``, no nulls, right types."""
    if table.is_ledger:
        raise ValueError(
            f"table {table.name!r} is an append-only ledger without partition columns; use append() instead"
        )
    given, wanted = set(where), set(table.partition_columns)
    if given != wanted:
        raise ValueError(
            f"table {table.name!r}: a partition is addressed by exactly {list(table.partition_columns)}; "
            f"got {sorted(given)} (missing {sorted(wanted - given)}, unexpected {sorted(given - wanted)})"
        )
    coerced = coerce_filter(table, where)
    for column, value in coerced.items():
        if value is None:
            raise ValueError(f"table {table.name!r}: partition column {column!r} cannot be None")
    return coerced


def coerce_filter(table: Table, where: Mapping[str, Any]) -> dict[str, Any]:
    """Check that every filter column exists and turn each value into its column's Python type.

    Dagster hands partition keys over as strings, so ISO dates and timestamps are accepted
    for ``date``/``timestamp`` columns. ``None`` means "IS NULL".
    """
    logical = dict(table.columns)
    unknown = [c for c in where if c not in logical]
    if unknown:
        raise ValueError(f"table {table.name!r} has no column(s) {unknown}; columns: {table.column_names}")
    return {column: _coerce_value(table, column, logical[column], value) for column, value in where.items()}


def _coerce_value(table: Table, column: str, logical: str, value: Any) -> Any:
    if value is None:
        return None
    problem = f"table {table.name!r} column {column!r} ({logical}): cannot use {value!r}"
    if logical == "text" and isinstance(value, str):
        return value
    if logical == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if logical == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if logical == "bool" and isinstance(value, bool):
        return value
    if logical == "date":
        if isinstance(value, dt.datetime):
            raise ValueError(f"{problem}: a datetime is not a date")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{problem}: not an ISO date (YYYY-MM-DD)") from None
    if logical == "timestamp":
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{problem}: not an ISO timestamp") from None
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            return value
    raise ValueError(problem)


def check_rows_match(table: Table, frame: pl.DataFrame, where: Mapping[str, Any]) -> None:
    """Every row of a partition write must belong to the partition it replaces."""
    for column, value in where.items():
        series = frame.get_column(column)
        wrong = frame.filter(series.ne_missing(value))
        if wrong.height:
            example = wrong.get_column(column)[0]
            raise ValueError(
                f"table {table.name!r}: {wrong.height} row(s) have {column}={example!r} "
                f"outside the partition being replaced ({column}={value!r})"
            )
