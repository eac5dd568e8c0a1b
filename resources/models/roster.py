"""``ModelRoster``: which registered models can label in this deployment.

Sensors and the ``scout run`` command need to know which models may be drawn and how large
their batches are, but never call a model. The binding builds the roster once from the
registry and the environment (a model is available when it is local, needs no key, or its key
variable is set) and hands it over as a resource, so no tick rebuilds model handles. It holds
no secret: only aliases.
"""

from __future__ import annotations

from functools import cached_property

import dagster as dg
from pydantic import Field

from resources.models.registry import ModelEntry, load_models_file


class ModelRoster(dg.ConfigurableResource):
    """The aliases of config/models.yaml that can run here, in registry order."""

    available: list[str] = Field(description="Aliases that can label in this deployment.")

    @cached_property
    def specs(self) -> dict[str, ModelEntry]:
        """Every registered model (available or not): the draw replays the same over all of them.

        The entries as configured, prices unresolved: a draw needs probabilities and batch sizes,
        and resolving prices would import litellm on every load and tick.
        """
        return load_models_file().models

    def batch_size(self, alias: str) -> int:
        return self.specs[alias].batch_size
