"""The HAS settings: loading ``has.yaml``, checking it, and naming the result with a version.

Why a version: scores are stored, compared across days and fed to the LLM queue. If someone tunes
a weight, yesterday's rows and today's rows are no longer comparable, so every scored row carries
``has_version`` — a short hash of the settings (and of the formula revision) that produced it.

Why strict loading: a typo in a hand-edited YAML file must stop the run with the file and the key
in the message, not silently score with a default.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from scout_contract.paths import CONFIG_DIR

DEFAULT_CONFIG_PATH = CONFIG_DIR / "has.yaml"

# Bump when score.py / reference.py change what a given config produces (a new rule, a new
# missing-input default in code), so has_version moves even though has.yaml did not.
FORMULA_REVISION = 1


class HasConfigError(ValueError):
    """A HAS config file that cannot be used, with the file, the key (dotted path) and the problem."""

    def __init__(self, path: str, key: str | None, problem: str) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        where = f"{path}: key {key!r}" if key else path
        super().__init__(f"HAS config {where} {problem}")

    def __reduce__(self):
        # Dagster pickles exceptions across processes; rebuild from the three attributes.
        return (type(self), (self.path, self.key, self.problem))


@dataclass(frozen=True)
class PersonWeights:
    """Weights of the Person score's sub-signals."""

    custom: float
    engaged: float
    age: float
    safe: float
    balanced: float
    normal_activity: float
    established: float
    moderate_following: float
    reasonable_volume: float


@dataclass(frozen=True)
class ActivityThresholds:
    """Posts-per-day breakpoints of the Person score's normal-activity curve."""

    very_low: float
    low: float
    optimal_max: float
    high_max: float
    very_high_max: float


@dataclass(frozen=True)
class PenaltyThresholds:
    """Conditions of the penalty rules. The last three are carried but unused (as in the predecessor)."""

    very_few_followers: float
    few_followers: float
    very_few_statuses: float
    very_new_days: float
    new_days: float
    hyperactive_tweets: float
    high_activity_tweets: float
    mass_following: float
    huge_statuses: float
    low_engagement_rate: float
    high_activity_for_low_engagement: float
    few_statuses: float
    high_following: float
    very_high_statuses: float


@dataclass(frozen=True)
class ClassificationThresholds:
    """Score a type must exceed to win the classification."""

    bot: float
    entity: float
    creator: float
    human: float


@dataclass(frozen=True)
class Penalties:
    """Multiplicative factors of the penalty rules."""

    very_few_followers: float
    few_followers: float
    zero_statuses: float
    very_few_statuses: float
    very_new_account: float
    new_account: float
    spam_pattern: float
    hyperactive: float
    high_activity: float
    high_volume_no_followers: float
    default_profile: float
    low_engagement_high_activity: float


@dataclass(frozen=True)
class MissingInputPolicy:
    """Stand-ins for inputs a platform does not send (docs/has.md, "Missing inputs")."""

    neutral_engagement: float
    neutral_customisation: float
    neutral_age: float
    assumed_age_days: float


_SECTIONS: dict[str, type] = {
    "person_weights": PersonWeights,
    "activity_thresholds": ActivityThresholds,
    "penalty_thresholds": PenaltyThresholds,
    "classification_thresholds": ClassificationThresholds,
    "penalties": Penalties,
    "missing_inputs": MissingInputPolicy,
}


