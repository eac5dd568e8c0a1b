"""Partition keys for backfills driven from the command line (``dagster job backfill --partitions``).

The backfill dialog lists every partition; for "the last 30 days on both platforms" a
comma-separated list of keys is quicker and reviewable. ``docs/operations.md`` shows the use.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta

from scout_assets.partitions import PLATFORMS, model_partition_key, partition_key, today_utc


def last_days(
    days: int, *, model: str | None = None, platforms: tuple[str, ...] = PLATFORMS, until: date | None = None
) -> str:
    """Keys of the ``days`` days ending today (or ``until``): day x platform, or day x model."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    end = until or today_utc()
    span = [end - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    if model is not None:
        keys = [model_partition_key(day, model) for day in span]
    else:
        keys = [partition_key(day, platform) for day in span for platform in platforms]
    return ",".join(str(key) for key in keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("days", type=int)
    parser.add_argument("--model", help="a model alias: day x model keys for llm_labels")
    args = parser.parse_args()
    print(last_days(args.days, model=args.model))


if __name__ == "__main__":
    main()
