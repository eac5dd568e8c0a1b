"""HAS formula: the spec's worked examples, hand-computed cases, every penalty rule, classification.

Every case runs through both implementations (polars ``score_profiles`` and the row-by-row
``score_one``), so a wrong expectation or a divergence fails either way.
"""

from __future__ import annotations

import math

import polars as pl
import pytest

from scout_assets.domain.has import OUTPUT_COLUMNS, queued, reference, score, score_profiles
from scout_contract.tables import HAS_COLUMNS, polars_schema
from tests.has_fixtures import AS_OF, CONFIG, frame, profile, score_both, tuned


def approx(expected: float, decimals: int) -> pytest.approx:
    """Equal to ``expected`` when rounded to ``decimals`` places, as the spec prints its numbers."""
    return pytest.approx(expected, abs=0.5 * 10**-decimals + 1e-12)


# --- REFERENCE §2.7 worked examples ---------------------------------------------------------


@pytest.mark.parametrize("result", score_both(profile()), ids=["polars", "reference"])
def test_example_a_typical_academic_is_a_queued_human(result):
    assert result["r_ff"] == approx(0.3007, 4)
    assert result["r_eng"] == 1.0
    assert result["r_list"] == approx(0.4621, 4)
    assert result["r_media"] == approx(0.0500, 4)
    assert result["a_activity"] == approx(1.0270, 4)
    assert result["s_bot"] == approx(0.0495, 4)
    assert result["s_creator"] == approx(0.1796, 4)
    assert result["s_entity"] == approx(0.1754, 4)
    assert result["s_person"] == approx(0.8217, 4)
    assert result["penalty"] == 1.0
    assert (result["likely_is"], result["has"]) == ("Human", 0.8217)
    assert result["has"] > CONFIG.queue_threshold


EXAMPLE_B = profile(
    days=60,
    followers=40,
    following=6000,
    statuses=25000,
    favorites=100,
    listed=0,
    media=10,
    default_profile=True,
    default_profile_image=True,
)


@pytest.mark.parametrize("result", score_both(EXAMPLE_B), ids=["polars", "reference"])
def test_example_b_follow_spam_bot(result):
    assert result["r_ff"] == -2.0  # log10(41/6001) = -2.165, clamped
    assert result["r_eng"] == approx(0.0040, 4)
    assert result["a_age"] == approx(0.1516, 4)
    assert result["a_activity"] == approx(409.84, 2)
    assert result["p_custom"] == 0.0
    assert result["s_bot"] == approx(0.9890, 4)
    # fewFollowers 0.8 x newAccount 0.85 x spamPattern 0.5 x hyperactive 0.65 x defaultProfile 0.75
    # x lowEngagementHighActivity 0.7
    assert result["penalty"] == approx(0.1160, 4)
    assert result["raw_score"] == approx(0.0110, 4)
    assert (result["likely_is"], result["has"]) == ("Bot", 0.0013)


EXAMPLE_C = profile(
    days=4000,
    followers=250000,
    following=300,
    statuses=12000,
    favorites=500,
    listed=2500,
    media=4000,
    blue_verified=True,
)


@pytest.mark.parametrize("result", score_both(EXAMPLE_C), ids=["polars", "reference"])
def test_example_c_verified_organisation_is_an_entity(result):
    assert result["r_ff"] == approx(2.9194, 4)
    assert result["r_eng"] == approx(0.0417, 4)
    assert result["r_media"] == approx(0.3333, 4)
    assert result["a_activity"] == approx(2.9993, 4)
    assert result["s_bot"] == approx(0.1385, 4)
    assert result["s_entity"] == approx(0.6666, 4)
    assert result["s_creator"] == approx(0.7872, 4)  # would win, but Entity is checked first
    assert result["s_person"] == approx(0.6083, 4)
    assert result["penalty"] == 1.0
    assert (result["likely_is"], result["has"]) == ("Entity", 0.3334)
    assert result["has"] <= CONFIG.queue_threshold


EXAMPLE_D = profile(
    days=20,
    followers=35,
    following=120,
    statuses=4,
    favorites=2,
    listed=0,
    media=0,
    default_profile_image=True,
)


@pytest.mark.parametrize("result", score_both(EXAMPLE_D), ids=["polars", "reference"])
def test_example_d_new_lurker_is_a_heavily_penalised_human(result):
    assert result["s_person"] == approx(0.5662, 4)
    assert result["p_custom"] == 0.5
    assert result["penalty"] == pytest.approx(0.8 * 0.7 * 0.6)
    assert (result["likely_is"], result["has"]) == ("Human", 0.1902)


# --- extra hand-computed cases ----------------------------------------------------------------

# R_ff = log10(50001/201) = 2.3958, R_media = 1000/4001 = 0.2499, R_list = tanh(10) ~ 1, A = 4000/3001.
# Creator logit -2.5 + 1.5*s(1.3958) + 1.2*0.2499 + 0.8 + 0.5 + 0.8*s(12) = 1.1022 -> 0.7507.
# Entity logit -2.5 + 1.2*s(0.6958) + 0 + 0.6*0.2499 + 0.5 + 0.8*bell(1.333, 3, 5) = -0.3335 -> 0.4174 (< 0.5).
CREATOR = profile(
    days=3000,
    followers=50000,
    following=200,
    statuses=4000,
    favorites=8000,
    listed=500,
    media=1000,
    blue_verified=True,
)


