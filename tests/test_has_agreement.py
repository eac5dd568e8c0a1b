"""The polars scorer agrees with the row-by-row reference on thousands of seeded random profiles.

The mix (tests/has_fixtures.random_profiles) puts a fifth of the counts on rule breakpoints and
leaves every input null in ~8% of rows, so branch edges and the missing-input policy are covered.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from scout_assets.domain.has import OUTPUT_COLUMNS, score_one, score_profiles
from tests.has_fixtures import AS_OF, CONFIG, frame, random_profiles

FLOAT_COLUMNS = [
    "raw_score", "penalty", "s_bot", "s_creator", "s_entity", "s_person",
    "r_ff", "r_eng", "r_list", "r_media", "a_age", "a_activity", "p_custom", "p_safe", "p_verified",
]  # fmt: skip


def _same_float(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    # The two sides evaluate the same operations in the same order; polars divides by constants
    # through reciprocals, so allow a few units in the last place, nothing more.
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)


@pytest.fixture(scope="module")
def scored_pairs():
    rows = random_profiles(4000, seed=20260301)
    vectorised = score_profiles(frame(rows), CONFIG, AS_OF).to_dicts()
    return rows, vectorised, [score_one(row, CONFIG, AS_OF) for row in rows]


def test_every_column_agrees_row_by_row(scored_pairs):
    rows, vectorised, expected = scored_pairs
    assert len(vectorised) == len(rows)
    for got, want in zip(vectorised, expected, strict=True):
        assert list(got) == list(OUTPUT_COLUMNS) and set(want) == set(OUTPUT_COLUMNS)
        assert got["has"] == want["has"], (got["platform_id"], got["has"], want["has"])
        for name in (
            "platform",
            "platform_id",
            "handle",
            "likely_is",
            "missing_inputs",
            "has_version",
            "as_of",
        ):
            assert got[name] == want[name], (got["platform_id"], name)
        for name in FLOAT_COLUMNS:
            assert _same_float(got[name], want[name]), (got["platform_id"], name, got[name], want[name])


def test_the_random_mix_reaches_every_type_and_missing_input(scored_pairs):
    # Guards the agreement test itself: a generator that only produced Humans would prove little.
    _, vectorised, _ = scored_pairs
    types = Counter(row["likely_is"] for row in vectorised)
    assert set(types) == {"Human", "Creator", "Entity", "Bot", "Other"}, types
    missing = {name for row in vectorised for name in row["missing_inputs"].split(",") if name}
    assert len(missing) == 11
    assert any(row["penalty"] < 1 for row in vectorised) and any(row["penalty"] == 1 for row in vectorised)


def test_timezone_aware_inputs_score_as_their_utc_instant():
    rows = random_profiles(50, seed=7)
    naive = score_profiles(frame(rows), CONFIG, AS_OF)
    local_created = pl.col("created_at").dt.replace_time_zone("UTC").dt.convert_time_zone("America/Sao_Paulo")
    tokyo_as_of = AS_OF.replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Tokyo"))
    aware = score_profiles(frame(rows).with_columns(local_created), CONFIG, tokyo_as_of)
    assert aware.equals(naive)
    assert score_one(rows[0], CONFIG, tokyo_as_of) == score_one(rows[0], CONFIG, AS_OF)
