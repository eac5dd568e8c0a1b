"""The labeling cascade: the local labeler first, an LLM only where it is unsure, cheapest first.

``labeling.yaml``'s ``cascade.order`` lists every model: the local labeler, then the LLMs
cheapest first. Which queued units each model gets is one SQL condition in ``queue.py``; this
module says where a model sits in the cascade (:func:`route_of`), what an LLM costs per profile
(:func:`estimated_cost_per_profile`, which set the shipped order), which reviewed examples go
into an LLM's prompt (:func:`choose_examples`), and what the cascade did on a day
(:func:`cascade_day`, every run's metadata).

Only models that can run here (their key is set) take a place: when the cheapest LLM has no key,
the next one is "the first LLM". That is decided per deployment, the same way in the asset
(``LabelModel.available``) and in the label sensor (``ModelRoster.available``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from resources.models.prompt import PromptExample
from scout_assets.labeling.queue import QUEUED_FROM, Route
from scout_contract.labels import ProfileForLabel
from scout_contract.reviews import LATEST_REVIEWS_SQL

if TYPE_CHECKING:
    from resources.models.registry import ModelSpec
    from resources.warehouse import Warehouse

# What one profile costs an LLM, in tokens, for the price estimate that orders the cascade: the
# system prompt and the reviewed examples (~1,400 + ~400 tokens for thelai_customers.v3 with 6
# examples) are paid once per call and shared by the batch; a profile's row (~190 characters,
# measured on human_labels.jsonl) is ~50 tokens; its answer (handle, label, a reason of at most
# 15 words) ~35 tokens. Only the order depends on these, and for the shipped models it holds for
# any mix: each LLM is cheaper than the next on input and on output tokens alike.
CALL_INPUT_TOKENS = 1800
PROFILE_INPUT_TOKENS = 50
PROFILE_OUTPUT_TOKENS = 35

# The classes an example round-robin visits, in this order.
EXAMPLE_CLASSES: tuple[bool | None, ...] = (True, False, None)
_WORD_RE = re.compile(r"[^\W_]{3,}")


def route_of(model: str, order: Sequence[str], available: Collection[str]) -> Route:
    """Where ``model`` sits in the cascade ``order`` among the models that can run here.

    ``order[0]`` is the local labeler. An LLM's previous model is the nearest LLM before it in
    the order that is also ``available``; the first available LLM has none.
    """
    if model not in order:
        raise ValueError(f"model {model!r} is not in the cascade order {list(order)} (labeling.yaml)")
    local = order[0]
    if model == local:
        return Route(model=model, local=local)
    before = [alias for alias in order[1 : order.index(model)] if alias in available]
    return Route(model=model, local=local, previous=before[-1] if before else None)


def estimated_cost_per_profile(spec: ModelSpec) -> float:
    """USD one profile costs ``spec`` in a full batch (token figures above; 0 for the local model)."""
    input_tokens = CALL_INPUT_TOKENS / spec.batch_size + PROFILE_INPUT_TOKENS
    return spec.input_cost_per_token * input_tokens + spec.output_cost_per_token * PROFILE_OUTPUT_TOKENS


def cheapest_first(specs: Mapping[str, ModelSpec]) -> list[str]:
    """The cascade order the prices give: the local model(s), then the LLMs by estimated cost per profile."""
    local = [alias for alias, spec in specs.items() if spec.is_local]
    llms = sorted(
        (alias for alias, spec in specs.items() if not spec.is_local),
        key=lambda alias: (estimated_cost_per_profile(specs[alias]), alias),
    )
    return [*local, *llms]


# --- reviewed examples for the prompt ---------------------------------------------------------


@dataclass(frozen=True)
class ReviewedExample:
    """A person's latest review of one account, as a candidate prompt example."""

    review_id: str
    platform: str
    platform_id: str | None
    example: PromptExample
    words: frozenset[str] = field(compare=False)

    @property
    def handle_key(self) -> tuple[str, str]:
        return self.platform, self.example.profile.handle.casefold()


