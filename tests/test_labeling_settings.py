"""The labeling settings file: the checked-in one loads; broken ones name the file and field."""

from __future__ import annotations

import pytest

from scout_assets.labeling.settings import LabelingSettingsError, load_labeling_settings
from scout_contract.audience import load_audiences


def test_checked_in_settings_name_existing_audiences():
    settings = load_labeling_settings()
    assert set(settings.audiences) <= set(load_audiences())
    assert settings.max_failures >= 1 and 0 <= settings.min_has <= 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("audiences: [a.v1]\nmax_batches_per_run: 0\nmax_failures: 3\nmin_has: 0.5\n", "'max_batches_per_run' must be"),
        ("audiences: []\nmax_batches_per_run: 1\nmax_failures: 3\nmin_has: 0.5\n", "'audiences' must be"),
        ("audiences: [a.v1]\nmax_batches_per_run: 1\nmax_failures: 3\nmin_has: 2\n", "'min_has' must be"),
        ("- just\n- a list\n", "expected a mapping"),
        ("audiences: [\n", "cannot be read as YAML"),
    ],
)
def test_broken_settings_name_file_and_field(tmp_path, text, problem):
    path = tmp_path / "labeling.yaml"
    path.write_text(text)
    with pytest.raises(LabelingSettingsError) as err:
        load_labeling_settings(path)
    assert str(path) in str(err.value) and problem in str(err.value)
