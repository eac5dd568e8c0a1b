"""The labeling settings file: which audiences are active and how the queue is worked."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from scout_contract.config_file import ConfigFileError, ConfigModel, PositiveInteger, Text, load_config_file
from scout_contract.paths import CONFIG_DIR

LABELING_FILE = CONFIG_DIR / "labeling.yaml"


class LabelingSettingsError(ConfigFileError):
    """A labeling settings file that cannot be used; names the file and the field."""


class LabelingSettings(ConfigModel):
    """What the labeling asset and sensors read from ``labeling.yaml`` (docs/labeling.md).

    There is no HAS setting here: the queue is exactly the accounts ``has_scores`` marked
    ``is_queued`` (has.yaml's ``queue_threshold``).
    """

    audiences: tuple[Text, ...] = Field(min_length=1, description="Active audience keys (name.version).")
    max_batches_per_run: PositiveInteger
    max_failures: PositiveInteger


def load_labeling_settings(path: Path = LABELING_FILE) -> LabelingSettings:
    """Read and check ``path``; read on every use, so an edit applies without a code reload."""
    return load_config_file(path, LabelingSettings, "labeling settings", error=LabelingSettingsError)
