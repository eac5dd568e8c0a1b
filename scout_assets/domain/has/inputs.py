"""The input side of the vectorised HAS: checking the profile frame and preparing its columns.

Kept apart from the formula (score.py) because it is about trusting the data, not scoring it:
which columns must exist, which types they may have, what a timezone means, and which inputs a
row lacks (recorded on every scored row, so a low score can be traced to missing data).
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from scout_assets.domain.has.columns import COUNT_INPUTS, FLAG_INPUTS, HAS_INPUTS, ID_COLUMNS

_MICROSECONDS_PER_DAY = 86_400_000_000


def check_profiles(profiles: pl.DataFrame) -> None:
    """Fail, naming the column, on a missing column, a wrong type, or a negative or NaN count.

    A negative follower count is not a profile we can score; it means a parser or payload went
    wrong upstream, and the message names one affected account so it can be looked up.
    """
    absent = [c for c in (*ID_COLUMNS, *HAS_INPUTS) if c not in profiles.columns]
    if absent:
        raise ValueError(f"HAS input frame lacks column(s) {absent}")
    schema = profiles.schema
    for name in COUNT_INPUTS:
        if not (schema[name].is_numeric() or schema[name] == pl.Null):
            raise ValueError(f"HAS input column {name!r} must be numeric, got {schema[name]}")
    for name in FLAG_INPUTS:
        if schema[name] not in (pl.Boolean, pl.Null):
            raise ValueError(f"HAS input column {name!r} must be boolean, got {schema[name]}")
    if not isinstance(schema["created_at"], pl.Datetime | pl.Null):
        raise ValueError(f"HAS input column 'created_at' must be a datetime, got {schema['created_at']}")
    numeric = [c for c in COUNT_INPUTS if schema[c] != pl.Null]
    bad = profiles.select(
        *[(pl.col(c) < 0).sum().alias(f"{c}:negative") for c in numeric],
        *[pl.col(c).is_nan().sum().alias(f"{c}:NaN") for c in numeric if schema[c].is_float()],
    )
    for label, count in (bad.row(0, named=True) if bad.width else {}).items():
        if count:
            name, problem = label.split(":")
            example = profiles.filter(pl.col(name) < 0 if problem == "negative" else pl.col(name).is_nan())
            first = example.select("platform", "platform_id").row(0)
            raise ValueError(
                f"HAS input column {name!r} has {count} {problem} value(s), e.g. {first[0]} {first[1]}"
            )


def naive_utc(as_of: datetime) -> datetime:
    """``as_of`` as a naive UTC datetime (naive input is taken to be UTC already)."""
    if not isinstance(as_of, datetime):
        raise ValueError(f"HAS as_of must be a datetime, got {type(as_of).__name__} {as_of!r}")
    return as_of.astimezone(UTC).replace(tzinfo=None) if as_of.tzinfo else as_of


def input_columns(schema: pl.Schema) -> list[pl.Expr]:
    """The id columns and HAS inputs in the types the formula computes with (counts as floats).

    A zoned created_at is converted to UTC and made naive, like every timestamp in the warehouse.
    """
    created_at = pl.col("created_at")
    dtype = schema["created_at"]
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        created_at = created_at.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    return [
        *[pl.col(c).cast(pl.String) for c in ID_COLUMNS],
        *[pl.col(c).cast(pl.Float64) for c in COUNT_INPUTS],
        *[pl.col(c).cast(pl.Boolean) for c in FLAG_INPUTS],
        created_at.cast(pl.Datetime("us")).alias("created_at"),
    ]


def missing_inputs() -> pl.Expr:
    """Comma-joined sorted names of the HAS inputs that are null; "" for a complete row."""
    names = [pl.when(pl.col(c).is_null()).then(pl.lit(c)) for c in HAS_INPUTS]
    return pl.concat_str(names, separator=",", ignore_nulls=True).alias("missing_inputs")


def days_since_creation(as_of: datetime) -> pl.Expr:
    """Fractional days since creation, floored at 0; null when created_at is unknown.

    Whole days come from integer division and only the remainder is divided as a float. Polars
    divides by a constant through its reciprocal, which is not always the correctly rounded
    quotient; with the whole days exact, comparisons with the day thresholds stay exact too.
    """
    elapsed = (pl.lit(as_of, dtype=pl.Datetime("us")) - pl.col("created_at")).dt.total_microseconds()
    elapsed = elapsed.clip(lower_bound=0)
    whole = elapsed // _MICROSECONDS_PER_DAY
    return (whole + (elapsed - whole * _MICROSECONDS_PER_DAY) / _MICROSECONDS_PER_DAY).alias("_days")
