"""Which models label in this cycle: the predecessor's independent probability draw, replayable.

Each registered model runs iff u < its probability (``registry.draw_models``). Models that
cannot run here (no key configured) are drawn too, so a seed replays identically wherever it
is used, but are reported as skipped. The seed and each u go into the run's tags, so any
labeling run can be traced back to its draw. The selected models come in the cascade's order
(``labeling.yaml``: the local labeler first, then the LLMs cheapest first), the order in which
they must run for the LLMs to find the profiles the local labeler deferred.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from resources.models.registry import ModelDraw, draw_models
from resources.models.roster import ModelRoster
from scout_assets.labeling.settings import load_labeling_settings


@dataclass(frozen=True)
class CycleDraw:
    """One cycle's draw, kept whole so the tick log and every run's tags can show how it went."""

    seed: int
    draws: tuple[ModelDraw, ...]
    available: frozenset[str]
    batch_sizes: dict[str, int]
    order: tuple[str, ...] = ()  # the cascade order; models not in it come last

    def batch_size(self, alias: str) -> int:
        """How many units one call of ``alias`` labels: a full batch is what makes a run worth it."""
        return self.batch_sizes[alias]

    @property
    def selected(self) -> list[str]:
        """The models that run this cycle, in the cascade's order."""
        chosen = [d.alias for d in self.draws if d.selected and d.alias in self.available]
        rank = {alias: i for i, alias in enumerate(self.order)}
        return sorted(chosen, key=lambda alias: rank.get(alias, len(rank)))

    def tags(self, alias: str) -> dict[str, str]:
        draw = next(d for d in self.draws if d.alias == alias)
        return {
            "scout/draw_seed": str(self.seed),
            "scout/draw_u": f"{draw.u:.6f}",
            "scout/draw_probability": str(draw.probability),
        }

    def describe(self) -> str:
        def state(d: ModelDraw) -> str:
            if d.alias not in self.available:
                return "no key"
            return "runs" if d.selected else "skipped"

        return ", ".join(f"{d.alias} u={d.u:.3f}<p={d.probability}:{state(d)}" for d in self.draws)


def draw_labeling_models(
    roster: ModelRoster, seed: int | None = None, order: Sequence[str] | None = None
) -> CycleDraw:
    """Draw this cycle's models over the whole registry; ``roster`` says which can run here,
    ``order`` how they run (default: ``labeling.yaml``'s cascade order)."""
    seed = int(time.time()) if seed is None else seed
    specs = roster.specs
    return CycleDraw(
        seed=seed,
        draws=tuple(draw_models(specs, seed)),
        available=frozenset(roster.available),
        batch_sizes={alias: spec.batch_size for alias, spec in specs.items()},
        order=tuple(load_labeling_settings().cascade.order if order is None else order),
    )