@pytest.mark.parametrize("result", score_both(CREATOR), ids=["polars", "reference"])
def test_verified_media_heavy_account_is_a_creator(result):
    assert result["s_entity"] == approx(0.4174, 4)
    assert result["s_bot"] == approx(0.0495, 4)
    assert (result["likely_is"], result["has"]) == ("Creator", 0.7507)


# R_ff = log10(6/201) = -1.525; no posts; both profile defaults; 400 days.
# Bot logit -3 + 3*s(-5) + 2*(1-s(-0.5)) + 1.5*(1-s(-0.125)) + 1.5 + (1-s(10*(0.6657-0.1))) = 0.5654 -> 0.6377,
# below the 0.65 Bot threshold but the largest of the four (Person 0.3729, Entity 0.2505, Creator 0.0870).
# Other -> raw 0.5; penalty veryFewFollowers 0.6 x zeroStatuses 0.4 x defaultProfile 0.75 = 0.18.
OTHER = profile(
    days=400,
    followers=5,
    following=200,
    statuses=0,
    favorites=0,
    listed=0,
    media=0,
    default_profile=True,
    default_profile_image=True,
)


@pytest.mark.parametrize("result", score_both(OTHER), ids=["polars", "reference"])
def test_unclear_profile_topped_by_bot_score_is_other(result):
    assert result["s_bot"] == approx(0.6377, 4)
    assert result["s_person"] == approx(0.3729, 4)
    assert result["raw_score"] == 0.5
    assert result["penalty"] == pytest.approx(0.18)
    assert (result["likely_is"], result["has"]) == ("Other", 0.09)


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [({"followers": 0, "following": 1_000_000}, -2.0), ({"followers": 1_000_000, "following": 0}, 3.0)],
    ids=["lower", "upper"],
)
def test_follower_ratio_is_clamped_at_its_bounds(inputs, expected):
    for result in score_both(profile(**inputs)):
        assert result["r_ff"] == expected
        assert 0.0 <= result["has"] <= 1.0


# --- penalty rules --------------------------------------------------------------------------

# Each row starts from example A (no penalty) and changes only what trips one rule.
PENALTY_CASES = {
    "very_few_followers": profile(followers=9),
    "few_followers": profile(followers=49),
    "zero_statuses": profile(statuses=0),
    "very_few_statuses": profile(statuses=9),
    "very_new_account": profile(days=29.9, statuses=20, favorites=20),
    "new_account": profile(days=89.9, statuses=20, favorites=20),
    "spam_pattern": profile(following=5001, followers=99),
    "hyperactive": profile(followers=10000, statuses=21 * 2921 + 1, favorites=10**6),
    "high_activity": profile(followers=10000, statuses=11 * 2921, favorites=10**6),
    "high_volume_no_followers": profile(days=5000, followers=3999, statuses=40000, favorites=40000),
    "default_profile": profile(default_profile=True, default_profile_image=True),
    "low_engagement_high_activity": profile(statuses=20000, favorites=100),
}


@pytest.mark.parametrize("rule", list(PENALTY_CASES))
def test_each_penalty_rule_applies_its_factor_alone(rule):
    for result in score_both(PENALTY_CASES[rule]):
        assert result["penalty"] == pytest.approx(getattr(CONFIG.penalties, rule), abs=1e-15)


NO_PENALTY_EDGES = {
    "followers at the few threshold": profile(followers=50),
    "ten statuses": profile(statuses=10),
    "exactly 90 days": profile(days=90, statuses=20, favorites=20),
    "spam needs fewer than 100 followers": profile(following=5001, followers=100),
    "exactly 30000 statuses": profile(days=5000, followers=100, statuses=30000, favorites=30000),
    "followers exactly a tenth of statuses": profile(
        days=5000, followers=4000, statuses=40000, favorites=40000
    ),
    "one default flag only": profile(default_profile=True),
    "exactly 10 posts a day": profile(followers=10000, statuses=10 * 2921, favorites=10**6),
}


@pytest.mark.parametrize("case", list(NO_PENALTY_EDGES))
def test_thresholds_are_strict_where_the_predecessor_is(case):
    for result in score_both(NO_PENALTY_EDGES[case]):
        assert result["penalty"] == 1.0


def test_exactly_thirty_days_is_new_but_not_very_new():
    for result in score_both(profile(days=30, statuses=20, favorites=20)):
        assert result["penalty"] == CONFIG.penalties.new_account


def test_else_branches_apply_only_the_stronger_factor():
    # 5 followers is under both follower thresholds; only veryFewFollowers (0.6) applies.
    for result in score_both(profile(followers=5)):
        assert result["penalty"] == CONFIG.penalties.very_few_followers


def test_penalty_factors_come_from_the_config():
    config = tuned("penalties", spam_pattern=0.25)
    for result in score_both(PENALTY_CASES["spam_pattern"], config=config):
        assert result["penalty"] == 0.25


