"""The model registry (``config/models.yaml``) and the per-cycle probabilistic model draw.

Each alias names one labeler: which litellm model id it calls (stored with every label), its
provider (also the concurrency pool), how likely it is to run in a cycle, its batch size, the
*name* of the environment variable holding its key (never the key), and its prices.

Prices: an explicit ``input_cost_per_token``/``output_cost_per_token`` in the file wins (for
negotiated or self-hosted prices); otherwise the price comes from litellm's own cost map (the
copy shipped with the pinned litellm, see ``litellm_import``); a model in neither is a config
error, so no run ever records a cost of 0 by accident. The local labeler costs 0.

The draw (REFERENCE §6.4): every cycle, each model independently runs iff u < probability with
u ~ U[0, 1). Each alias's u comes from its own generator seeded with ``"<seed>:<alias>"``, so a
run that records its seed can be replayed exactly, and adding or reordering models never
changes the draws of the others.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scout_contract.paths import CONFIG_DIR

MODELS_FILE = CONFIG_DIR / "models.yaml"
LOCAL_PROVIDER = "local"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_TOKENS = 4096

_ALLOWED_FIELDS = {
    "litellm_model",
    "provider",
    "probability",
    "batch_size",
    "api_key_env",
    "api_base",
    "input_cost_per_token",
    "output_cost_per_token",
    "timeout_s",
    "max_tokens",
}


class RegistryError(ValueError):
    """A models file that cannot be used; the message names the file, alias and field."""


@dataclass(frozen=True)
class ModelSpec:
    """One configured model alias and everything needed to call and price it."""

    alias: str
    litellm_model: str
    provider: str
    probability: float
    batch_size: int
    api_key_env: str | None = None
    api_base: str | None = None
    input_cost_per_token: float = 0.0
    output_cost_per_token: float = 0.0
    cost_source: str = "config"  # "config" | "litellm" | "local"
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_tokens: int = DEFAULT_MAX_TOKENS

    @property
    def is_local(self) -> bool:
        return self.provider == LOCAL_PROVIDER

    def cost_usd(self, input_tokens: int, output_tokens: int) -> float:
        """Price of one call from its token counts."""
        return input_tokens * self.input_cost_per_token + output_tokens * self.output_cost_per_token


@dataclass(frozen=True)
class ModelDraw:
    """One model's draw in one cycle: it runs iff ``u < probability``."""

    alias: str
    probability: float
    u: float
    selected: bool

    def as_metadata(self) -> dict[str, Any]:
        return {"alias": self.alias, "probability": self.probability, "u": self.u, "selected": self.selected}


