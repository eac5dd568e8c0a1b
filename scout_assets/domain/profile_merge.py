"""De-duplication of profiles: per partition, and into one current row per account.

An account is identified by (platform, platform_id) only, so a handle change is the same
account (its old handles are kept in ``previous_handles``). Within a partition the last
state seen wins; across partitions the latest partition's snapshot wins. Both are pure
functions of their inputs, which is what makes every re-run of a partition give the same rows.
"""

from __future__ import annotations

import polars as pl

from scout_contract.tables import (
    PROFILE_COLUMNS,
    PROFILE_SIGHTINGS,
    PROFILE_SNAPSHOTS,
    PROFILES,
    polars_schema,
)

PROFILE_FIELDS = [name for name, _ in PROFILE_COLUMNS]
ID = ["platform", "platform_id"]


def snapshots_from_sightings(seen: pl.DataFrame) -> pl.DataFrame:
    """One row per account: its last state in the partition and when it was first/last seen.

    ``seen`` has the profile columns plus partition_date, keyword, request_id, fetched_at
    and position (order within the page), one row per appearance in a page.
    """
    ordered = seen.sort(["fetched_at", "request_id", "position"])
    return (
        ordered.group_by(ID, maintain_order=True)
        .agg(
            *[pl.col(name).last() for name in PROFILE_FIELDS if name not in ID],
            pl.col("partition_date").first(),
            pl.col("fetched_at").min().alias("first_seen_at"),
            pl.col("fetched_at").max().alias("last_seen_at"),
            pl.col("request_id").last().alias("last_request_id"),
        )
        .select(PROFILE_SNAPSHOTS.column_names)
        .cast(polars_schema(PROFILE_SNAPSHOTS.columns))
        .sort(ID)
    )


def sightings_from_appearances(seen: pl.DataFrame) -> pl.DataFrame:
    """One row per (account, keyword) in the partition, with how often the keyword returned it."""
    ordered = seen.sort(["fetched_at", "request_id", "position"])
    return (
        ordered.group_by([*ID, "keyword"], maintain_order=True)
        .agg(
            pl.col("partition_date").first(),
            pl.col("request_id").first().alias("first_request_id"),
            pl.col("fetched_at").min().alias("first_seen_at"),
            pl.len().cast(pl.Int64).alias("times_seen"),
        )
        .select(PROFILE_SIGHTINGS.column_names)
        .cast(polars_schema(PROFILE_SIGHTINGS.columns))
        .sort([*ID, "keyword"])
    )


def current_profiles(snapshots: pl.DataFrame, sightings: pl.DataFrame) -> pl.DataFrame:
    """The current row of every account present in ``snapshots`` (all its partitions)."""
    latest = (
        snapshots.sort(["partition_date", "last_seen_at"])
        .group_by(ID, maintain_order=True)
        .agg(
            *[pl.col(name).last() for name in PROFILE_FIELDS if name not in ID],
            pl.col("first_seen_at").min(),
            pl.col("last_seen_at").max(),
            pl.col("partition_date").min().alias("first_partition_date"),
            pl.col("partition_date").max().alias("last_partition_date"),
            pl.col("handle").unique(maintain_order=True).alias("all_handles"),
        )
        .with_columns(
            pl.col("all_handles")
            .list.set_difference(pl.concat_list(pl.col("handle")))
            .list.sort()
            .list.join(", ")
            .alias("previous_handles")
        )
    )
    keywords = sightings.group_by(ID).agg(
        pl.col("keyword").unique().sort().str.join(", ").alias("keywords"),
        pl.col("keyword").n_unique().cast(pl.Int64).alias("keyword_count"),
    )
    return (
        latest.join(keywords, on=ID, how="left")
        .with_columns(pl.col("keyword_count").fill_null(0), pl.col("keywords").fill_null(""))
        .select(PROFILES.column_names)
        .cast(polars_schema(PROFILES.columns))
        .sort(ID)
    )
