"""The keyword engine's feedback rules, loaded from ``config/keyword_rules.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scout_contract.paths import CONFIG_DIR, read_yaml_mapping

RULES_FILE = CONFIG_DIR / "keyword_rules.yaml"


class KeywordRulesError(ValueError):
    """A rules file that cannot be used; names the file and the dotted key."""


@dataclass(frozen=True)
class KeywordRules:
    window_days: int
    min_pages: int
    min_new_per_page: float
    min_labels: int
    min_true_rate: float
    true_label_weight: float
    api_cost_per_call_usd: dict[str, float]

    def api_cost(self, platform: str) -> float:
        return self.api_cost_per_call_usd.get(platform, 0.0)


def load_keyword_rules(path: Path = RULES_FILE) -> KeywordRules:
    data = read_yaml_mapping(path, "keyword rules", KeywordRulesError)

    def get(dotted: str, kind: type | tuple[type, ...], low: float, high: float | None = None) -> Any:
        value: Any = data
        for part in dotted.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        ok = (
            isinstance(value, kind)
            and not isinstance(value, bool)
            and value >= low
            and (high is None or value <= high)
        )
        if not ok:
            bound = f"[{low}, {high}]" if high is not None else f">= {low}"
            raise KeywordRulesError(f"keyword rules {path}: {dotted} must be a number {bound}, got {value!r}")
        return value

    numbers = {  # checked in file order, so the first bad key is the one reported
        "window_days": get("window_days", int, 1),
        "min_pages": get("exhaustion.min_pages", int, 1),
        "min_new_per_page": float(get("exhaustion.min_new_per_page", (int, float), 0)),
        "min_labels": get("validity.min_labels", int, 1),
        "min_true_rate": float(get("validity.min_true_rate", (int, float), 0, 1)),
        "true_label_weight": float(get("selection.true_label_weight", (int, float), 0)),
    }
    costs = data.get("api_cost_per_call_usd")
    if not isinstance(costs, dict):
        raise KeywordRulesError(
            f"keyword rules {path}: api_cost_per_call_usd must map platform -> USD per call"
        )
    prices = {str(k): float(get(f"api_cost_per_call_usd.{k}", (int, float), 0)) for k in costs}
    return KeywordRules(**numbers, api_cost_per_call_usd=prices)
