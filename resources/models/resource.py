"""One Dagster resource per labeling model (an alias of ``scout_assets/config/models.yaml``).

The resource is a thin, lazy handle: it resolves the registry entry and builds the labeler
only when a run actually labels with it, so a run that uses one model does not load the
MiniLM weights or import litellm for the others. Keys come from the environment and are
bound with ``EnvVar``; the resource never shows them (``repr=False``).
"""

from __future__ import annotations

import dataclasses
import re
from functools import cached_property

import dagster as dg
from pydantic import Field, PrivateAttr

from resources.models.registry import ModelSpec, load_model_registry
from scout_contract.labels import Labeler


def model_resource_key(alias: str) -> str:
    """Dagster resource keys are identifiers: ``claude-haiku-4.5`` → ``model_claude_haiku_4_5``."""
    return "model_" + re.sub(r"\W", "_", alias)


class LabelModel(dg.ConfigurableResource):
    """A labeling model by alias; ``labeler()`` gives the object that labels batches."""

    alias: str = Field(description="Alias in config/models.yaml.")
    api_key: str | None = Field(default=None, repr=False, description="Provider key (bind with EnvVar).")
    api_base: str | None = Field(
        default=None, description="Override endpoint (OpenAI-compatible gateway, tests)."
    )
    litellm_model: str | None = Field(
        default=None, description="Override the litellm model id, e.g. 'openai/<name>' behind a gateway."
    )
    timeout_s: float | None = Field(default=None, description="Override the model's request timeout.")
    max_attempts: int = Field(
        default=3,
        ge=1,
        description="Attempts per batch, first try included (the labeler is the one retry layer).",
    )
    retry_after_max_s: float = Field(
        default=60.0, ge=0, description="Ceiling of a wait the provider asks for (Retry-After)."
    )

    _labeler: Labeler | None = PrivateAttr(default=None)

    @cached_property
    def spec(self) -> ModelSpec:
        spec = load_model_registry()[self.alias]
        overrides = {
            k: v for k, v in (("api_base", self.api_base), ("litellm_model", self.litellm_model)) if v
        }
        return dataclasses.replace(spec, **overrides) if overrides else spec

    @property
    def available(self) -> bool:
        """A model can run when it is local, needs no key, or has its key."""
        spec = self.spec
        return spec.is_local or spec.api_key_env is None or bool(self.api_key)

    def labeler(self) -> Labeler:
        if self._labeler is None:
            spec = self.spec
            if spec.is_local:
                from resources.models.local_minilm import LocalMiniLMLabeler

                self._labeler = LocalMiniLMLabeler()
            else:
                from resources.models.litellm_labeler import MODEL_RETRY, LiteLLMLabeler

                retry = dataclasses.replace(
                    MODEL_RETRY, max_attempts=self.max_attempts, retry_after_max_s=self.retry_after_max_s
                )
                self._labeler = LiteLLMLabeler(
                    spec, timeout_s=self.timeout_s, api_key=self.api_key, retry=retry
                )
        return self._labeler
