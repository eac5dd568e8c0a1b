"""Which models label in this cycle: the predecessor's independent probability draw, once per cycle.

Time is cut into cycles of a fixed length (``sensors.settings.LABEL_CYCLE_S``, 15 minutes, as
the predecessor's orchestrator ran): cycle ``i`` is ``[i * length, (i + 1) * length)`` seconds of
Unix time. The cycle's seed is its start (Unix seconds), so every tick of one cycle, every process
and every restart sees the same draw, and the next cycle draws afresh. Each registered model runs
iff u < its probability (``registry.draw_models``). Models that cannot run here (no key
configured) are drawn too, so a seed replays identically wherever it is used, but are reported
as skipped. The seed, the cycle and each u go into the run's tags, so any labeling run can be
traced back to its draw. The selected models come in the cascade's order (``labeling.yaml``: the
local labeler first, then the LLMs cheapest first), the order in which they must run for the
LLMs to find the profiles the local labeler deferred.

What the draw bounds (docs/labeling.md "The cycle draw"): a paid model that is drawn labels at
most ONE batch (its ``batch_size``) in the cycle, in one run whose config says so
(:meth:`CycleDraw.run_config`), so its labels per cycle are at most ``batch_size`` and their
expectation is ``probability * batch_size``. The local labeler costs nothing: it is drawn like
every model (probability 1.0, so every cycle) but not held to one batch; it follows the queue
rules and ``max_batches_per_run``, so the LLMs always have its deferred profiles to work on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from resources.models.registry import ModelDraw, draw_models
from resources.models.roster import ModelRoster
from scout_assets.labeling.settings import load_labeling_settings

# What one run of a drawn paid model may do in a cycle: one batch.
BATCHES_PER_CYCLE = 1
# The op of the ``llm_labels`` asset (its key), whose ``LabelConfig`` takes ``max_batches``. Named
# here because the labeling package sits below the assets; tests/test_cycle_draw.py checks the
# run config against the real ``scout_label`` job.
LABEL_OP = "llm_labels"
# The tag naming the cycle a labeling run belongs to: one run per bounded model and cycle.
CYCLE_TAG = "scout/draw_cycle"


@dataclass(frozen=True)
class Cycle:
    """One labeling cycle: ``[start, start + length_s)``, numbered from the Unix epoch."""

    index: int
    length_s: int

    @classmethod
    def at(cls, moment: datetime, length_s: int) -> Cycle:
        """The cycle ``moment`` falls in (a naive ``moment`` is read as UTC)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return cls(index=int(moment.timestamp()) // length_s, length_s=length_s)

    @property
    def seed(self) -> int:
        """The draw's seed: the cycle's start in Unix seconds (so a seed says when its cycle began)."""
        return self.index * self.length_s

    @property
    def start(self) -> datetime:
        return datetime.fromtimestamp(self.seed, UTC)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.length_s)

    @property
    def label(self) -> str:
        """E.g. ``2026-03-10T12:00Z``: the cycle in run keys, tags and the tick log."""
        return self.start.strftime("%Y-%m-%dT%H:%MZ")


@dataclass(frozen=True)
class CycleDraw:
    """One cycle's draw, kept whole so the tick log and every run's tags can show how it went."""

    seed: int
    draws: tuple[ModelDraw, ...]
    available: frozenset[str]
    batch_sizes: dict[str, int]
    order: tuple[str, ...] = ()  # the cascade order; models not in it come last
    cycle: Cycle | None = None  # None only for a draw made from a bare seed
    free: frozenset[str] = frozenset()  # models that cost nothing (the local labeler): not batch-bound

    def batch_size(self, alias: str) -> int:
        """How many units one call of ``alias`` labels: a full batch is what makes a run worth it."""
        return self.batch_sizes[alias]

    @property
    def selected(self) -> list[str]:
        """The models that run this cycle, in the cascade's order."""
        chosen = [d.alias for d in self.draws if d.selected and d.alias in self.available]
        rank = {alias: i for i, alias in enumerate(self.order)}
        return sorted(chosen, key=lambda alias: rank.get(alias, len(rank)))

    def bounded(self, alias: str) -> bool:
        """Whether the draw holds ``alias`` to one batch per cycle (every model that costs money)."""
        return alias not in self.free

    def label_cap(self, alias: str) -> int | None:
        """The most labels ``alias`` may store in this cycle: its batch when drawn and bounded,
        0 when not drawn (or not available here), None when the draw does not bound it (free)."""
        if alias not in self.selected:
            return 0
        return self.batch_size(alias) * BATCHES_PER_CYCLE if self.bounded(alias) else None

    def run_config(self, alias: str) -> dict:
        """The labeling run's config: one batch for a bounded model, the asset's defaults otherwise."""
        if not self.bounded(alias):
            return {}
        return {"ops": {LABEL_OP: {"config": {"max_batches": BATCHES_PER_CYCLE}}}}

    def tags(self, alias: str) -> dict[str, str]:
        draw = next(d for d in self.draws if d.alias == alias)
        tags = {
            "scout/draw_seed": str(self.seed),
            "scout/draw_u": f"{draw.u:.6f}",
            "scout/draw_probability": str(draw.probability),
        }
        if self.cycle is not None:
            tags[CYCLE_TAG] = self.cycle.label
        return tags

    def describe(self) -> str:
        def state(d: ModelDraw) -> str:
            if d.alias not in self.available:
                return "no key"
            return "runs" if d.selected else "skipped"

        return ", ".join(f"{d.alias} u={d.u:.3f}<p={d.probability}:{state(d)}" for d in self.draws)


def draw_labeling_models(
    roster: ModelRoster,
    cycle: Cycle | None = None,
    order: Sequence[str] | None = None,
    seed: int | None = None,
) -> CycleDraw:
    """Draw ``cycle``'s models over the whole registry; ``roster`` says which can run here,
    ``order`` how they run (default: ``labeling.yaml``'s cascade order).

    The seed is the cycle's start; ``seed`` overrides it (``scout run --seed`` replays a draw).
    At least one of ``cycle`` and ``seed`` must be given: a draw always says which cycle or seed
    it is, never the time it happened to be computed at.
    """
    if seed is None:
        if cycle is None:
            raise ValueError("draw_labeling_models needs a cycle or a seed")
        seed = cycle.seed
    specs = roster.specs
    return CycleDraw(
        seed=seed,
        draws=tuple(draw_models(specs, seed)),
        available=frozenset(roster.available),
        batch_sizes={alias: spec.batch_size for alias, spec in specs.items()},
        order=tuple(load_labeling_settings().cascade.order if order is None else order),
        cycle=cycle,
        free=frozenset(alias for alias, spec in specs.items() if spec.is_local),
    )
