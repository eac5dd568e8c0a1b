"""The labeling settings file: which audiences are active and how the queue is worked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scout_contract.paths import CONFIG_DIR, read_yaml_mapping

LABELING_FILE = CONFIG_DIR / "labeling.yaml"


class LabelingSettingsError(ValueError):
    """A labeling settings file that cannot be used; names the file and the field."""


@dataclass(frozen=True)
class LabelingSettings:
    """What the labeling asset and sensors read from ``labeling.yaml`` (docs/labeling.md)."""

    audiences: tuple[str, ...]
    max_batches_per_run: int
    max_failures: int
    min_has: float


def load_labeling_settings(path: Path = LABELING_FILE) -> LabelingSettings:
    """Read and check ``path``; read on every use, so an edit applies without a code reload."""
    data = read_yaml_mapping(path, "labeling settings", LabelingSettingsError)

    def field(name: str, kind: type | tuple[type, ...], check: Callable[[Any], bool], problem: str) -> Any:
        value = data.get(name)
        if not isinstance(value, kind) or isinstance(value, bool) or not check(value):
            raise LabelingSettingsError(f"labeling settings {path}: field {name!r} {problem}, got {value!r}")
        return value

    audiences = field(
        "audiences",
        list,
        lambda v: v and all(isinstance(a, str) and a for a in v),
        "must be a non-empty list of audience keys",
    )
    return LabelingSettings(
        audiences=tuple(audiences),
        max_batches_per_run=field("max_batches_per_run", int, lambda v: v >= 1, "must be an integer >= 1"),
        max_failures=field("max_failures", int, lambda v: v >= 1, "must be an integer >= 1"),
        min_has=float(field("min_has", (int, float), lambda v: 0 <= v <= 1, "must be a number in [0, 1]")),
    )