def review_examples(warehouse: Warehouse, audience_key: str) -> list[ReviewedExample]:
    """Every account's latest review for ``audience_key`` with a bio to show (candidates for the prompt)."""
    frame = warehouse.read(LATEST_REVIEWS_SQL, [audience_key])
    return [
        ReviewedExample(
            review_id=row["review_id"],
            platform=row["platform"],
            platform_id=row["platform_id"],
            example=PromptExample(
                profile=ProfileForLabel(
                    handle=row["handle"],
                    name=row["name"] or "",
                    bio=row["bio"],
                    category=row["category"],
                    followers=int(row["followers"] or 0),
                ),
                label=row["label"],
                reason=row["reason"] or "",
            ),
            words=frozenset(_WORD_RE.findall(f"{row['name'] or ''} {row['bio']}".casefold())),
        )
        for row in frame.iter_rows(named=True)
        if (row["bio"] or "").strip()
    ]


def choose_examples(
    candidates: Sequence[ReviewedExample], k: int, batch: Iterable[Mapping[str, Any]]
) -> list[PromptExample]:
    """Up to ``k`` examples for one batch, chosen for coverage, never a profile of the batch.

    Round-robin over the labels (true, false, null) so every verdict a person gave is shown;
    within a label, the candidate least like the examples already chosen (largest smallest
    Jaccard distance between the words of name and bio), ties broken by a digest of the review
    id. Deterministic: the same reviews and batch give the same examples in the same order.
    ``batch`` rows carry ``platform``, ``platform_id`` and ``handle`` (a review without a
    platform id is matched by handle).
    """
    rows = list(batch)
    ids = {(row["platform"], row["platform_id"]) for row in rows}
    handles = {(row["platform"], str(row["handle"]).casefold()) for row in rows}
    pools: dict[bool | None, list[ReviewedExample]] = {label: [] for label in EXAMPLE_CLASSES}
    for candidate in sorted(candidates, key=_stable_key):
        if (candidate.platform, candidate.platform_id) in ids or candidate.handle_key in handles:
            continue
        pools[candidate.example.label].append(candidate)
    chosen: list[ReviewedExample] = []
    while len(chosen) < k and any(pools.values()):
        for label in EXAMPLE_CLASSES:
            if len(chosen) >= k or not pools[label]:
                continue
            pick = max(pools[label], key=lambda c: _distance_to(c, chosen))  # first of equals: stable key
            pools[label].remove(pick)
            chosen.append(pick)
    return [c.example for c in chosen]


def _stable_key(candidate: ReviewedExample) -> str:
    return hashlib.sha256(candidate.review_id.encode()).hexdigest()


def _distance_to(candidate: ReviewedExample, chosen: Sequence[ReviewedExample]) -> float:
    """Smallest Jaccard distance from ``candidate`` to the examples chosen so far (1 when none)."""
    distances = [1.0]
    for other in chosen:
        union = candidate.words | other.words
        distances.append(1 - len(candidate.words & other.words) / len(union) if union else 0.0)
    return min(distances)


# --- what the cascade did on a day (every run's metadata) -------------------------------------

# Per audience ($1) and local labeler ($2): the day's ($3) queued units, how many the local
# labeler labeled and deferred, and how many went to an LLM (labeled, or attempted and failed).
_DAY_UNITS_SQL = f"""
select count(*) as queued,
  sum(case when exists (
        select 1 from llm_labels loc where loc.platform = q.platform and loc.platform_id = q.platform_id
          and loc.audience = $1 and loc.model = $2) then 1 else 0 end) as local_labeled,
  sum(case when exists (
        select 1 from llm_labels loc where loc.platform = q.platform and loc.platform_id = q.platform_id
          and loc.audience = $1 and loc.model = $2 and (loc.deferred is null or loc.deferred))
      then 1 else 0 end) as deferred,
  sum(case when exists (
        select 1 from llm_labels l where l.platform = q.platform and l.platform_id = q.platform_id
          and l.audience = $1 and l.model <> $2)
      or exists (
        select 1 from label_failures f where f.platform = q.platform and f.platform_id = q.platform_id
          and f.audience = $1 and f.model <> $2) then 1 else 0 end) as sent_to_llm
{QUEUED_FROM}
  and q.partition_date = $3
"""

