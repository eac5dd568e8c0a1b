"""The labeling settings file: the checked-in one loads; broken ones name the file and field."""

from __future__ import annotations

import itertools

import pytest

from resources.models.registry import load_model_registry, load_models_file
from scout_assets.labeling.cascade import cheapest_first
from scout_assets.labeling.settings import LabelingSettingsError, load_labeling_settings
from scout_contract.audience import load_audiences

ORDER = list(load_models_file().models)
# A valid cascade section for the registry as checked in (its order is not the point here).
CASCADE = (
    "cascade:\n  order: ["
    + ", ".join(["local-minilm", *(a for a in ORDER if a != "local-minilm")])
    + "]\n  defer_threshold: 0.6\n"
)


def test_checked_in_settings_name_existing_audiences():
    settings = load_labeling_settings()
    assert set(settings.audiences) <= set(load_audiences())
    assert settings.max_failures >= 1 and settings.max_batches_per_run >= 1
    assert 0 < settings.cascade.defer_threshold <= 1 and settings.cascade.prompt_examples >= 1


def test_the_shipped_cascade_is_local_first_then_cheapest_first():
    """The order in labeling.yaml is the one the registry's resolved prices give (models.yaml's own
    prices, else litellm's cost map): if a price changes, this says the order must change too."""
    registry = load_model_registry()
    order = list(load_labeling_settings().cascade.order)
    assert order == cheapest_first(registry)
    assert order[0] == "local-minilm" and registry[order[0]].is_local
    # Each LLM costs no more than the next per input and per output token alike, so the order holds
    # for any token mix, not only for the estimate's.
    llms = [registry[a] for a in order[1:]]
    for cheaper, dearer in itertools.pairwise(llms):
        assert cheaper.input_cost_per_token <= dearer.input_cost_per_token, (cheaper.alias, dearer.alias)
        assert cheaper.output_cost_per_token <= dearer.output_cost_per_token, (cheaper.alias, dearer.alias)


def test_prompt_examples_default_to_six(tmp_path):
    path = tmp_path / "labeling.yaml"
    path.write_text("audiences: [a.v1]\nmax_batches_per_run: 1\nmax_failures: 3\n" + CASCADE)
    assert load_labeling_settings(path).cascade.prompt_examples == 6


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "audiences: [a.v1]\nmax_batches_per_run: 0\nmax_failures: 3\n" + CASCADE,
            "'max_batches_per_run' must be >= 1",
        ),
        (
            "audiences: []\nmax_batches_per_run: 1\nmax_failures: 3\n" + CASCADE,
            "'audiences' must not be empty",
        ),
        (
            "audiences: [a.v1, '']\nmax_batches_per_run: 1\nmax_failures: 3\n" + CASCADE,
            "'audiences.1' must not be empty",
        ),
        ("audiences: [a.v1]\nmax_batches_per_run: 1\n" + CASCADE, "'max_failures' is missing"),
        # The old HAS re-filter is gone: the queue is exactly has_scores' is_queued rows.
        (
            "audiences: [a.v1]\nmax_batches_per_run: 1\nmax_failures: 3\nmin_has: 0.5\n" + CASCADE,
            "'min_has' is not a known field",
        ),
        ("audiences: [a.v1]\nmax_batches_per_run: 1\nmax_failures: 3\n", "'cascade' is missing"),
        (
            "audiences: [a.v1]\nmax_batches_per_run: 1\nmax_failures: 3\n"
            + CASCADE.replace("defer_threshold: 0.6", "defer_threshold: 1.5"),
            "'cascade.defer_threshold' must be <= 1",
        ),
        (
            "audiences: [a.v1]\nmax_batches_per_run: 1\nmax_failures: 3\n"
            + CASCADE
            + "  prompt_examples: -1\n",
            "'cascade.prompt_examples' must be >= 0",
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


@pytest.mark.parametrize(
    ("order", "problem"),
    [
        (ORDER[:-1] if ORDER[-1] != "local-minilm" else ORDER[1:], "must name every model"),
        (["local-minilm", *(a for a in ORDER if a != "local-minilm"), "gpt-9"], "does not define: ['gpt-9']"),
        (["local-minilm", *ORDER], "more than once: ['local-minilm']"),
        ([*(a for a in ORDER if a != "local-minilm"), "local-minilm"], "must start with the local labeler"),
    ],
)
def test_a_cascade_order_that_does_not_match_models_yaml_is_refused(tmp_path, order, problem):
    """Every model of models.yaml once, local first: a model left out would never label anything."""
    path = tmp_path / "labeling.yaml"
    path.write_text(
        "audiences: [a.v1]\nmax_batches_per_run: 1\nmax_failures: 3\n"
        f"cascade:\n  order: [{', '.join(order)}]\n  defer_threshold: 0.6\n"
    )
    with pytest.raises(LabelingSettingsError) as err:
        load_labeling_settings(path)
    assert f"{path}: field 'cascade.order'" in str(err.value) and problem in str(err.value)
