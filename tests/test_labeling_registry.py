"""The model registry (prices, validation errors) and the reproducible per-cycle model draw."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from resources.models.litellm_import import import_litellm
from resources.models.registry import (
    MODELS_FILE,
    ModelDraw,
    ModelSpec,
    RegistryError,
    draw_models,
    litellm_prices,
    load_model_registry,
    model_aliases,
)

REGISTRY = load_model_registry()


def selected(draws: list[ModelDraw]) -> list[str]:
    return [draw.alias for draw in draws if draw.selected]


def _write(tmp_path: Path, models: dict) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump({"models": models}), encoding="utf-8")
    return path


OPENAI_COMPAT = {
    "litellm_model": "openai/my-model",
    "provider": "openai",
    "probability": 0.5,
    "batch_size": 10,
    "api_base": "http://127.0.0.1:9/v1",
    "input_cost_per_token": 1e-6,
    "output_cost_per_token": 3e-6,
}


def test_checked_in_registry_has_the_predecessor_schedule_and_local_minilm() -> None:
    schedule = {alias: (spec.probability, spec.batch_size) for alias, spec in REGISTRY.items()}
    assert schedule == {
        "claude-haiku-4.5": (0.7, 25),
        "gemini-flash-2.0": (0.4, 15),
        "meta-maverick-17b": (0.8, 25),
        "claude-sonnet-4.5": (0.3, 15),
        "local-minilm": (1.0, 32),
    }
    assert REGISTRY["claude-haiku-4.5"].litellm_model == "anthropic/claude-haiku-4-5-20251001"
    assert REGISTRY["gemini-flash-2.0"].litellm_model == "gemini/gemini-2.0-flash"
    assert REGISTRY["meta-maverick-17b"].litellm_model == "groq/meta-llama/llama-4-maverick-17b-128e-instruct"
    local = REGISTRY["local-minilm"]
    assert local.is_local and local.api_key_env is None and local.cost_usd(10_000, 10_000) == 0.0
    assert all(spec.api_key_env for spec in REGISTRY.values() if not spec.is_local)


def test_prices_come_from_litellm_cost_map_when_the_model_is_in_it() -> None:
    cost_map = import_litellm().model_cost["claude-haiku-4-5-20251001"]
    haiku = REGISTRY["claude-haiku-4.5"]
    assert haiku.cost_source == "litellm"
    assert (haiku.input_cost_per_token, haiku.output_cost_per_token) == (
        cost_map["input_cost_per_token"],
        cost_map["output_cost_per_token"],
    )
    # Models absent from the bundled map carry their price in the file.
    assert REGISTRY["gemini-flash-2.0"].cost_source == "config"
    assert litellm_prices("gemini/gemini-2.0-flash") is None


def test_explicit_price_in_the_file_wins_over_the_cost_map(tmp_path: Path) -> None:
    entry = {
        "litellm_model": "anthropic/claude-haiku-4-5-20251001",
        "provider": "anthropic",
        "probability": 1,
        "batch_size": 5,
        "api_key_env": "ANTHROPIC_API_KEY",
        "input_cost_per_token": 5e-7,
        "output_cost_per_token": 2.5e-6,
    }
    spec = load_model_registry(_write(tmp_path, {"haiku-negotiated": entry}))["haiku-negotiated"]
    assert (spec.input_cost_per_token, spec.output_cost_per_token, spec.cost_source) == (
        5e-7,
        2.5e-6,
        "config",
    )


def test_cost_is_tokens_times_price() -> None:
    haiku = REGISTRY["claude-haiku-4.5"]
    assert haiku.cost_usd(1_000, 200) == pytest.approx(
        1_000 * haiku.input_cost_per_token + 200 * haiku.output_cost_per_token
    )
    assert haiku.cost_usd(0, 0) == 0.0
    assert REGISTRY["meta-maverick-17b"].cost_usd(1_000_000, 1_000_000) == pytest.approx(0.2 + 0.6)


def test_openai_compatible_endpoint_needs_no_key_variable(tmp_path: Path) -> None:
    spec = load_model_registry(_write(tmp_path, {"selfhosted": OPENAI_COMPAT}))["selfhosted"]
    assert (spec.api_base, spec.api_key_env, spec.timeout_s, spec.max_tokens) == (
        "http://127.0.0.1:9/v1",
        None,
        60.0,
        4096,
    )


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"probability": 1.5}, "probability", r"must be <= 1, got float 1.5"),
        ({"probability": "high"}, "probability", "must be a number, got str 'high'"),
        ({"batch_size": 0}, "batch_size", "must be >= 1"),
        ({"batch_size": True}, "batch_size", "must be an integer, got bool"),
        ({"batch_size": 2.5}, "batch_size", "must be an integer, got float"),
        ({"provider": None}, "provider", "is missing"),
        ({"provider": "  "}, "provider", "must not be empty"),
        ({"litellm_model": "anthropic/x"}, "litellm_model", "must start with the provider prefix 'openai/'"),
        ({"api_base": None}, "api_key_env", "is required"),
        (
            {"output_cost_per_token": None},
            "output_cost_per_token",
            "is required when the other price is given",
        ),
        ({"input_cost_per_token": -1}, "input_cost_per_token", "must be >= 0"),
        ({"temperature": 0.1}, "temperature", "is not a known field"),
        ({"timeout_s": 0}, "timeout_s", "must be > 0"),
    ],
)
def test_bad_fields_name_file_alias_and_field(tmp_path: Path, change: dict, field: str, problem: str) -> None:
    entry = {k: v for k, v in {**OPENAI_COMPAT, **change}.items() if v is not None}
    path = _write(tmp_path, {"selfhosted": entry})
    with pytest.raises(RegistryError, match=rf"field 'models\.selfhosted\.{field}' {problem}") as caught:
        load_model_registry(path)
    assert str(path) in str(caught.value)


def test_model_missing_from_cost_map_without_prices_is_an_error(tmp_path: Path) -> None:
    entry = {k: v for k, v in OPENAI_COMPAT.items() if "cost" not in k}
    path = _write(tmp_path, {"selfhosted": entry})
    with pytest.raises(RegistryError, match=r"'openai/my-model' is not in litellm's cost map") as caught:
        load_model_registry(path)
    assert str(path) in str(caught.value) and caught.value.field == "models.selfhosted.input_cost_per_token"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("models:\n  a: [1, 2\n", r"is not valid YAML at line \d+, column \d+"),
        ("other: {}\n", "field 'models' is missing"),
        ("models: {}\n", "field 'models' must not be empty"),
        ("models:\n  a: 3\n", "field 'models.a' must be a mapping, got int 3"),
    ],
)
def test_malformed_files_are_reported_with_the_file(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RegistryError, match=match) as caught:
        load_model_registry(path)
    assert str(path) in str(caught.value)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="cannot be read"):
        load_model_registry(tmp_path / "absent.yaml")
    assert MODELS_FILE.exists()


def test_aliases_come_in_file_order_without_resolving_prices(tmp_path: Path) -> None:
    # No price anywhere and not in litellm's map: fine for the names, an error for the registry.
    entry = {k: v for k, v in OPENAI_COMPAT.items() if "cost" not in k}
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump({"models": {"b-model": entry, "a-model": entry}}, sort_keys=False))
    assert model_aliases(path) == ["b-model", "a-model"]
    assert model_aliases() == list(REGISTRY)


def test_draw_replays_from_its_seed_and_records_u() -> None:
    first, again = draw_models(REGISTRY, 20260301), draw_models(REGISTRY, 20260301)
    assert first == again
    assert [d.alias for d in first] == list(REGISTRY)
    for draw in first:
        assert 0.0 <= draw.u < 1.0
        assert draw.selected == (draw.u < REGISTRY[draw.alias].probability)
        assert draw.as_metadata() == {
            "alias": draw.alias,
            "probability": draw.probability,
            "u": draw.u,
            "selected": draw.selected,
        }
    assert "local-minilm" in selected(first)  # p = 1.0 always runs
    assert draw_models(REGISTRY, 1) != draw_models(REGISTRY, 2)


def test_adding_a_model_leaves_the_other_draws_unchanged() -> None:
    extra = ModelSpec(
        alias="zz-new", litellm_model="openai/x", provider="openai", probability=0.5, batch_size=1
    )
    before = {d.alias: d.u for d in draw_models(REGISTRY, 77)}
    after = {d.alias: d.u for d in draw_models({"zz-new": extra, **REGISTRY}, 77)}
    assert {alias: after[alias] for alias in before} == before


def test_selection_rates_match_probabilities_over_many_seeds() -> None:
    # 4,000 fixed seeds: binomial sd <= 0.008, so +-0.03 is a ~4 sd margin; the seeds are fixed,
    # so the outcome is deterministic, not flaky.
    registry = {**REGISTRY, "never": replace(REGISTRY["claude-haiku-4.5"], alias="never", probability=0.0)}
    seeds = range(4_000)
    counts = dict.fromkeys(registry, 0)
    for seed in seeds:
        for alias in selected(draw_models(registry, seed)):
            counts[alias] += 1
    for alias, spec in registry.items():
        assert counts[alias] / len(seeds) == pytest.approx(spec.probability, abs=0.03), alias
    assert counts["never"] == 0 and counts["local-minilm"] == len(seeds)
    # Independence: both haiku (0.7) and maverick (0.8) run in about 0.56 of cycles.
    both = sum(
        {"claude-haiku-4.5", "meta-maverick-17b"} <= set(selected(draw_models(registry, seed)))
        for seed in seeds
    )
    assert both / len(seeds) == pytest.approx(0.7 * 0.8, abs=0.03)
