"""Normalized profile rows -> a polars frame with exactly the warehouse profile schema."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from scout_contract.tables import PROFILE_COLUMNS, polars_schema

_COLUMNS = tuple(name for name, _ in PROFILE_COLUMNS)


def profiles_frame(rows: Iterable[dict]) -> pl.DataFrame:
    """A frame of ``rows`` typed as ``polars_schema(PROFILE_COLUMNS)``; empty input, empty frame.

    Every row must have exactly the profile columns: a missing or extra key is a bug in the
    producer, and silently dropping or null-filling it would hide that. Values are converted
    strictly, so a wrong type (e.g. a count as text) fails here instead of becoming null.
    """
    materialized = list(rows)
    expected = set(_COLUMNS)
    for index, row in enumerate(materialized):
        keys = set(row)
        if keys != expected:
            missing = sorted(expected - keys)
            extra = sorted(keys - expected)
            raise ValueError(
                f"profile row {index} does not match PROFILE_COLUMNS: missing {missing}, extra {extra}"
            )
    schema = polars_schema(PROFILE_COLUMNS)
    columns = {name: [row[name] for row in materialized] for name in _COLUMNS}
    return pl.DataFrame(
        {name: pl.Series(name, columns[name], dtype=schema[name], strict=True) for name in _COLUMNS}
    )
