"""The labeling settings file: the checked-in one loads; broken ones name the file and field."""

from __future__ import annotations

import pytest

from scout_assets.labeling.settings import LabelingSettingsError, load_labeling_settings
from scout_contract.audience import load_audiences


def test_checked_in_settings_name_existing_audiences():
    settings = load_labeling_settings()
    assert set(settings.audiences) <= set(load_audiences())
    assert settings.max_failures >= 1 and settings.max_batches_per_run >= 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "audiences: [a.v1]\nmax_batches_per_run: 0\nmax_failures: 3\n",
            "'max_batches_per_run' must be >= 1",
        ),
        ("audiences: []\nmax_batches_per_run: 1\nmax_failures: 3\n", "'audiences' must not be empty"),
        (
            "audiences: [a.v1, '']\nmax_batches_per_run: 1\nmax_failures: 3\n",
            "'audiences.1' must not be empty",
        ),
        ("audiences: [a.v1]\nmax_batches_per_run: 1\n", "'max_failures' is missing"),
        # The old HAS re-filter is gone: the queue is exactly has_scores' is_queued rows.
        (
            "audiences: [a.v1]\nmax_batches_per_run: 1\nmax_failures: 3\nmin_has: 0.5\n",
            "'min_has' is not a known field",
        ),
        ("- just\n- a list\n", "must be a mapping"),
        ("audiences: [\n", "is not valid YAML"),
    ],
)
def test_broken_settings_name_file_and_field(tmp_path, text, problem):
    path = tmp_path / "labeling.yaml"
    path.write_text(text)
    with pytest.raises(LabelingSettingsError) as err:
        load_labeling_settings(path)
    assert str(path) in str(err.value) and problem in str(err.value)
