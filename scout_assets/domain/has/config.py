"""The HAS settings: the typed shape of ``has.yaml``, its loading, and the version that names it.

Why a version: scores are stored, compared across days and fed to the LLM queue. If someone tunes
a weight, yesterday's rows and today's rows are no longer comparable, so every scored row carries
``has_version`` — a short hash of the settings (and of the formula revision) that produced it.

Why strict loading: a typo in a hand-edited YAML file must stop the run with the file and the key
in the message, not silently score with a default. ``scout_contract.config_file`` reads the file;
the models below say what each number may be.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, model_validator

from scout_contract.config_file import (
    ConfigFileError,
    ConfigModel,
    NonNegative,
    Number,
    Share,
    field_problem,
    load_config_file,
)
from scout_contract.paths import CONFIG_DIR

DEFAULT_CONFIG_PATH = CONFIG_DIR / "has.yaml"

# Bump when score.py / reference.py change what a given config produces (a new rule, a new
# missing-input default in code), so has_version moves even though has.yaml did not.
FORMULA_REVISION = 1

# A multiplicative penalty: it may lower a score, never raise it or zero it.
Factor = Annotated[Number, Field(gt=0, le=1)]


class HasConfigError(ConfigFileError):
    """A HAS config file that cannot be used, with the file, the field (dotted path) and the problem."""


class PersonWeights(ConfigModel):
    """Weights of the Person score's sub-signals."""

    custom: NonNegative
    engaged: NonNegative
    age: NonNegative
    safe: NonNegative
    balanced: NonNegative
    normal_activity: NonNegative
    established: NonNegative
    moderate_following: NonNegative
    reasonable_volume: NonNegative


class ActivityThresholds(ConfigModel):
    """Posts-per-day breakpoints of the Person score's normal-activity curve, in increasing order."""

    very_low: NonNegative
    low: Number
    optimal_max: Number
    high_max: Number
    very_high_max: Number

    @model_validator(mode="after")
    def _in_order(self) -> ActivityThresholds:
        # low divides by (low - very_low), so it must be strictly above; the rest may be equal.
        if self.low <= self.very_low:
            raise field_problem("low", f"must be above very_low ({self.very_low}), got {self.low}")
        names = ("low", "optimal_max", "high_max", "very_high_max")
        for before, name in itertools.pairwise(names):
            low, value = getattr(self, before), getattr(self, name)
            if value < low:
                raise field_problem(name, f"must be >= {before} ({low}), got {value}")
        return self


class PenaltyThresholds(ConfigModel):
    """Conditions of the penalty rules. The last three are carried but unused (as in the predecessor)."""

    very_few_followers: Number
    few_followers: Number
    very_few_statuses: Number
    very_new_days: Number
    new_days: Number
    hyperactive_tweets: Number
    high_activity_tweets: Number
    mass_following: Number
    huge_statuses: Number
    low_engagement_rate: Number
    high_activity_for_low_engagement: Number
    few_statuses: Number
    high_following: Number
    very_high_statuses: Number


class ClassificationThresholds(ConfigModel):
    """Score a type must exceed to win the classification."""

    bot: Share
    entity: Share
    creator: Share
    human: Share


class Penalties(ConfigModel):
    """Multiplicative factors of the penalty rules."""

    very_few_followers: Factor
    few_followers: Factor
    zero_statuses: Factor
    very_few_statuses: Factor
    very_new_account: Factor
    new_account: Factor
    spam_pattern: Factor
    hyperactive: Factor
    high_activity: Factor
    high_volume_no_followers: Factor
    default_profile: Factor
    low_engagement_high_activity: Factor


class MissingInputPolicy(ConfigModel):
    """Stand-ins for inputs a platform does not send (docs/has.md, "Missing inputs")."""

    neutral_engagement: Share
    neutral_customisation: Share
    neutral_age: Share
    assumed_age_days: NonNegative


class HasConfig(ConfigModel):
    """Every number the HAS formula reads from configuration, and the queue threshold."""

    person_weights: PersonWeights
    activity_thresholds: ActivityThresholds
    penalty_thresholds: PenaltyThresholds
    classification_thresholds: ClassificationThresholds
    penalties: Penalties
    missing_inputs: MissingInputPolicy
    # The one place the queue rule's number lives; ``score.queued`` is the rule itself.
    queue_threshold: Share

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain nested data (every number a float), the shape of has.yaml."""
        return self.model_dump()

    @property
    def version(self) -> str:
        """12 hex digits of the SHA-256 of the canonical JSON of the settings and formula revision.

        Numbers are hashed as floats, so ``2`` and ``2.0`` give the same version; key order,
        comments and layout of the YAML file do not matter. Computed on each read (a few
        microseconds), never cached, so a copy with other numbers can never carry a stale version.
        """
        document = {"formula_revision": FORMULA_REVISION, "settings": self.to_dict()}
        canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


def load_has_config(path: Path | str | None = None) -> HasConfig:
    """Read and check the HAS config (default ``scout_assets/config/has.yaml``)."""
    path = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    return load_config_file(path, HasConfig, "HAS config", error=HasConfigError)


@functools.cache
def has_config() -> HasConfig:
    """The checked-in ``has.yaml``, read once per process.

    Once, because ``has_scores`` declares the config's version as its code version when the code
    location loads; scoring with a file edited since then would write rows under a version Dagster
    does not know. A config edit takes effect on the next code-location reload.
    """
    return load_has_config()
