"""Benchmark: HAS over polars expressions vs the row-by-row reference, on the same synthetic rows.

    .venv/bin/python bench/bench_has.py [--rows 1000000] [--seed 7]

Generates profiles with long-tailed counts like real accounts (log-normal followers, posts and
likes; lists and media as fractions of those), a Bluesky share with its unknown inputs and a share
of the newest X shape, then times ``score_profiles`` on the frame and ``score_one`` on every row.
The reference is fed ready-made dicts in chunks (conversion not timed), so the ratio measures the
scoring alone. Both results are compared row by row before any figure is printed. No thresholds:
this prints numbers, it does not judge them.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scout_assets.domain.has import load_has_config, queued, score_one, score_profiles
from scout_contract.tables import PROFILE_COLUMNS, polars_schema

AS_OF = datetime(2026, 3, 1)
CHUNK = 50_000
BLUESKY_UNKNOWN = ("favorites", "listed", "media", "possibly_sensitive", "default_profile", "blue_verified")
NEWEST_X_UNKNOWN = ("listed", "default_profile", "default_profile_image")


def synthetic_profiles(n: int, seed: int) -> pl.DataFrame:
    """``n`` profiles: 75% complete X, 10% newest-X shape, 15% Bluesky (with their nulls)."""
    rng = np.random.default_rng(seed)

    def lognormal(median: float, sigma: float, size: int = n) -> np.ndarray:
        return np.floor(rng.lognormal(np.log(median), sigma, size)).astype(np.int64)

    statuses = lognormal(2500, 1.8)
    followers = lognormal(300, 2.0)
    shape = rng.choice(["x", "x_new", "bluesky"], size=n, p=[0.75, 0.10, 0.15])
    days = rng.uniform(0, 7000, n)
    created_at = np.datetime64(AS_OF, "us") - (days * 86_400e6).astype("timedelta64[us]")
    frame = pl.DataFrame(
        {
            "platform": np.where(shape == "bluesky", "bluesky", "twitter"),
            "platform_id": np.arange(n).astype(str),
            "handle": np.char.add("user", np.arange(n).astype(str)),
            "followers": followers,
            "following": lognormal(350, 1.3),
            "statuses": statuses,
            "favorites": np.floor(statuses * rng.lognormal(0.0, 1.2, n)).astype(np.int64),
            "listed": np.floor(followers * 0.01 * rng.lognormal(0.0, 1.0, n)).astype(np.int64),
            "media": np.floor(statuses * rng.beta(1.2, 8.0, n)).astype(np.int64),
            "blue_verified": rng.random(n) < 0.08,
            "default_profile": rng.random(n) < 0.35,
            "default_profile_image": rng.random(n) < 0.08,
            "possibly_sensitive": rng.random(n) < 0.04,
            "created_at": created_at,
            "_shape": shape,
        }
    )
    blanks = [
        pl.when(pl.col("_shape") == "bluesky").then(None).otherwise(pl.col(c)).alias(c)
        for c in BLUESKY_UNKNOWN
    ]
    frame = frame.with_columns(blanks)
    frame = frame.with_columns(
        pl.when(pl.col("_shape") == "x_new").then(None).otherwise(pl.col(c)).alias(c)
        for c in NEWEST_X_UNKNOWN
    )
    schema = polars_schema(PROFILE_COLUMNS)
    return frame.drop("_shape").cast({c: schema[c] for c in frame.columns if c in schema})


def time_vectorised(profiles: pl.DataFrame, config, repeats: int) -> tuple[float, pl.DataFrame]:
    """Best of ``repeats`` runs (the first pays one-off costs such as thread-pool start-up)."""
    best, scored = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        scored = score_profiles(profiles, config, AS_OF)
        best = min(best, time.perf_counter() - start)
    return best, scored


def time_reference(profiles: pl.DataFrame, config) -> tuple[float, list[float], list[str]]:
    """Score every row with score_one; only the scoring calls are timed, chunk by chunk."""
    elapsed, has, likely = 0.0, [], []
    for offset in range(0, profiles.height, CHUNK):
        rows = profiles.slice(offset, CHUNK).to_dicts()
        start = time.perf_counter()
        results = [score_one(row, config, AS_OF) for row in rows]
        elapsed += time.perf_counter() - start
        has.extend(r["has"] for r in results)
        likely.extend(r["likely_is"] for r in results)
    return elapsed, has, likely


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="synthetic profiles to score")
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic data")
    parser.add_argument("--repeats", type=int, default=3, help="polars runs (best is reported)")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")

    config = load_has_config()
    profiles = synthetic_profiles(args.rows, args.seed)
    print(f"rows: {profiles.height:,}  polars {pl.__version__}  threads {pl.thread_pool_size()}  "
          f"has_version {config.version}")  # fmt: skip

    polars_s, scored = time_vectorised(profiles, config, args.repeats)
    reference_s, ref_has, ref_likely = time_reference(profiles, config)

    disagree = scored.with_columns(ref_has=pl.Series(ref_has), ref_likely=pl.Series(ref_likely)).filter(
        (pl.col("has") != pl.col("ref_has")) | (pl.col("likely_is") != pl.col("ref_likely"))
    )
    if disagree.height:
        print(f"DISAGREEMENT on {disagree.height} rows, e.g.\n{disagree.head(5)}")
        return 1
    print(f"agreement: has and likely_is identical on all {profiles.height:,} rows")
    mix = scored["likely_is"].value_counts(sort=True)
    print("likely_is mix: " + ", ".join(f"{t} {c:,}" for t, c in mix.iter_rows()))
    print(f"queued (has > {config.queue_threshold}): {scored.filter(queued(config)).height:,}")

    print(
        f"polars    : {polars_s:8.3f} s  {profiles.height / polars_s:>14,.0f} rows/s  (best of {args.repeats})"
    )
    print(f"reference : {reference_s:8.3f} s  {profiles.height / reference_s:>14,.0f} rows/s")
    print(f"speed-up  : {reference_s / polars_s:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
