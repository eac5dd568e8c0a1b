"""Every partitions definition Scout uses, in one module so assets, sensors and jobs share them.

Why daily x platform (see docs/architecture.md): searches run every 15 minutes, but a
15-minute time dimension times two platforms is ~70,000 partitions a year, past Dagster's
guidance of ~100,000 per asset within two years. A daily grain keeps ~730 a year. Each
15-minute run *appends* the pages it fetched to today's raw partition (raw responses are a
ledger and are never rewritten), and every downstream partition is recomputed wholly from the
raw pages of its day, so re-running or backfilling any day needs no API call.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import dagster as dg

from scout_contract.platforms import PLATFORMS

# The first day Scout can hold data for; backfills cannot reach before it.
PARTITIONS_START = "2025-12-01"

# end_offset=1 makes today's (still open) day a partition: the 15-minute runs append to it.
daily_partitions = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START, timezone="UTC", end_offset=1)
platform_partitions = dg.StaticPartitionsDefinition(list(PLATFORMS))

# Multi-partition keys read "<date>|<platform>" (dimensions in alphabetical order).
daily_platform_partitions = dg.MultiPartitionsDefinition(
    {"date": daily_partitions, "platform": platform_partitions}
)


def partition_key(day: date, platform: str) -> dg.MultiPartitionKey:
    """The multi-partition key of one day on one platform."""
    return dg.MultiPartitionKey({"date": day.isoformat(), "platform": platform})


def split_partition_key(key: str | dg.MultiPartitionKey) -> tuple[date, str]:
    """(day, platform) of a daily x platform partition key such as ``2026-11-23|twitter``."""
    if isinstance(key, dg.MultiPartitionKey):
        dims = key.keys_by_dimension
        return date.fromisoformat(dims["date"]), dims["platform"]
    day, _, platform = str(key).partition("|")
    if platform not in PLATFORMS:
        raise ValueError(
            f"partition key {key!r} is not '<YYYY-MM-DD>|<platform>' with platform in {PLATFORMS}"
        )
    return date.fromisoformat(day), platform


def day_end(day: date) -> datetime:
    """The end of a partition day (UTC, naive): the as-of time for everything derived from it."""
    return datetime.combine(day + timedelta(days=1), time.min)


def today_utc() -> date:
    return datetime.now(UTC).date()


def _model_aliases() -> list[str]:
    from resources.models.registry import model_aliases

    return model_aliases()


# Labels are partitioned by day x model so a backfill can relabel a chosen window with a
# chosen model. The model dimension is the registry's aliases (config/models.yaml).
model_partitions = dg.StaticPartitionsDefinition(_model_aliases())
daily_model_partitions = dg.MultiPartitionsDefinition({"date": daily_partitions, "model": model_partitions})


def model_partition_key(day: date, model: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"date": day.isoformat(), "model": model})


def split_model_partition_key(key: str | dg.MultiPartitionKey) -> tuple[date, str]:
    """(day, model alias) of a daily x model partition key such as ``2026-11-23|local-minilm``."""
    if isinstance(key, dg.MultiPartitionKey):
        dims = key.keys_by_dimension
        return date.fromisoformat(dims["date"]), dims["model"]
    day, _, model = str(key).partition("|")
    return date.fromisoformat(day), model


def _audience_keys() -> list[str]:
    """Every audience version with a file in config/audiences/, by file name alone.

    Only the names are read here (``<name>.<version>.json`` → ``name.version``): a broken audience
    file must fail the run that uses it, not the loading of the whole code location.
    """
    from scout_contract.audience import AUDIENCES_DIR

    return sorted(path.stem for path in AUDIENCES_DIR.glob("*.json"))


# The local labeler is fitted per audience version (one partition = one audience file), so a
# labeler can be fitted on the reviews of a version before labeling.yaml activates it.
audience_partitions = dg.StaticPartitionsDefinition(_audience_keys())