# Per LLM that labeled on the day ($3), for an audience ($1): its labels and dollars that day,
# and how many of the day's queued units it has labeled (on any day).
_DAY_LLM_SQL = f"""
select s.model, s.labels, s.cost_usd, coalesce(c.of_queue, 0) as of_queue
from (
  select model, count(*) as labels, sum(cost_usd) as cost_usd
  from llm_labels where partition_date = $3 and audience = $1 and model <> $2
  group by model
) s
left join (
  select l.model, count(*) as of_queue
  from llm_labels l
  where l.audience = $1 and l.model <> $2
    and exists (select 1 {QUEUED_FROM} and q.partition_date = $3
                and q.platform = l.platform and q.platform_id = l.platform_id)
  group by l.model
) c on c.model = s.model
order by s.model
"""


@dataclass
class LLMDay:
    """One LLM on one day: its labels and spend, and the day's queued units it never labeled."""

    model: str
    labels: int = 0
    cost_usd: float = 0.0
    not_labeled: int = 0

    @property
    def mean_cost_per_profile(self) -> float:
        return self.cost_usd / self.labels if self.labels else 0.0

    @property
    def saved_usd(self) -> float:
        """Estimated: its mean cost per profile that day x the day's queued units it did not label."""
        return self.mean_cost_per_profile * self.not_labeled


@dataclass
class CascadeDay:
    """What the cascade did with one day's queue, over the active audiences (units = profile x audience)."""

    day: date
    queued: int = 0
    local_labeled: int = 0
    deferred: int = 0
    sent_to_llm: int = 0
    llms: dict[str, LLMDay] = field(default_factory=dict)

    @property
    def llm_share(self) -> float:
        return self.sent_to_llm / self.queued if self.queued else 0.0

    @property
    def deferred_share(self) -> float:
        return self.deferred / self.local_labeled if self.local_labeled else 0.0

    @property
    def spent_usd(self) -> float:
        return sum(m.cost_usd for m in self.llms.values())

    @property
    def saved_usd(self) -> float:
        return sum(m.saved_usd for m in self.llms.values())

    def savings_table(self) -> str:
        """How the saving was estimated, per LLM, in Markdown."""
        lines = [
            f"Estimate: for each LLM that labeled on {self.day}, its mean cost per profile that day × the "
            "day's queued units it did not label (what labeling every unit with it would have added).",
            "",
            "| LLM | labels on the day | spent | mean per profile | units not labeled | saved |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {m.model} | {m.labels} | ${m.cost_usd:.6f} | ${m.mean_cost_per_profile:.8f} | "
            f"{m.not_labeled} | ${m.saved_usd:.6f} |"
            for m in self.llms.values()
        ]
        if not self.llms:
            lines.append("| (no LLM labeled on this day) | 0 | $0 | – | – | $0 |")
        return "\n".join(lines)


def cascade_day(warehouse: Warehouse, day: date, audiences: Sequence[str], local: str) -> CascadeDay:
    """The day's cascade figures over ``audiences`` (``local``: the local labeler's alias)."""
    figures = CascadeDay(day=day)
    for audience in audiences:
        units = warehouse.read(_DAY_UNITS_SQL, [audience, local, day]).row(0, named=True)
        queued = int(units["queued"] or 0)
        figures.queued += queued
        figures.local_labeled += int(units["local_labeled"] or 0)
        figures.deferred += int(units["deferred"] or 0)
        figures.sent_to_llm += int(units["sent_to_llm"] or 0)
        for row in warehouse.read(_DAY_LLM_SQL, [audience, local, day]).iter_rows(named=True):
            llm = figures.llms.setdefault(row["model"], LLMDay(row["model"]))
            llm.labels += int(row["labels"])
            llm.cost_usd += float(row["cost_usd"] or 0.0)
            llm.not_labeled += max(0, queued - int(row["of_queue"]))
    return figures
