"""HAS for one profile at a time, in plain Python: the oracle for score.py and the benchmark baseline.

Why a second implementation: the vectorised one folds the formula into polars expressions, where
a misplaced ``fill_null`` or a ``when`` branch in the wrong order is easy to miss. This module is
written the way the predecessor's scorer reads — features, four type scores, a penalty walked rule
by rule, a classification that sorts the candidates — so agreement between the two on many random
profiles means something. They share only the config object and the column names.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from scout_assets.domain.has.columns import HAS_INPUTS, ID_COLUMNS
from scout_assets.domain.has.config import HasConfig


def score_one(inputs: Mapping[str, Any], config: HasConfig, as_of: datetime) -> dict[str, Any]:
    """Score one profile (keys as in PROFILE_COLUMNS; absent or None = unknown) as of ``as_of``.

    Returns the same keys as a row of score.score_profiles.
    """
    missing = [name for name in HAS_INPUTS if inputs.get(name) is None]
    f = _features(inputs, config, _naive_utc(as_of))
    s_bot = _bot(f)
    s_creator = _creator(f)
    s_entity = _entity(f)
    s_person = _person(f, config)
    penalty = _penalty(f, config)
    likely_is, raw = _classify(s_bot, s_creator, s_entity, s_person, config)
    return {
        **{name: inputs.get(name) for name in ID_COLUMNS},
        "has": _round4(min(1.0, max(0.0, raw * penalty))),
        "likely_is": likely_is,
        "raw_score": raw,
        "penalty": penalty,
        "s_bot": s_bot,
        "s_creator": s_creator,
        "s_entity": s_entity,
        "s_person": s_person,
        "r_ff": f["r_ff"],
        "r_eng": f["r_eng"],
        "r_list": f["r_list"],
        "r_media": f["r_media"],
        "a_age": f["a_age"],
        "a_activity": f["a_activity"],
        "p_custom": f["p_custom"],
        "p_safe": f["p_safe"],
        "p_verified": f["p_verified"],
        "missing_inputs": ",".join(missing),
        "has_version": config.version,
        "as_of": _naive_utc(as_of),
    }


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _bell(x: float, peak: float, width: float) -> float:
    z = (x - peak) / width
    return math.exp(-z * z)


def _round4(x: float) -> float:
    return float(Decimal(x * 10000.0).quantize(Decimal(1), rounding=ROUND_HALF_UP)) / 10000.0


def _features(p: Mapping[str, Any], config: HasConfig, as_of: datetime) -> dict[str, Any]:
    m = config.missing_inputs
    followers = float(p.get("followers") or 0)
    following = float(p.get("following") or 0)
    statuses = float(p.get("statuses") or 0)
    created_at = p.get("created_at")
    days = None
    if created_at is not None:
        days = max(0.0, (as_of - _naive_utc(created_at)) / timedelta(days=1))

    r_eng = None
    if p.get("favorites") is not None:
        r_eng = min(1.0, p["favorites"] / (statuses + 1))

    known_flags = [
        flag for flag in (p.get("default_profile"), p.get("default_profile_image")) if flag is not None
    ]
    if known_flags:
        p_custom = sum(0.0 if flag else 1.0 for flag in known_flags) / len(known_flags)
    else:
        p_custom = m.neutral_customisation

    return {
        "followers": followers,
        "following": following,
        "statuses": statuses,
        "days": days,
        "known": {name for name in HAS_INPUTS if p.get(name) is not None},
        "r_ff": max(-2.0, min(3.0, math.log10((followers + 1) / (following + 1)))),
        "r_eng": r_eng,
        "r_list": math.tanh(p["listed"] / 50) if p.get("listed") is not None else 0.0,
        "r_media": min(1.0, p["media"] / (statuses + 1)) if p.get("media") is not None else 0.0,
        "a_age": m.neutral_age if days is None else 1 - math.exp(-days / 365),
        "s_age": m.neutral_age if days is None else 1 - math.exp(-days / 500),
        "a_activity": statuses / ((m.assumed_age_days if days is None else days) + 1),
        "p_custom": p_custom,
        "p_safe": 0.7 if p.get("possibly_sensitive") else 1.0,
        "p_verified": 1.0 if p.get("blue_verified") else 0.0,
        "engagement_neutral": m.neutral_engagement,
    }


def _bot(f: dict[str, Any]) -> float:
    hyperactive = _sigmoid(0.1 * (f["a_activity"] - 50))
    no_engage = f["engagement_neutral"] if f["r_eng"] is None else 1 - _sigmoid(5 * (f["r_eng"] - 0.1))
    unbalanced = 1 - _sigmoid(5 * (f["r_ff"] - -1.5))
    new = 1 - _sigmoid(10 * (f["a_age"] - 0.1))
    return _sigmoid(
        -3 + 3 * hyperactive + 2 * no_engage + 1.5 * unbalanced + 1.5 * (1 - f["p_custom"]) + 1 * new
    )


def _creator(f: dict[str, Any]) -> float:
    large_audience = _sigmoid(0.0003 * (f["followers"] - 10000))
    high_ratio = _sigmoid(1 * (f["r_ff"] - 1))
    return _sigmoid(
        -2.5
        + 1.5 * high_ratio
        + 1.2 * f["r_media"]
        + 0.8 * f["r_list"]
        + 0.5 * f["p_verified"]
        + 0.8 * large_audience
    )


def _entity(f: dict[str, Any]) -> float:
    consistent = _bell(f["a_activity"], 3, 5)
    very_high_ratio = _sigmoid(1 * (f["r_ff"] - 1.7))
    not_engaged = f["engagement_neutral"] if f["r_eng"] is None else 1 - f["r_eng"]
    return _sigmoid(
        -2.5
        + 1.2 * very_high_ratio
        + 0.8 * not_engaged
        + 0.6 * f["r_media"]
        + 0.5 * f["p_verified"]
        + 0.8 * consistent
    )


def _person(f: dict[str, Any], config: HasConfig) -> float:
    w, t = config.person_weights, config.activity_thresholds
    a = f["a_activity"]
    if a < t.very_low:
        normal_activity = 0.5
    elif a < t.low:
        normal_activity = 0.5 + 0.4 * (a - t.very_low) / (t.low - t.very_low)
    elif a <= t.optimal_max:
        normal_activity = 0.9 + 0.1 * _bell(a, 1.0, 0.5)
    elif a <= t.high_max:
        normal_activity = 0.75
    elif a <= t.very_high_max:
        normal_activity = 0.45
    else:
        normal_activity = 0.2

    following = f["following"]
    if following <= 500:
        moderate_following = 1.0
    elif following <= 1500:
        moderate_following = 1.0 - 0.15 * (following - 500) / 1000
    elif following <= 3000:
        moderate_following = 0.85 - 0.25 * (following - 1500) / 1500
    else:
        moderate_following = max(0.3, 0.6 - 0.1 * (following - 3000) / 2000)

    statuses = f["statuses"]
    if statuses <= 5000:
        reasonable_volume = 1.0
    elif statuses <= 10000:
        reasonable_volume = 1.0 - 0.2 * (statuses - 5000) / 5000
    elif statuses <= 20000:
        reasonable_volume = 0.8 - 0.3 * (statuses - 10000) / 10000
    else:
        reasonable_volume = max(0.3, 0.5 - 0.1 * (statuses - 20000) / 10000)

    engaged = f["engagement_neutral"] if f["r_eng"] is None else min(1.0, math.sqrt(f["r_eng"] * 2))
    balanced = _bell((f["r_ff"] + 2) / 5, 0.4, 0.25)
    established = min(1.0, math.log10(f["followers"] + 1) / 3)
    base = (
        w.custom * f["p_custom"]
        + w.engaged * engaged
        + w.age * f["s_age"]
        + w.safe * f["p_safe"]
        + w.balanced * balanced
        + w.normal_activity * normal_activity
        + w.established * established
        + w.moderate_following * moderate_following
        + w.reasonable_volume * reasonable_volume
    )
    bonus = f["p_verified"] * 0.08 * _sigmoid(10 * (base - 0.7))
    return min(1.0, base + bonus)


def _penalty(f: dict[str, Any], config: HasConfig) -> float:
    """Walk the rules in the predecessor's order; a rule that reads an unknown input does not fire."""
    t, p = config.penalty_thresholds, config.penalties
    known = f["known"]
    followers, statuses, days, a = f["followers"], f["statuses"], f["days"], f["a_activity"]
    activity_known = {"statuses", "created_at"} <= known
    penalty = 1.0
    if "followers" in known:
        if followers < t.very_few_followers:
            penalty *= p.very_few_followers
        elif followers < t.few_followers:
            penalty *= p.few_followers
    if "statuses" in known:
        if statuses == 0:
            penalty *= p.zero_statuses
        elif statuses < t.very_few_statuses:
            penalty *= p.very_few_statuses
    if days is not None:
        if days < t.very_new_days:
            penalty *= p.very_new_account
        elif days < t.new_days:
            penalty *= p.new_account
    if {"following", "followers"} <= known and f["following"] > t.mass_following and followers < 100:
        penalty *= p.spam_pattern
    if activity_known:
        if a > t.hyperactive_tweets:
            penalty *= p.hyperactive
        elif a > t.high_activity_tweets:
            penalty *= p.high_activity
    if {"statuses", "followers"} <= known and statuses > t.huge_statuses and followers < statuses / 10:
        penalty *= p.high_volume_no_followers
    if known & {"default_profile", "default_profile_image"} and f["p_custom"] < 0.5:
        penalty *= p.default_profile
    if (
        activity_known
        and f["r_eng"] is not None
        and f["r_eng"] < t.low_engagement_rate
        and a > t.high_activity_for_low_engagement
    ):
        penalty *= p.low_engagement_high_activity
    return penalty


def _classify(
    s_bot: float, s_creator: float, s_entity: float, s_person: float, config: HasConfig
) -> tuple[str, float]:
    c = config.classification_thresholds
    if s_bot > c.bot:
        return "Bot", 1 - s_bot
    if s_entity > c.entity and s_bot < 0.5:
        return "Entity", 1 - s_entity
    if s_creator > c.creator and s_entity < 0.5 and s_bot < 0.5:
        return "Creator", s_creator
    if s_person > c.human:
        return "Human", s_person
    # sorted() is stable, so equal scores keep this order: Human, Creator, Entity, Bot.
    candidates = [("Human", s_person), ("Creator", s_creator), ("Entity", s_entity), ("Bot", s_bot)]
    best, score = sorted(candidates, key=lambda pair: -pair[1])[0]
    if best in ("Entity", "Bot"):
        return "Other", 0.5
    return best, score
