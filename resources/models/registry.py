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

import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from scout_contract.config_file import (
    ConfigFileError,
    ConfigModel,
    NonNegative,
    Number,
    PositiveInteger,
    Share,
    Text,
    field_problem,
    load_config_file,
)
from scout_contract.paths import CONFIG_DIR

MODELS_FILE = CONFIG_DIR / "models.yaml"
LOCAL_PROVIDER = "local"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_TOKENS = 4096
_WHAT = "models file"


class RegistryError(ConfigFileError):
    """A models file that cannot be used; the message names the file and the field (``models.<alias>.<field>``)."""


class ModelEntry(ConfigModel):
    """One alias as written in ``models.yaml`` (the header of that file documents each field)."""

    provider: Text
    litellm_model: Text | None = None
    probability: Share
    batch_size: PositiveInteger
    api_key_env: Text | None = None
    api_base: Text | None = None
    input_cost_per_token: NonNegative | None = None
    output_cost_per_token: NonNegative | None = None
    timeout_s: Number = Field(default=DEFAULT_TIMEOUT_S, gt=0)
    max_tokens: PositiveInteger = DEFAULT_MAX_TOKENS

    @property
    def is_local(self) -> bool:
        return self.provider == LOCAL_PROVIDER

    @model_validator(mode="after")
    def _consistent(self) -> ModelEntry:
        if not self.is_local:
            if self.litellm_model is None:
                raise field_problem("litellm_model", "is missing")
            if self.litellm_model.split("/", 1)[0] != self.provider:
                raise field_problem(
                    "litellm_model",
                    f"must start with the provider prefix '{self.provider}/', got {self.litellm_model!r}",
                )
            if self.api_key_env is None and self.api_base is None:
                raise field_problem(
                    "api_key_env", "is required (the NAME of the key variable) unless api_base is set"
                )
        given = self.input_cost_per_token is not None, self.output_cost_per_token is not None
        if given[0] != given[1]:
            missing = "output_cost_per_token" if given[0] else "input_cost_per_token"
            raise field_problem(missing, "is required when the other price is given")
        return self


class ModelsFile(ConfigModel):
    """``models.yaml``: every alias Scout may run, in file order."""

    models: dict[Text, ModelEntry] = Field(min_length=1)


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


def _model_spec(path: Path, alias: str, entry: ModelEntry) -> ModelSpec:
    """The entry with its prices resolved: the file's, else litellm's cost map, else an error."""
    if entry.input_cost_per_token is not None and entry.output_cost_per_token is not None:
        prices, cost_source = (entry.input_cost_per_token, entry.output_cost_per_token), "config"
    elif entry.is_local:
        prices, cost_source = (0.0, 0.0), "local"
    else:
        assert entry.litellm_model is not None  # checked by ModelEntry
        found = litellm_prices(entry.litellm_model)
        if found is None:
            raise RegistryError(
                _WHAT,
                path,
                f"models.{alias}.input_cost_per_token",
                f"is required: {entry.litellm_model!r} is not in litellm's cost map, so give "
                "input_cost_per_token and output_cost_per_token (USD per token)",
            )
        prices, cost_source = found, "litellm"
    return ModelSpec(
        alias=alias,
        litellm_model=entry.litellm_model or f"{LOCAL_PROVIDER}/{alias}",
        provider=entry.provider,
        probability=entry.probability,
        batch_size=entry.batch_size,
        api_key_env=entry.api_key_env,
        api_base=entry.api_base,
        input_cost_per_token=prices[0],
        output_cost_per_token=prices[1],
        cost_source=cost_source,
        timeout_s=entry.timeout_s,
        max_tokens=entry.max_tokens,
    )


def load_models_file(path: Path | str = MODELS_FILE) -> ModelsFile:
    """``models.yaml`` checked, prices not resolved (cheap: no litellm import)."""
    return load_config_file(path, ModelsFile, _WHAT, error=RegistryError)


def model_aliases(path: Path | str = MODELS_FILE) -> list[str]:
    """The configured aliases in file order, without resolving prices (cheap: no litellm import).

    Partition definitions need only the names, at code-location load time.
    """
    return list(load_models_file(path).models)


def load_model_registry(path: Path | str = MODELS_FILE) -> dict[str, ModelSpec]:
    """Every configured model, keyed by alias, in file order."""
    path = Path(path)
    return {alias: _model_spec(path, alias, entry) for alias, entry in load_models_file(path).models.items()}


def draw_models(registry: Mapping[str, ModelSpec | ModelEntry], rng_seed: int) -> list[ModelDraw]:
    """This cycle's independent draw for every model; replayable from ``rng_seed`` alone."""
    draws = []
    for alias, spec in registry.items():
        u = random.Random(f"{rng_seed}:{alias}").random()
        draws.append(ModelDraw(alias=alias, probability=spec.probability, u=u, selected=u < spec.probability))
    return draws
