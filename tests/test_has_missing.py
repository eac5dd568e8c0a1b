"""The missing-input policy (docs/has.md): what an unknown input becomes and which rules it silences.

Rows imitate what the parsers produce for real payloads: Bluesky (no favorites, listed, media,
sensitivity, default_profile) and the newest X shape (no listed_count, default_profile,
default_profile_image).
"""

from __future__ import annotations

import polars as pl
import pytest

from scout_assets.domain.has import HAS_INPUTS, score_profiles
from tests.has_fixtures import AS_OF, CONFIG, frame, profile, score_both, tuned

BLUESKY_UNKNOWN = dict(
    favorites=None, listed=None, media=None, possibly_sensitive=None, default_profile=None, blue_verified=None
)
NEWEST_X_UNKNOWN = dict(listed=None, default_profile=None, default_profile_image=None)


def bluesky(**inputs):
    return profile(**{"platform": "bluesky", "platform_id": "did:plc:abc", **BLUESKY_UNKNOWN, **inputs})


def test_complete_row_records_no_missing_input():
    for result in score_both(profile()):
        assert result["missing_inputs"] == ""


@pytest.mark.parametrize("result", score_both(bluesky()), ids=["polars", "reference"])
def test_bluesky_row_records_its_gaps_and_uses_the_neutral_values(result):
    assert (
        result["missing_inputs"] == "blue_verified,default_profile,favorites,listed,media,possibly_sensitive"
    )
    assert result["r_eng"] is None
    assert (result["r_list"], result["r_media"], result["p_safe"], result["p_verified"]) == (
        0.0,
        0.0,
        1.0,
        0.0,
    )
    assert result["p_custom"] == 1.0  # the avatar is known and customised
    assert result["likely_is"] in {"Human", "Creator", "Entity", "Bot", "Other"}


def test_unknown_engagement_sits_between_none_and_full_engagement():
    # Favorites unknown must not read as "never likes anything" (the predecessor's R_eng = 0).
    unknown, never, always = (score_both(bluesky(favorites=f))[0] for f in (None, 0, 3000))
    for score in ("s_bot", "s_entity"):
        assert always[score] < unknown[score] < never[score]
    assert never["s_person"] < unknown["s_person"] < always["s_person"]


def test_neutral_engagement_value_comes_from_the_config():
    lower = tuned("missing_inputs", neutral_engagement=0.2)
    default, changed = score_both(bluesky())[0], score_both(bluesky(), config=lower)[0]
    assert changed["s_bot"] < default["s_bot"]  # less "no engagement" evidence
    assert changed["has_version"] != default["has_version"]


def test_unknown_favorites_never_fire_the_low_engagement_penalty():
    # 20000 posts in 8 years = 6.8 a day: with favorites=100 the rule fires; unknown, it must not.
    busy = dict(statuses=20000, followers=5000)
    for known, unknown in zip(
        score_both(profile(favorites=100, **busy)), score_both(bluesky(**busy)), strict=True
    ):
        assert known["penalty"] == pytest.approx(CONFIG.penalties.low_engagement_high_activity)
        assert unknown["penalty"] == 1.0


@pytest.mark.parametrize("result", score_both(profile(**NEWEST_X_UNKNOWN)), ids=["polars", "reference"])
def test_newest_x_shape_gets_neutral_customisation_and_no_default_profile_penalty(result):
    assert result["missing_inputs"] == "default_profile,default_profile_image,listed"
    assert result["p_custom"] == CONFIG.missing_inputs.neutral_customisation
    assert result["r_list"] == 0.0
    assert result["penalty"] == 1.0


def test_neutral_customisation_below_half_still_does_not_fire_the_default_profile_rule():
    config = tuned("missing_inputs", neutral_customisation=0.25)
    for result in score_both(profile(**NEWEST_X_UNKNOWN), config=config):
        assert result["p_custom"] == 0.25
        assert result["penalty"] == 1.0


@pytest.mark.parametrize(
    ("flags", "p_custom", "penalised"),
    [
        ({"default_profile": None, "default_profile_image": True}, 0.0, True),
        ({"default_profile": None, "default_profile_image": False}, 1.0, False),
        ({"default_profile": True, "default_profile_image": None}, 0.0, True),
        ({"default_profile": True, "default_profile_image": False}, 0.5, False),
    ],
)
def test_customisation_is_the_mean_of_the_known_flags(flags, p_custom, penalised):
    for result in score_both(profile(**flags)):
        assert result["p_custom"] == p_custom
        assert result["penalty"] == (CONFIG.penalties.default_profile if penalised else 1.0)


@pytest.mark.parametrize("result", score_both(profile(days=None, statuses=7320)), ids=["polars", "reference"])
def test_unknown_creation_date_is_neutral_not_brand_new(result):
    assert result["missing_inputs"] == "created_at"
    assert result["a_age"] == CONFIG.missing_inputs.neutral_age
    # A year is assumed for posts per day: 7320 / (365 + 1) = 20 a day, which is not > 20.
    assert result["a_activity"] == pytest.approx(7320 / 366)
    assert result["penalty"] == 1.0  # no (very) new account penalty


def test_unknown_creation_date_silences_the_activity_penalties():
    # 50000 posts / 366 days = 137 a day would be hyperactive, but the age behind it is assumed.
    for result in score_both(profile(days=None, statuses=50000, followers=10000, favorites=10**6)):
        assert result["a_activity"] > CONFIG.penalty_thresholds.hyperactive_tweets
        assert result["penalty"] == 1.0


@pytest.mark.parametrize("name", ["followers", "following", "statuses"])
def test_unknown_counts_are_read_as_zero_but_fire_no_rule(name):
    zero, unknown = score_both(profile(**{name: 0}))[0], score_both(profile(**{name: None}))[0]
    assert unknown["missing_inputs"] == name
    for score in ("s_bot", "s_creator", "s_entity", "r_ff", "a_activity"):
        assert unknown[score] == zero[score]
    assert unknown["penalty"] == 1.0


def test_zero_followers_known_is_penalised_but_unknown_is_not():
    known, unknown = score_both(profile(followers=0))[0], score_both(profile(followers=None))[0]
    assert known["penalty"] == CONFIG.penalties.very_few_followers
    assert unknown["penalty"] == 1.0


def test_a_row_with_every_input_unknown_still_scores():
    row = profile(days=None, **{name: None for name in HAS_INPUTS if name != "created_at"})
    out = score_profiles(frame([row]), CONFIG, AS_OF).row(0, named=True)
    assert out["missing_inputs"] == ",".join(HAS_INPUTS)
    assert 0.0 <= out["has"] <= 1.0
    assert out["penalty"] == 1.0
    assert out == score_both(row)[1]


def test_an_all_null_column_without_a_type_scores_like_a_typed_one():
    # A Bluesky-only batch built from dicts gives polars a Null-typed favorites/listed/... column.
    rows = [bluesky(platform_id=str(i), followers=10 * i) for i in range(3)]
    untyped = pl.DataFrame(rows)
    assert untyped.schema["favorites"] == pl.Null
    assert score_profiles(untyped, CONFIG, AS_OF).equals(score_profiles(frame(rows), CONFIG, AS_OF))