class _Fields:
    """Typed access to one alias's mapping, with errors that name file, alias and field."""

    def __init__(self, path: Path, alias: str, data: dict[str, Any]) -> None:
        self.path, self.alias, self.data = path, alias, data

    def error(self, field: str, problem: str) -> RegistryError:
        return RegistryError(f"models file {self.path}: model {self.alias!r}: field {field!r} {problem}")

    def text(self, field: str, *, required: bool) -> str | None:
        value = self.data.get(field)
        if value is None:
            if required:
                raise self.error(field, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(field, f"must be a non-empty string, got {value!r}")
        return value.strip()

    def number(
        self, field: str, *, low: float, high: float = math.inf, default: float | None = None
    ) -> float:
        value = self.data.get(field, default)
        if value is None:
            raise self.error(field, "is required")
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            bounds = f"[{low}, {high}]" if high != math.inf else f">= {low}"
            raise self.error(field, f"must be a number {bounds}, got {value!r}")
        return float(value)

    def integer(self, field: str, *, low: int, default: int | None = None) -> int:
        value = self.data.get(field, default)
        if value is None:
            raise self.error(field, "is required")
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.error(field, f"must be an integer >= {low}, got {value!r}")
        return value


def litellm_prices(litellm_model: str) -> tuple[float, float] | None:
    """(input, output) USD per token from litellm's cost map, or None if the model is not in it."""
    from resources.models.litellm_import import import_litellm

    litellm = import_litellm()
    try:
        info = litellm.get_model_info(litellm_model)
    except Exception:  # litellm raises its own "not mapped" errors, varying by version
        return None
    prices = info.get("input_cost_per_token"), info.get("output_cost_per_token")
    if any(price is None for price in prices):
        return None
    return float(prices[0]), float(prices[1])


def _model_spec(path: Path, alias: str, data: Any) -> ModelSpec:
    if not isinstance(data, dict):
        raise RegistryError(f"models file {path}: model {alias!r} must be a mapping of fields")
    fields = _Fields(path, alias, data)
    unknown = sorted(set(data) - _ALLOWED_FIELDS)
    if unknown:
        raise fields.error(unknown[0], f"is unknown (allowed: {', '.join(sorted(_ALLOWED_FIELDS))})")
    provider = fields.text("provider", required=True)
    assert provider is not None
    local = provider == LOCAL_PROVIDER
    litellm_model = fields.text("litellm_model", required=not local) or f"{LOCAL_PROVIDER}/{alias}"
    if not local and litellm_model.split("/", 1)[0] != provider:
        raise fields.error(
            "litellm_model", f"must start with the provider prefix '{provider}/', got {litellm_model!r}"
        )
    api_base = fields.text("api_base", required=False)
    api_key_env = fields.text("api_key_env", required=not local and api_base is None)

    has_input, has_output = "input_cost_per_token" in data, "output_cost_per_token" in data
    if has_input != has_output:
        missing = "output_cost_per_token" if has_input else "input_cost_per_token"
        raise fields.error(missing, "is required when the other price is given")
    if has_input:
        prices = fields.number("input_cost_per_token", low=0), fields.number("output_cost_per_token", low=0)
        cost_source = "config"
    elif local:
        prices, cost_source = (0.0, 0.0), "local"
    else:
        found = litellm_prices(litellm_model)
        if found is None:
            raise fields.error(
                "input_cost_per_token",
                f"is required: {litellm_model!r} is not in litellm's cost map, so give "
                "input_cost_per_token and output_cost_per_token (USD per token)",
            )
        prices, cost_source = found, "litellm"

    return ModelSpec(
        alias=alias,
        litellm_model=litellm_model,
        provider=provider,
        probability=fields.number("probability", low=0.0, high=1.0),
        batch_size=fields.integer("batch_size", low=1),
        api_key_env=api_key_env,
        api_base=api_base,
        input_cost_per_token=prices[0],
        output_cost_per_token=prices[1],
        cost_source=cost_source,
        timeout_s=fields.number("timeout_s", low=0.001, default=DEFAULT_TIMEOUT_S),
        max_tokens=fields.integer("max_tokens", low=1, default=DEFAULT_MAX_TOKENS),
    )


def raw_model_entries(path: Path | str = MODELS_FILE) -> dict[str, Any]:
    """The ``models:`` mapping as written (alias -> raw fields), checked only for shape.

    Cheap: no price resolution, so no litellm import. Code-location load time uses it.
    """
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RegistryError(f"models file {path}: cannot be read ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        raise RegistryError(
            f"models file {path}: invalid YAML{where}: {getattr(exc, 'problem', exc)}"
        ) from exc
    if (
        not isinstance(document, dict)
        or not isinstance(document.get("models"), dict)
        or not document["models"]
    ):
        raise RegistryError(f"models file {path}: expected a top-level 'models:' mapping of alias -> fields")
    for alias in document["models"]:
        if not isinstance(alias, str) or not alias.strip():
            raise RegistryError(f"models file {path}: model alias {alias!r} must be a non-empty string")
    return document["models"]


def model_aliases(path: Path | str = MODELS_FILE) -> list[str]:
    """The configured aliases in file order, without resolving prices (cheap: no litellm import).

    Partition definitions need only the names, at code-location load time.
    """
    return list(raw_model_entries(path))


def load_model_registry(path: Path | str = MODELS_FILE) -> dict[str, ModelSpec]:
    """Every configured model, keyed by alias, in file order."""
    path = Path(path)
    return {alias: _model_spec(path, alias, data) for alias, data in raw_model_entries(path).items()}


def draw_models(registry: dict[str, ModelSpec], rng_seed: int) -> list[ModelDraw]:
    """This cycle's independent draw for every model; replayable from ``rng_seed`` alone."""
    draws = []
    for alias, spec in registry.items():
        u = random.Random(f"{rng_seed}:{alias}").random()
        draws.append(ModelDraw(alias=alias, probability=spec.probability, u=u, selected=u < spec.probability))
    return draws


def selected_aliases(draws: list[ModelDraw]) -> list[str]:
    """The aliases that run this cycle, in registry order."""
    return [draw.alias for draw in draws if draw.selected]
