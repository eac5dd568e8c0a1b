"""Small pieces every Scout asset shares: its partition, its tags, its metadata helpers."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import polars as pl
from dagster._core.errors import DagsterInvalidPropertyError  # raised by context.run when directly invoked

from scout_assets.partitions import split_partition_key

INGEST_GROUP = "ingest"
SCORING_GROUP = "scoring"
LABELING_GROUP = "labeling"
OWNERS = ["team:scout"]


# How fresh each stage must be; a stale asset shows in the UI (and its freshness check fails).
# Searches run every 15 minutes, so ingest and its derivations are late after an hour.
INGEST_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=1), warn_window=timedelta(minutes=35)
)
LABELS_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=6), warn_window=timedelta(hours=2)
)
DAILY_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=28), warn_window=timedelta(hours=26)
)

# Derived assets follow their upstream by themselves when it is materialized outside the main
# job (a UI click, a backfill of raw pages): nothing waits for a person to press a button.
FOLLOW_UPSTREAM = dg.AutomationCondition.eager().with_label("follow upstream partitions")


def partition_of(context: dg.AssetExecutionContext) -> tuple[date, str]:
    """(day, platform) of the partition being materialized."""
    return split_partition_key(context.partition_key)


def partitions_of(context: dg.AssetExecutionContext) -> list[tuple[date, str]]:
    """Every (day, platform) of the run, oldest day first.

    A backfill run may carry many partitions (the derived assets' backfill policy batches
    them); processing days in order keeps each account's current row built from its past.
    """
    return sorted(split_partition_key(key) for key in context.partition_keys)


# Derived assets re-read stored rows only, so batching many partitions into one run saves a
# process start per partition; 62 = a month of both platforms.
DERIVED_BACKFILL_POLICY = dg.BackfillPolicy.multi_run(max_partitions_per_run=62)


def run_id_of(context: dg.AssetExecutionContext) -> str | None:
    """The run's id for the ledgers, or None when the asset is invoked directly (tests, no run)."""
    try:
        return context.run.run_id
    except DagsterInvalidPropertyError:
        return None


def summed(per_partition: list[dict[str, int]]) -> dict[str, int]:
    """Counters of several partitions added up, for one run's metadata."""
    total: dict[str, int] = {}
    for counts in per_partition:
        for name, value in counts.items():
            total[name] = total.get(name, 0) + value
    return total


def distribution_metadata(values: pl.Series, prefix: str) -> dict[str, dg.MetadataValue]:
    """Quantiles of a numeric column as float metadata, so the UI plots them run over run."""
    clean = values.drop_nulls()
    if clean.is_empty():
        return {}
    return {
        f"{prefix}_{name}": dg.MetadataValue.float(round(float(value), 4))
        for name, value in (
            ("mean", clean.mean()),
            ("p10", clean.quantile(0.1)),
            ("p50", clean.quantile(0.5)),
            ("p90", clean.quantile(0.9)),
        )
    }


def counts_table(frame: pl.DataFrame, column: str) -> dg.MetadataValue:
    """A markdown table of value counts, for categorical columns such as the HAS type."""
    counts = frame.group_by(column).len().sort("len", descending=True)
    lines = [f"| {column} | rows |", "|---|---:|"]
    lines += [f"| {value} | {count} |" for value, count in counts.iter_rows()]
    return dg.MetadataValue.md("\n".join(lines))
