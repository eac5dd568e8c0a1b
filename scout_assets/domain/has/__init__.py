"""Human Authenticity Score (HAS): a cheap, numbers-only guess that an account is one real person.

``score_profiles`` scores a polars frame of normalized profiles (the production path);
``score_one`` is the row-by-row oracle used by tests and the benchmark; ``queued`` is the rule of
the LLM queue; ``load_has_config`` reads ``scout_assets/config/has.yaml`` (``has_config`` caches
the checked-in file). docs/has.md explains the formula, versioning and missing inputs.
"""

from scout_assets.domain.has.columns import HAS_INPUTS, LIKELY_IS, OUTPUT_COLUMNS
from scout_assets.domain.has.config import (
    DEFAULT_CONFIG_PATH,
    HasConfig,
    HasConfigError,
    has_config,
    load_has_config,
)
from scout_assets.domain.has.reference import score_one
from scout_assets.domain.has.score import queued, score_profiles

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "HAS_INPUTS",
    "LIKELY_IS",
    "OUTPUT_COLUMNS",
    "HasConfig",
    "HasConfigError",
    "has_config",
    "load_has_config",
    "queued",
    "score_one",
    "score_profiles",
]
