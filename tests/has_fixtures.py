"""Builders shared by the HAS tests: profile rows, frames, and a seeded random profile mix."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from scout_assets.domain.has import HasConfig, load_has_config, score_one, score_profiles
from scout_contract.tables import PROFILE_COLUMNS, polars_schema

AS_OF = datetime(2026, 3, 1)
CONFIG: HasConfig = load_has_config()

_PROFILE_SCHEMA = polars_schema(PROFILE_COLUMNS)


def profile(days: float | None = 2920, **inputs: Any) -> dict[str, Any]:
    """A complete, penalty-free X profile (worked example A) with ``inputs`` overriding fields.

    ``days`` is the account age at AS_OF (None = unknown created_at), as the worked examples give it.
    """
    row: dict[str, Any] = {name: None for name, _ in PROFILE_COLUMNS}
    row.update(
        platform="twitter",
        platform_id="1",
        handle="someone",
        followers=1200,
        following=600,
        statuses=3000,
        favorites=6000,
        listed=25,
        media=150,
        blue_verified=False,
        default_profile=False,
        default_profile_image=False,
        possibly_sensitive=False,
        created_at=None if days is None else AS_OF - timedelta(days=days),
    )
    row.update(inputs)
    return row


def tuned(section: str, **changes: float) -> HasConfig:
    """CONFIG with some numbers of one section changed, checked like the file would be."""
    data = CONFIG.to_dict()
    return HasConfig.model_validate({**data, section: {**data[section], **changes}})


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=_PROFILE_SCHEMA)


def score_both(row: dict[str, Any], config: HasConfig = CONFIG, as_of: datetime = AS_OF) -> list[dict]:
    """The row scored by the polars path and by the reference, so each case checks both."""
    vectorised = score_profiles(frame([row]), config, as_of).row(0, named=True)
    return [vectorised, score_one(row, config, as_of)]


def random_profiles(n: int, seed: int) -> list[dict[str, Any]]:
    """A seeded mix of realistic and edge-case profiles, with nulls in every input.

    About a fifth of the counts sit exactly on a rule's breakpoint, so branch edges get exercised.
    """
    rng = random.Random(seed)
    edges = [0, 1, 9, 10, 49, 50, 99, 100, 500, 1500, 3000, 5000, 5001, 10000, 20000, 30000, 30001]

    def count(median: float, spread: float) -> int:
        if rng.random() < 0.2:
            return rng.choice(edges)
        return int(math.exp(rng.gauss(math.log(median), spread)))

    def maybe(value: Any, p_null: float = 0.08) -> Any:
        return None if rng.random() < p_null else value

    rows = []
    for i in range(n):
        statuses = count(3000, 2.0)
        days = rng.choice(
            [rng.uniform(0, 6500), rng.uniform(0, 100), rng.choice([0, 29.99, 30, 89.99, 90, -5])]
        )
        rows.append(
            {
                **{name: None for name, _ in PROFILE_COLUMNS},
                "platform": rng.choice(["twitter", "bluesky"]),
                "platform_id": str(i),
                "handle": f"user{i}",
                "followers": maybe(count(500, 2.5)),
                "following": maybe(count(400, 1.8)),
                "statuses": maybe(statuses),
                "favorites": maybe(count(max(statuses, 1) * 0.8, 1.5)),
                "listed": maybe(count(5, 2.0)),
                "media": maybe(min(statuses, count(max(statuses, 1) * 0.1, 1.0))),
                "blue_verified": maybe(rng.random() < 0.1),
                "default_profile": maybe(rng.random() < 0.3),
                "default_profile_image": maybe(rng.random() < 0.1),
                "possibly_sensitive": maybe(rng.random() < 0.05),
                "created_at": maybe(AS_OF - timedelta(days=days, microseconds=rng.randrange(10**6))),
            }
        )
    return rows
