"""HAS for a whole frame of profiles at once, as polars expressions.

Why expressions: a partition holds tens of thousands of profiles and a backfill replays hundreds of
partitions; column-wise arithmetic in polars scores a million rows in about a second, where a
Python loop takes tens of seconds (bench/bench_has.py measures both). Every branch of the formula
is a ``when/then`` over the full column, so there is no per-row Python anywhere.

Why ``as_of`` is a parameter: account age feeds several terms. Taking it from the partition, never
from the clock, makes a re-run or backfill of a day reproduce that day's scores exactly.

The formula (docs/has.md, REFERENCE §2) keeps the predecessor's constants and evaluation order,
so complete inputs score as they did there; nulls follow the missing-input policy in has.yaml.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from scout_assets.domain.has.columns import OUTPUT_COLUMNS
from scout_assets.domain.has.config import HasConfig
from scout_assets.domain.has.inputs import (
    check_profiles,
    days_since_creation,
    input_columns,
    missing_inputs,
    naive_utc,
)
from scout_contract.tables import HAS_COLUMNS, polars_schema

_OUTPUT_SCHEMA = polars_schema(tuple((n, t) for n, t in HAS_COLUMNS if n != "partition_date"))
_SPAM_MAX_FOLLOWERS = 100  # the predecessor hard-codes the pair of penalty_thresholds.mass_following


def score_profiles(profiles: pl.DataFrame, config: HasConfig, as_of: datetime) -> pl.DataFrame:
    """Score every profile; one output row per input row, columns OUTPUT_COLUMNS in order.

    ``profiles`` needs the id columns and every HAS input (any value may be null); ``as_of`` is the
    instant ages are measured at (naive = UTC). Raises ValueError naming the column for a missing
    column, a wrong type, or a negative / NaN count.
    """
    check_profiles(profiles)
    as_of_utc = naive_utc(as_of)
    frame = (
        profiles.lazy()
        .select(input_columns(profiles.schema))
        .with_columns(missing_inputs(), days_since_creation(as_of_utc))
        .with_columns(_features(config))
        .with_columns(_type_scores(config))
        .with_columns(_penalty(config), _likely_is(config))
        .with_columns(_raw_score())
        .with_columns(
            _round4((pl.col("raw_score") * pl.col("penalty")).clip(0.0, 1.0)).alias("has"),
            pl.lit(config.version, dtype=pl.String).alias("has_version"),
            pl.lit(as_of_utc, dtype=pl.Datetime("us")).alias("as_of"),
        )
        .select(OUTPUT_COLUMNS)
    )
    return frame.collect().cast(dict(_OUTPUT_SCHEMA))


def queued(config: HasConfig) -> pl.Expr:
    """The rule of the LLM queue, over scored rows: HAS strictly above queue_threshold.

    The only place the rule is written: ``has_scores`` stores it as the ``is_queued`` column
    (the expression's name), and everything downstream (the queue, keyword statistics, the dbt
    marts) reads that column. Use it as a column or as a filter.
    """
    return (pl.col("has") > config.queue_threshold).alias("is_queued")


# --- formula helpers ------------------------------------------------------------------------


def _sigmoid(x: pl.Expr) -> pl.Expr:
    return 1.0 / (1.0 + (-x).exp())


def _bell(x: pl.Expr, peak: float, width: float) -> pl.Expr:
    z = (x - peak) / width
    return (-(z * z)).exp()


def _round4(x: pl.Expr) -> pl.Expr:
    """Round to 4 decimals with ties up, as the predecessor's Math.round(x * 10000) / 10000 (x >= 0).

    Not ``x * 10000 ... / 10000`` by hand: polars turns a division by a constant into a
    multiplication by its reciprocal, so 13 / 10000 would come out as 0.0013000000000000002.
    """
    return x.round(4, mode="half_away_from_zero")


def _known(*names: str) -> pl.Expr:
    return pl.all_horizontal(*[pl.col(n).is_not_null() for n in names])


def _count(name: str) -> pl.Expr:
    """A count with unknown read as 0 (the missing-input policy for followers/following/statuses)."""
    return pl.col(name).fill_null(0.0)


# --- features and type scores ---------------------------------------------------------------


def _features(config: HasConfig) -> list[pl.Expr]:
    followers, following, statuses = _count("followers"), _count("following"), _count("statuses")
    m = config.missing_inputs
    days = pl.col("_days")
    flags_custom = [1.0 - pl.col(c).cast(pl.Float64) for c in ("default_profile", "default_profile_image")]
    return [
        ((followers + 1.0) / (following + 1.0)).log10().clip(-2.0, 3.0).alias("r_ff"),
        (pl.col("favorites") / (statuses + 1.0)).clip(upper_bound=1.0).alias("r_eng"),  # null = unknown
        (pl.col("listed") / 50.0).tanh().fill_null(0.0).alias("r_list"),
        (pl.col("media") / (statuses + 1.0)).clip(upper_bound=1.0).fill_null(0.0).alias("r_media"),
        (1.0 - (-days / 365.0).exp()).fill_null(m.neutral_age).alias("a_age"),
        (1.0 - (-days / 500.0).exp()).fill_null(m.neutral_age).alias("_s_age"),
        (statuses / (days.fill_null(m.assumed_age_days) + 1.0)).alias("a_activity"),
        # mean_horizontal skips nulls: the mean over the flags we know, null when neither is known.
        pl.mean_horizontal(*flags_custom).fill_null(m.neutral_customisation).alias("p_custom"),
        (1.0 - 0.3 * pl.col("possibly_sensitive").cast(pl.Float64)).fill_null(1.0).alias("p_safe"),
        pl.col("blue_verified").cast(pl.Float64).fill_null(0.0).alias("p_verified"),
    ]


def _type_scores(config: HasConfig) -> list[pl.Expr]:
    followers = _count("followers")
    neutral = config.missing_inputs.neutral_engagement
    r_ff, r_eng, r_media, r_list = pl.col("r_ff"), pl.col("r_eng"), pl.col("r_media"), pl.col("r_list")
    activity, p_custom, p_verified = pl.col("a_activity"), pl.col("p_custom"), pl.col("p_verified")

    s_no_engage = (1.0 - _sigmoid(5.0 * (r_eng - 0.1))).fill_null(neutral)
    s_bot = _sigmoid(
        -3.0
        + 3.0 * _sigmoid(0.1 * (activity - 50.0))
        + 2.0 * s_no_engage
        + 1.5 * (1.0 - _sigmoid(5.0 * (r_ff + 1.5)))
        + 1.5 * (1.0 - p_custom)
        + 1.0 * (1.0 - _sigmoid(10.0 * (pl.col("a_age") - 0.1)))
    )
    s_creator = _sigmoid(
        -2.5
        + 1.5 * _sigmoid(r_ff - 1.0)
        + 1.2 * r_media
        + 0.8 * r_list
        + 0.5 * p_verified
        + 0.8 * _sigmoid(0.0003 * (followers - 10000.0))
    )
    s_entity = _sigmoid(
        -2.5
        + 1.2 * _sigmoid(r_ff - 1.7)
        + 0.8 * (1.0 - r_eng).fill_null(neutral)
        + 0.6 * r_media
        + 0.5 * p_verified
        + 0.8 * _bell(activity, 3.0, 5.0)
    )
    return [s_bot.alias("s_bot"), s_creator.alias("s_creator"), s_entity.alias("s_entity"), _person(config)]


def _person(config: HasConfig) -> pl.Expr:
    followers, following, statuses = _count("followers"), _count("following"), _count("statuses")
    w, t = config.person_weights, config.activity_thresholds
    activity = pl.col("a_activity")
    normal_activity = (
        pl.when(activity < t.very_low).then(0.5)
        .when(activity < t.low).then(0.5 + 0.4 * (activity - t.very_low) / (t.low - t.very_low))
        .when(activity <= t.optimal_max).then(0.9 + 0.1 * _bell(activity, 1.0, 0.5))
        .when(activity <= t.high_max).then(0.75)
        .when(activity <= t.very_high_max).then(0.45)
        .otherwise(0.2)
    )  # fmt: skip
    moderate_following = (
        pl.when(following <= 500).then(1.0)
        .when(following <= 1500).then(1.0 - 0.15 * (following - 500.0) / 1000.0)
        .when(following <= 3000).then(0.85 - 0.25 * (following - 1500.0) / 1500.0)
        .otherwise(pl.max_horizontal(0.3, 0.6 - 0.1 * (following - 3000.0) / 2000.0))
    )  # fmt: skip
    reasonable_volume = (
        pl.when(statuses <= 5000).then(1.0)
        .when(statuses <= 10000).then(1.0 - 0.2 * (statuses - 5000.0) / 5000.0)
        .when(statuses <= 20000).then(0.8 - 0.3 * (statuses - 10000.0) / 10000.0)
        .otherwise(pl.max_horizontal(0.3, 0.5 - 0.1 * (statuses - 20000.0) / 10000.0))
    )  # fmt: skip
    engaged = (
        (pl.col("r_eng") * 2.0)
        .sqrt()
        .clip(upper_bound=1.0)
        .fill_null(config.missing_inputs.neutral_engagement)
    )
    base = (
        w.custom * pl.col("p_custom")
        + w.engaged * engaged
        + w.age * pl.col("_s_age")
        + w.safe * pl.col("p_safe")
        + w.balanced * _bell((pl.col("r_ff") + 2.0) / 5.0, 0.4, 0.25)
        + w.normal_activity * normal_activity
        + w.established * ((followers + 1.0).log10() / 3.0).clip(upper_bound=1.0)
        + w.moderate_following * moderate_following
        + w.reasonable_volume * reasonable_volume
    )
    bonus = pl.col("p_verified") * 0.08 * _sigmoid(10.0 * (base - 0.7))
    return (base + bonus).clip(upper_bound=1.0).alias("s_person")


# --- penalty and classification -------------------------------------------------------------


def _penalty(config: HasConfig) -> pl.Expr:
    """Product of the fired rules' factors, in the predecessor's order; rules on unknown inputs stay silent."""
    followers, following, statuses = _count("followers"), _count("following"), _count("statuses")
    t, p = config.penalty_thresholds, config.penalties
    days, activity, r_eng = pl.col("_days"), pl.col("a_activity"), pl.col("r_eng")
    has_followers, has_statuses = _known("followers"), _known("statuses")
    has_activity = _known("statuses", "created_at")
    spam = (
        _known("following", "followers") & (following > t.mass_following) & (followers < _SPAM_MAX_FOLLOWERS)
    )
    # followers < statuses / 10, compared without dividing (see _days) so the boundary is exact.
    high_volume = (
        _known("statuses", "followers") & (statuses > t.huge_statuses) & (followers * 10.0 < statuses)
    )
    # Fires on known flags only: the neutral P_custom of two unknown flags is not evidence.
    default_profile = (_known("default_profile") | _known("default_profile_image")) & (
        pl.col("p_custom") < 0.5
    )
    # A null r_eng (favorites unknown) leaves the comparison null, which never fires.
    low_engagement = (
        has_activity & (r_eng < t.low_engagement_rate) & (activity > t.high_activity_for_low_engagement)
    )
    rules = [
        pl.when(has_followers & (followers < t.very_few_followers)).then(p.very_few_followers)
        .when(has_followers & (followers < t.few_followers)).then(p.few_followers),
        pl.when(has_statuses & (statuses == 0)).then(p.zero_statuses)
        .when(has_statuses & (statuses < t.very_few_statuses)).then(p.very_few_statuses),
        # days is null when created_at is unknown: neither age rule fires.
        pl.when(days < t.very_new_days).then(p.very_new_account)
        .when(days < t.new_days).then(p.new_account),
        pl.when(spam).then(p.spam_pattern),
        pl.when(has_activity & (activity > t.hyperactive_tweets)).then(p.hyperactive)
        .when(has_activity & (activity > t.high_activity_tweets)).then(p.high_activity),
        pl.when(high_volume).then(p.high_volume_no_followers),
        pl.when(default_profile).then(p.default_profile),
        pl.when(low_engagement).then(p.low_engagement_high_activity),
    ]  # fmt: skip
    penalty = pl.lit(1.0)
    for rule in rules:
        penalty = penalty * rule.otherwise(1.0)
    return penalty.alias("penalty")


def _likely_is(config: HasConfig) -> pl.Expr:
    c = config.classification_thresholds
    bot, entity, creator, person = (
        pl.col("s_bot"),
        pl.col("s_entity"),
        pl.col("s_creator"),
        pl.col("s_person"),
    )
    best = pl.max_horizontal(person, creator, entity, bot)
    return (
        pl.when(bot > c.bot).then(pl.lit("Bot"))
        .when((entity > c.entity) & (bot < 0.5)).then(pl.lit("Entity"))
        .when((creator > c.creator) & (entity < 0.5) & (bot < 0.5)).then(pl.lit("Creator"))
        .when(person > c.human).then(pl.lit("Human"))
        # No clear winner: the top score decides, ties going Human, Creator, Entity, Bot;
        # a Bot or Entity on top is too uncertain to call and becomes Other.
        .when(person == best).then(pl.lit("Human"))
        .when(creator == best).then(pl.lit("Creator"))
        .otherwise(pl.lit("Other"))
        .alias("likely_is")
    )  # fmt: skip


def _raw_score() -> pl.Expr:
    likely = pl.col("likely_is")
    return (
        pl.when(likely == "Bot").then(1.0 - pl.col("s_bot"))
        .when(likely == "Entity").then(1.0 - pl.col("s_entity"))
        .when(likely == "Creator").then(pl.col("s_creator"))
        .when(likely == "Human").then(pl.col("s_person"))
        .otherwise(0.5)
        .alias("raw_score")
    )  # fmt: skip