# --- classification order and ties ----------------------------------------------------------

CLASSIFICATION_CASES = [
    # (s_bot, s_creator, s_entity, s_person) -> (likely_is, raw)
    ((0.66, 0.9, 0.9, 0.9), ("Bot", 1 - 0.66)),
    ((0.65, 0.1, 0.1, 0.9), ("Human", 0.9)),  # the Bot threshold is strict
    ((0.49, 0.9, 0.6, 0.9), ("Entity", 0.4)),
    ((0.5, 0.9, 0.6, 0.9), ("Human", 0.9)),  # Entity needs s_bot < 0.5, Creator s_entity < 0.5
    ((0.4, 0.6, 0.5, 0.5), ("Creator", 0.6)),  # Creator rule fails on s_entity = 0.5; fallback picks Creator
    ((0.3, 0.5, 0.2, 0.5), ("Human", 0.5)),  # tie Human = Creator -> Human
    ((0.3, 0.5, 0.5, 0.2), ("Creator", 0.5)),  # tie Creator = Entity -> Creator
    ((0.5, 0.2, 0.5, 0.2), ("Other", 0.5)),  # tie Entity = Bot on top -> Other
    ((0.6, 0.2, 0.1, 0.55), ("Other", 0.5)),  # the Human threshold is strict; Bot on top -> Other
]


@pytest.mark.parametrize(("scores", "expected"), CLASSIFICATION_CASES)
def test_classification_order_thresholds_and_tie_break(scores, expected):
    s_bot, s_creator, s_entity, s_person = scores
    likely, raw = reference._classify(s_bot, s_creator, s_entity, s_person, CONFIG)
    assert (likely, raw) == (expected[0], pytest.approx(expected[1]))

    scored = (
        pl.DataFrame(
            {"s_bot": [s_bot], "s_creator": [s_creator], "s_entity": [s_entity], "s_person": [s_person]}
        )
        .with_columns(score._likely_is(CONFIG))
        .with_columns(score._raw_score())
    )
    assert scored.row(0, named=True)["likely_is"] == expected[0]
    assert scored.row(0, named=True)["raw_score"] == pytest.approx(expected[1])


def test_rounding_is_half_up_like_the_predecessor():
    values = [0.00125, 0.12345, 0.00005, 0.00135, 0.3]
    expected = [0.0013, 0.1235, 0.0001, 0.0014, 0.3]
    assert pl.select(score._round4(pl.Series(values))).to_series().to_list() == expected
    assert [reference._round4(v) for v in values] == expected


# --- the frame contract -----------------------------------------------------------------------


def test_output_has_exactly_the_has_scores_columns_and_types():
    out = score_profiles(frame([profile(), EXAMPLE_B]), CONFIG, AS_OF)
    expected = polars_schema(tuple((n, t) for n, t in HAS_COLUMNS if n != "partition_date"))
    assert out.columns == list(OUTPUT_COLUMNS)
    assert out.schema == expected
    assert out["has_version"].to_list() == [CONFIG.version] * 2
    assert out["as_of"].to_list() == [AS_OF] * 2
    assert out["platform_id"].to_list() == ["1", "1"]


def test_empty_frame_scores_to_an_empty_frame_with_the_schema():
    out = score_profiles(frame([]), CONFIG, AS_OF)
    assert out.height == 0
    assert out.columns == list(OUTPUT_COLUMNS)


def test_queue_rule_is_strictly_above_the_threshold_and_names_its_column():
    assert CONFIG.queue_threshold == 0.65
    scored = pl.DataFrame({"has": [0.65, 0.6501, 0.8217]})
    assert scored.filter(queued(CONFIG))["has"].to_list() == [0.6501, 0.8217]
    assert scored.with_columns(queued(CONFIG))["is_queued"].to_list() == [False, True, True]


def test_missing_column_is_named():
    with pytest.raises(ValueError, match="favorites"):
        score_profiles(frame([profile()]).drop("favorites"), CONFIG, AS_OF)


def test_negative_count_is_named_with_the_profile():
    with pytest.raises(ValueError, match=r"'statuses' has 1 negative value\(s\), e.g. twitter 1"):
        score_profiles(frame([profile(statuses=-3)]), CONFIG, AS_OF)


def test_wrong_column_type_is_named():
    bad = frame([profile()]).with_columns(pl.col("followers").cast(pl.String))
    with pytest.raises(ValueError, match="'followers' must be numeric, got String"):
        score_profiles(bad, CONFIG, AS_OF)


def test_as_of_must_be_a_datetime():
    with pytest.raises(ValueError, match="as_of must be a datetime"):
        score_profiles(frame([profile()]), CONFIG, AS_OF.date())


def test_weights_sum_as_documented():
    weights = CONFIG.person_weights
    assert math.isclose(sum(vars(weights).values()), 0.83)


def test_nan_count_is_named():
    floats = frame([profile()]).with_columns(pl.lit(float("nan")).alias("favorites"))
    with pytest.raises(ValueError, match=r"'favorites' has 1 NaN value\(s\)"):
        score_profiles(floats, CONFIG, AS_OF)
