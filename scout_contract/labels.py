"""The small vocabulary every labeler speaks: what goes in, what comes out.

Every model, whether a litellm provider or the local MiniLM labeler, implements
``Labeler.label(batch, audience) -> LabelBatchResult``; the asset and the ``scout label``
command only ever see this interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the audience loader imports nothing from here, but keep the edge one-way
    from scout_contract.audience import Audience

LABEL_FIELDS = ("handle", "name", "bio", "category", "followers")


@dataclass(frozen=True)
class ProfileForLabel:
    """Exactly the five fields the predecessor sent to a model (REFERENCE §6.2)."""

    handle: str
    name: str
    bio: str
    category: str | None
    followers: int


@dataclass(frozen=True)
class Label:
    """One trivalent verdict: True matches, False does not, None is uncertain.

    ``p_true`` and ``defer`` come from the local labeler only: its calibrated probability that
    the profile is ``true`` and whether it is unsure enough to hand the profile to an LLM.
    """

    handle: str
    label: bool | None
    reason: str
    p_true: float | None = None
    defer: bool | None = None


@dataclass(frozen=True)
class LabelFailure:
    """A profile of the batch the model did not label validly, and why."""

    handle: str
    error: str


@dataclass(frozen=True)
class CallAttempt:
    """One attempt to call a paid model for a batch, whatever came of it: a row of ``model_calls``.

    Every attempt is costed (docs/operations.md, "Budgets and the cost ledger"): from the tokens
    the provider reported (``cost_basis`` "usage"), or, when it reported none (an error, a
    timeout), from the prompt's tokens counted locally and the model's prices ("estimate").
    ``outcome``: labeled | partial | invalid | failed; ``error_kind``: rate_limited | transient |
    timeout | provider_error | invalid_output (None when every profile got a valid label).
    """

    attempt: int
    outcome: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    cost_basis: str
    latency_ms: float
    called_at: datetime
    labels: int = 0
    failures: int = 0
    error_kind: str | None = None
    error: str | None = None


@dataclass
class LabelBatchResult:
    """What one call of a model produced: valid labels, failures, and its cost.

    ``input_tokens``/``output_tokens``/``cost_usd`` are the answering call's; ``attempts`` holds
    every attempt of the batch (retries and failures included) for the cost ledger; a local
    labeler makes no paid call and leaves it empty.
    """

    labels: list[Label] = field(default_factory=list)
    failures: list[LabelFailure] = field(default_factory=list)
    model: str = ""
    prompt_version: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    attempts: list[CallAttempt] = field(default_factory=list)


class Labeler(Protocol):
    """Anything that labels a batch of profiles against an audience."""

    alias: str

    def label(self, batch: list[ProfileForLabel], audience: Audience) -> LabelBatchResult: ...
