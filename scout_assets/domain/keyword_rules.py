"""The keyword engine's feedback rules, loaded from ``config/keyword_rules.yaml`` (docs/keywords.md).

The model mirrors the file's sections; the flat properties (``min_pages``, ``min_true_rate`` ...)
are what the rules in ``keyword_stats.py`` read.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from scout_contract.config_file import (
    ConfigFileError,
    ConfigModel,
    NonNegative,
    PositiveInteger,
    Share,
    Text,
    load_config_file,
)
from scout_contract.paths import CONFIG_DIR

RULES_FILE = CONFIG_DIR / "keyword_rules.yaml"


class KeywordRulesError(ConfigFileError):
    """A rules file that cannot be used; names the file and the dotted field."""


class Exhaustion(ConfigModel):
    """When a keyword's pages stop yielding new profiles."""

    min_pages: PositiveInteger
    min_new_per_page: NonNegative


class Validity(ConfigModel):
    """When a keyword's profiles are too rarely labeled true."""

    min_labels: PositiveInteger
    min_true_rate: Share


class Selection(ConfigModel):
    """How the next searches rank keywords."""

    true_label_weight: NonNegative


class KeywordRules(ConfigModel):
    """Everything in ``keyword_rules.yaml``."""

    window_days: PositiveInteger
    exhaustion: Exhaustion
    validity: Validity
    selection: Selection
    api_cost_per_call_usd: dict[Text, NonNegative] = Field(description="USD per API call, by platform.")

    @property
    def min_pages(self) -> int:
        return self.exhaustion.min_pages

    @property
    def min_new_per_page(self) -> float:
        return self.exhaustion.min_new_per_page

    @property
    def min_labels(self) -> int:
        return self.validity.min_labels

    @property
    def min_true_rate(self) -> float:
        return self.validity.min_true_rate

    @property
    def true_label_weight(self) -> float:
        return self.selection.true_label_weight

    def api_cost(self, platform: str) -> float:
        return self.api_cost_per_call_usd.get(platform, 0.0)


def load_keyword_rules(path: Path = RULES_FILE) -> KeywordRules:
    """Read and check the rules file; the error names the file and the field."""
    return load_config_file(path, KeywordRules, "keyword rules", error=KeywordRulesError)
