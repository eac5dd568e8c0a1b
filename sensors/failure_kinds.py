"""Why a Scout run failed, sorted into the three kinds that need different answers.

- **transient** (infrastructure): the same run may well succeed later and nothing below the
  run retries it: the DuckDB file stayed locked past the backend's wait, the warehouse could
  not be reached, the run was interrupted, or its process died without recording an error.
  Answer: launch the same partition again after a backoff (``run_retries.py``).
- **unavailable**: a platform or model stayed unavailable (429, 5xx, timeouts, dropped
  connections) through the retries of its client, the one layer that retries those calls.
  Answer: record it, never re-run it: a run retry would multiply the client's attempts. The
  next schedule tick (search) or queue change (labeling) tries again, and nothing is
  dead-lettered for it.
- **poison**: anything else (a bad request, a missing key, a bug, bad data). Running it
  again unchanged fails again. Answer: record it; for labeling, after the second poison
  failure of a partition, move its still-pending units to ``dead_letters`` so the queue can
  move on and a person can look.

The decision reads the errors Dagster recorded for the run (step failures, or the run's own
failure when no step failed) down their cause chains. An error a ``RetryPolicy`` or
``RetryRequested`` exhausted is judged by its cause: a retry says nothing about the kind.
Texts are scrubbed of configured secrets and shortened before they are stored or logged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import dagster as dg

from scout_assets.resources_binding import secret_values

if TYPE_CHECKING:
    from dagster_shared.error import SerializableErrorInfo  # how Dagster stores an error

MAX_ERROR_CHARS = 1000

# Class names, not classes: the errors arrive serialized.
# Infrastructure under the run: a run retry is the layer that retries these.
INFRASTRUCTURE_CLASSES = frozenset(
    {
        "DagsterExecutionInterruptedError",
        "WarehouseLockedError",
        "TimeoutError",
        "ConnectionError",
        "ConnectionResetError",
        "ConnectionRefusedError",
        "BrokenPipeError",
    }
)
# A platform or model that stayed unavailable through its client's retries (ours, httpx, litellm).
UNAVAILABLE_CLASSES = frozenset(
    {
        "TransientModelError",
        "RateLimitedError",
        "TransientPlatformError",
        "TimeoutException",
        "ConnectTimeout",
        "ReadTimeout",
        "WriteTimeout",
        "PoolTimeout",
        "ConnectError",
        "ReadError",
        "RemoteProtocolError",
        "RateLimitError",
        "ServiceUnavailableError",
        "InternalServerError",
        "APIConnectionError",
        "Timeout",
    }
)
# Wrappers that say nothing about the kind by themselves: look at their causes.
NEUTRAL_CLASSES = frozenset(
    {"RetryRequested", "RetryRequestedFromPolicy", "DagsterExecutionStepExecutionError"}
)
INFRASTRUCTURE_TEXT = re.compile(r"\bstayed locked\b|\bcannot connect to warehouse\b", re.IGNORECASE)
# Texts of the HTTP client and the labelers: "gave up: HTTP 503", "timeout after 30s", ...
UNAVAILABLE_TEXT = re.compile(
    r"\bHTTP (?:408|425|429|5\d\d)\b|\bgave up\b|\btime(?:d)?[ -]?out\b|\brate[ -]?limit|"
    r"temporarily unavailable|\bstayed unavailable\b",
    re.IGNORECASE,
)
POISON_TEXT = re.compile(r"\bis not retryable\b", re.IGNORECASE)

# Variables that may hold a secret; the model keys' names come from config/models.yaml.
_MIN_SECRET_LENGTH = 6


class FailureKind(StrEnum):
    TRANSIENT = "transient"  # infrastructure: the run is retried
    UNAVAILABLE = "unavailable"  # a platform or model, after its client's retries: recorded only
    POISON = "poison"


# When a run's failed steps disagree, the kind that asks for the least repetition wins.
_PRECEDENCE = (FailureKind.POISON, FailureKind.UNAVAILABLE, FailureKind.TRANSIENT)


@dataclass(frozen=True)
class FailureSummary:
    """The kind of one run's failure, the error it rests on and why it was judged so."""

    kind: FailureKind
    error_class: str
    message: str
    evidence: str


def error_chain(error: SerializableErrorInfo) -> Iterator[SerializableErrorInfo]:
    """``error`` and everything it was caused by or raised during, depth first."""
    yield error
    for link in (error.cause, error.context):
        if link is not None:
            yield from error_chain(link)


def _judge_one(error: SerializableErrorInfo) -> tuple[FailureKind, SerializableErrorInfo, str]:
    chain = list(error_chain(error))
    for link in chain:
        if POISON_TEXT.search(link.message or ""):
            return FailureKind.POISON, link, "the error says it is not retryable"
    for link in chain:
        if link.cls_name in INFRASTRUCTURE_CLASSES:
            return FailureKind.TRANSIENT, link, f"{link.cls_name} is an infrastructure failure"
        if link.cls_name in UNAVAILABLE_CLASSES:
            return FailureKind.UNAVAILABLE, link, f"{link.cls_name}: unavailable after its client's retries"
        found = INFRASTRUCTURE_TEXT.search(link.message or "")
        if found:
            return FailureKind.TRANSIENT, link, f"the error mentions {found.group(0)!r}"
        found = UNAVAILABLE_TEXT.search(link.message or "")
        if found:
            return FailureKind.UNAVAILABLE, link, f"the error mentions {found.group(0)!r}"
    root = next((link for link in chain if link.cls_name not in NEUTRAL_CLASSES), chain[-1])
    return FailureKind.POISON, root, f"{root.cls_name} is not a known transient error"


def classify_errors(errors: Sequence[SerializableErrorInfo]) -> FailureSummary:
    """Transient (run retried) only if every failed step's error is; else unavailable, else poison.

    A run that failed with no recorded error (its worker died, the host went away) is an
    infrastructure problem: trying again is the right answer, and attempts are bounded.
    """
    if not errors:
        return FailureSummary(
            FailureKind.TRANSIENT, "unknown", "the run failed without a recorded error", "no error recorded"
        )
    judged = [_judge_one(error) for error in errors]
    decisive = next(j for kind in _PRECEDENCE for j in judged if j[0] is kind)
    kind, link, evidence = decisive
    return FailureSummary(kind, link.cls_name or "unknown", scrub(link.message or ""), evidence)


def run_errors(instance: dg.DagsterInstance, run_id: str) -> list[SerializableErrorInfo]:
    """The errors of a failed run's failed steps, else of the run's own failure event."""
    errors = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = entry.dagster_event
        data = event.step_failure_data if event is not None else None
        if data is not None and data.error is not None:
            errors.append(data.error)
    if errors:
        return errors
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE):
        event = entry.dagster_event
        error = getattr(event.event_specific_data, "error", None) if event is not None else None
        if error is not None:
            errors.append(error)
    return errors


def classify_run(instance: dg.DagsterInstance, run_id: str) -> FailureSummary:
    return classify_errors(run_errors(instance, run_id))


def scrub(text: str) -> str:
    """``text`` without the values of secret-holding variables, cut to ``MAX_ERROR_CHARS``."""
    for name, secret in secret_values().items():
        if len(secret) >= _MIN_SECRET_LENGTH:
            text = text.replace(secret, f"<{name}>")
    text = text.strip()
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"
