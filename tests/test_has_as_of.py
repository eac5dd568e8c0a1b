"""Scores depend on the caller's as_of (the partition), never on the wall clock.

That is what lets a backfill of an old partition reproduce the scores it had.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from scout_assets.domain.has import score_one, score_profiles
from tests.has_fixtures import AS_OF, CONFIG, frame, profile, random_profiles


def test_same_inputs_and_as_of_give_an_identical_frame():
    rows = random_profiles(500, seed=11)
    first = score_profiles(frame(rows), CONFIG, AS_OF)
    second = score_profiles(frame(rows), CONFIG, AS_OF)
    assert first.equals(second)


def test_age_is_measured_at_as_of_not_now():
    # Created 2009-01-01, scored as of 2010-01-01: one year old, whatever today's date is.
    created, as_of = datetime(2009, 1, 1), datetime(2010, 1, 1)
    row = profile(created_at=created)
    expected_age = 1 - math.exp(-365 / 365)
    assert score_profiles(frame([row]), CONFIG, as_of)["a_age"][0] == pytest.approx(expected_age, rel=1e-14)
    assert score_one(row, CONFIG, as_of)["a_age"] == pytest.approx(expected_age, rel=1e-14)


def test_a_later_as_of_changes_only_age_dependent_rows():
    aged, ageless = profile(days=20), profile(days=None)
    before = score_profiles(frame([aged, ageless]), CONFIG, AS_OF)
    after = score_profiles(frame([aged, ageless]), CONFIG, AS_OF + timedelta(days=100))
    assert after["as_of"].to_list() == [AS_OF + timedelta(days=100)] * 2
    assert after["a_age"][0] > before["a_age"][0]
    assert after["penalty"][0] > before["penalty"][0]  # no longer a very new account
    assert after["has"][0] != before["has"][0]
    assert after.drop("as_of").row(1) == before.drop("as_of").row(1)


def test_created_after_as_of_counts_as_zero_days():
    row = profile(created_at=AS_OF + timedelta(days=3))
    for result in (
        score_profiles(frame([row]), CONFIG, AS_OF).row(0, named=True),
        score_one(row, CONFIG, AS_OF),
    ):
        assert result["a_age"] == 0.0
        assert result["penalty"] < 1.0  # very new account