@dataclass(frozen=True)
class HasConfig:
    """Every number the HAS formula reads from configuration."""

    person_weights: PersonWeights
    activity_thresholds: ActivityThresholds
    penalty_thresholds: PenaltyThresholds
    classification_thresholds: ClassificationThresholds
    penalties: Penalties
    missing_inputs: MissingInputPolicy
    queue_threshold: float

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain nested data (every number a float), the shape of has.yaml."""
        out: dict[str, Any] = {}
        for name in _SECTIONS:
            section = getattr(self, name)
            out[name] = {f.name: float(getattr(section, f.name)) for f in fields(section)}
        out["queue_threshold"] = float(self.queue_threshold)
        return out

    @cached_property
    def version(self) -> str:
        """12 hex digits of the SHA-256 of the canonical JSON of the settings and formula revision.

        Numbers are hashed as floats, so ``2`` and ``2.0`` give the same version; key order,
        comments and layout of the YAML file do not matter.
        """
        document = {"formula_revision": FORMULA_REVISION, "settings": self.to_dict()}
        canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]

    @classmethod
    def from_mapping(cls, data: Any, source: str = "<mapping>") -> HasConfig:
        """Build and check a config from parsed YAML; errors name ``source`` and the dotted key."""
        if not isinstance(data, dict):
            raise HasConfigError(source, None, f"must be a mapping of sections, got {type(data).__name__}")
        expected = {*_SECTIONS, "queue_threshold"}
        for key in data:
            if key not in expected:
                raise HasConfigError(source, str(key), f"is not a HAS setting (known: {sorted(expected)})")
        sections = {name: _section(data, name, kind, source) for name, kind in _SECTIONS.items()}
        if "queue_threshold" not in data:
            raise HasConfigError(source, "queue_threshold", "is missing")
        queue = _number(data["queue_threshold"], "queue_threshold", source)
        config = cls(**sections, queue_threshold=queue)
        _check_ranges(config, source)
        return config


def load_has_config(path: Path | None = None) -> HasConfig:
    """Read and check the HAS config (default ``scout_assets/config/has.yaml``)."""
    path = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise HasConfigError(source, None, f"cannot be read: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise HasConfigError(source, None, f"is not valid YAML {_yaml_problem(exc)}") from exc
    return HasConfig.from_mapping(data, source)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """'at line L, column C: problem (while ... started at line L0)' from a PyYAML error."""
    mark = getattr(exc, "problem_mark", None)
    text = f"at line {mark.line + 1}, column {mark.column + 1}: " if mark else ": "
    text += getattr(exc, "problem", None) or str(exc)
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark:
        text += f" ({context} started at line {context_mark.line + 1})"
    return text


def _section(data: dict, name: str, kind: type, source: str) -> Any:
    if name not in data:
        raise HasConfigError(source, name, "is missing")
    raw = data[name]
    if not isinstance(raw, dict):
        raise HasConfigError(source, name, f"must be a mapping, got {type(raw).__name__} {raw!r}")
    names = [f.name for f in fields(kind)]
    for key in raw:
        if key not in names:
            raise HasConfigError(source, f"{name}.{key}", f"is not a known key (known: {sorted(names)})")
    values = {}
    for key in names:
        if key not in raw:
            raise HasConfigError(source, f"{name}.{key}", "is missing")
        values[key] = _number(raw[key], f"{name}.{key}", source)
    return kind(**values)


def _number(value: Any, key: str, source: str) -> float:
    # bool is an int subclass in Python; `custom: yes` must not become 1.0.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise HasConfigError(source, key, f"must be a number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value):
        raise HasConfigError(source, key, f"must be a finite number, got {value!r}")
    return float(value)


def _check_ranges(config: HasConfig, source: str) -> None:
    """Reject values that would make the formula divide by zero or leave its [0, 1] range."""

    def require(ok: bool, key: str, problem: str) -> None:
        if not ok:
            raise HasConfigError(source, key, problem)

    for f in fields(PersonWeights):
        value = getattr(config.person_weights, f.name)
        require(value >= 0, f"person_weights.{f.name}", f"must be >= 0, got {value}")
    for f in fields(Penalties):
        value = getattr(config.penalties, f.name)
        require(0 < value <= 1, f"penalties.{f.name}", f"must be in (0, 1], got {value}")
    for f in fields(ClassificationThresholds):
        value = getattr(config.classification_thresholds, f.name)
        require(0 <= value <= 1, f"classification_thresholds.{f.name}", f"must be in [0, 1], got {value}")
    a = config.activity_thresholds
    ordered = [
        ("very_low", a.very_low),
        ("low", a.low),
        ("optimal_max", a.optimal_max),
        ("high_max", a.high_max),
        ("very_high_max", a.very_high_max),
    ]
    require(a.very_low >= 0, "activity_thresholds.very_low", f"must be >= 0, got {a.very_low}")
    require(
        a.very_low < a.low, "activity_thresholds.low", f"must be above very_low ({a.very_low}), got {a.low}"
    )
    for (_, before), (name, value) in itertools.pairwise(ordered[1:]):
        require(value >= before, f"activity_thresholds.{name}", f"must be >= {before}, got {value}")
    require(
        0 <= config.queue_threshold <= 1,
        "queue_threshold",
        f"must be in [0, 1], got {config.queue_threshold}",
    )
    m = config.missing_inputs
    for name in ("neutral_engagement", "neutral_customisation", "neutral_age"):
        value = getattr(m, name)
        require(0 <= value <= 1, f"missing_inputs.{name}", f"must be in [0, 1], got {value}")
    require(
        m.assumed_age_days >= 0, "missing_inputs.assumed_age_days", f"must be >= 0, got {m.assumed_age_days}"
    )
