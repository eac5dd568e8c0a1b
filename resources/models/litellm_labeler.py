"""A labeler backed by any litellm provider (Anthropic, Gemini, Groq, OpenAI-compatible servers).

One ``label`` call is one chat completion: prompt from ``prompt.build_messages``, reply checked
per element by ``validate``, tokens from the response's ``usage``, cost from the registry's
prices, latency measured around the call.

Errors are split by what should happen next:
- Worth retrying (HTTP 429, timeouts, connection errors, 5xx): this labeler is the one layer
  that retries a model call. It tries ``max_attempts`` times in all, with stamina's exponential
  backoff, or the provider's ``Retry-After`` (capped at ``retry_after_max_s``) when it sends
  one; litellm's own retries are off (``num_retries=0``) and neither the asset step nor the run
  is retried for a model error. When every attempt failed it raises
  :class:`TransientModelError`. Swallowing that into an empty result would turn an outage into
  a "successful" run. Each attempt is also cut at ``timeout_s`` + 1 s of wall time, whatever
  the provider does (``_within``). Worst case for one batch (docs/operations.md, "Limits and
  retries"): ``max_attempts * (timeout_s + 1) + (max_attempts - 1) * max(backoff_max_s, retry_after_max_s)``.
- Anything else the provider rejects (bad request, auth, content policy, ...): a result where
  every profile of the batch is a failure carrying the error, so it is recorded and visible.
- A missing API key variable: :class:`ModelConfigError`, before any call.

Every attempt is costed, whatever came of it (``LabelBatchResult.attempts``, or
``TransientModelError.attempts`` when the labeler gave up), for the ``model_calls`` ledger: from
the tokens the provider's ``usage`` reports, or, when there is none (an error, a timeout), from
the prompt's tokens counted locally with litellm's tokenizer, priced with the model's prices
(models.yaml, else litellm's local cost map). An attempt the provider refused is thus counted at
its prompt's price: an upper bound, never a dollar that silently vanishes.

The API key is read from the variable the registry names, passed only to litellm, and scrubbed
from every error text we produce.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import stamina

from resources.models.litellm_import import import_litellm
from resources.models.prompt import PROMPT_VERSION, PromptExample, build_messages
from resources.models.registry import ModelSpec
from resources.models.validate import parse_model_output_detailed
from resources.retrying import RetryBudget, retry_after_seconds
from scout_contract.audience import Audience
from scout_contract.labels import CallAttempt, LabelBatchResult, LabelFailure, ProfileForLabel

logger = logging.getLogger(__name__)

_TRANSIENT_STATUS = {408, 409, 425, 429}
_ERROR_CHARS = 300
# Self-hosted OpenAI-compatible servers often need no key, but the OpenAI client insists on one.
_NO_KEY_PLACEHOLDER = "scout-no-key"


class TransientModelError(RuntimeError):
    """The call failed in a way that may succeed later (rate limit, timeout, overload)."""

    def __init__(
        self, alias: str, message: str, *, status_code: int | None = None, retry_after_s: float | None = None
    ):
        super().__init__(f"model {alias!r}: {message}")
        self.alias = alias
        self.status_code = status_code
        self.retry_after_s = retry_after_s
        # Every attempt of the batch, costed (set by ``LiteLLMLabeler.label`` when it gives up).
        self.attempts: tuple[CallAttempt, ...] = ()


class ModelConfigError(ValueError):
    """The model cannot be called as configured (e.g. its API key variable is unset)."""


def _status_code(exc: Exception) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def _retry_after(exc: Exception, cap_s: float) -> float | None:
    """Seconds the provider asked us to wait, if it said (litellm keeps the raw headers), capped."""
    for headers in (
        getattr(exc, "litellm_response_headers", None),
        getattr(getattr(exc, "response", None), "headers", None),
    ):
        if headers is not None:
            wait = retry_after_seconds(headers, cap_s=cap_s)
            if wait is not None:
                return wait
    return None


# How hard one batch is tried (the only layer that retries a model call).
MODEL_RETRY = RetryBudget(max_attempts=3, backoff_initial_s=1.0)


def worst_case_batch_s(retry: RetryBudget, timeout_s: float) -> float:
    """The longest one ``label`` call can take: every attempt hits its deadline, every wait is maximal."""
    return retry.max_attempts * (timeout_s + DEADLINE_GRACE_S) + (retry.max_attempts - 1) * retry.max_wait_s


# A call still running this long after ``timeout_s`` is abandoned: litellm's timeout bounds each
# network read, not the whole answer, so a provider that drips its reply would otherwise hold the
# batch for as long as it likes. The grace lets litellm's own timeout fire first when it can.
DEADLINE_GRACE_S = 1.0


class _CallDeadline(Exception):
    """The model call did not finish within its deadline."""


def _within(seconds: float, call: Callable[[], object]):
    """``call()`` on a daemon thread, given up after ``seconds``; its result or its exception.

    An abandoned call keeps its thread until the provider answers or closes (its socket
    timeout still applies per read); it is a daemon, so it never holds the process open.
    """
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    worker = threading.Thread(target=run, name="scout-model-call", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise _CallDeadline(f"Timeout: no complete answer within the {seconds:g}s deadline")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]


@dataclass(frozen=True)
class _FailedAttempt:
    """An attempt that brought no answer: when, how long, and what kind of failure."""

    attempt: int
    called_at: datetime
    latency_ms: float
    error_kind: str
    error: str


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _error_kind(exc: Exception) -> str:
    """``rate_limited`` | ``timeout`` | ``transient`` for a failure worth retrying."""
    litellm = import_litellm()
    if isinstance(exc, litellm.RateLimitError) or _status_code(exc) == 429:
        return "rate_limited"
    if isinstance(exc, litellm.Timeout) or _status_code(exc) == 408:
        return "timeout"
    return "transient"


def _retry_hook(exc: Exception) -> bool | float:
    """stamina: retry a TransientModelError; 0.0 when we sleep the provider's wait ourselves."""
    if isinstance(exc, TransientModelError):
        return 0.0 if exc.retry_after_s is not None else True
    return False


class LiteLLMLabeler:
    """Labels batches with one registry model through ``litellm.completion``.

    ``sleep`` is only for honouring a provider's Retry-After (tests pass a recorder).
    """

    def __init__(
        self,
        spec: ModelSpec,
        *,
        timeout_s: float | None = None,
        api_key: str | None = None,
        retry: RetryBudget = MODEL_RETRY,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if spec.is_local:
            raise ModelConfigError(f"model {spec.alias!r} is local; it has no litellm endpoint")
        self.spec = spec
        self.alias = spec.alias
        self.timeout_s = timeout_s if timeout_s is not None else spec.timeout_s
        self.retry = retry
        self._sleep = sleep
        self._key = api_key or ""  # given by the resource (EnvVar) or the CLI; never logged

    def _api_key(self) -> str:
        name = self.spec.api_key_env
        if name is None:
            return _NO_KEY_PLACEHOLDER
        key = self._key
        if not key.strip():
            raise ModelConfigError(f"model {self.alias!r}: environment variable {name} is not set")
        return key

    def _scrub(self, text: str, api_key: str) -> str:
        if api_key and api_key != _NO_KEY_PLACEHOLDER:
            text = text.replace(api_key, "[redacted]")
        return text[:_ERROR_CHARS]

    def _raise_if_transient(self, exc: Exception, api_key: str) -> None:
        litellm = import_litellm()
        status = _status_code(exc)
        transient_types = (
            litellm.RateLimitError,
            litellm.Timeout,
            litellm.APIConnectionError,
            litellm.InternalServerError,
            litellm.ServiceUnavailableError,
            litellm.BadGatewayError,
        )
        if isinstance(exc, transient_types) or (
            status is not None and (status in _TRANSIENT_STATUS or status >= 500)
        ):
            message = self._scrub(f"{type(exc).__name__}: {exc}", api_key)
            raise TransientModelError(
                self.alias,
                message,
                status_code=status,
                retry_after_s=_retry_after(exc, self.retry.retry_after_max_s),
            ) from None

    def _complete(self, litellm, messages: list, api_key: str, size: int, failed: list[_FailedAttempt]):
        """One chat completion, retried here (and only here) while the failure is transient.

        Raises ``TransientModelError`` naming the attempts once they are spent; any other
        provider error is raised at once (the caller turns it into failures of the batch).
        Every attempt that brought no answer is appended to ``failed`` (the cost ledger).
        """
        retry = self.retry
        pending_wait: float | None = None
        attempts = 0
        try:
            for attempt in stamina.retry_context(
                on=_retry_hook,
                attempts=retry.max_attempts,
                timeout=None,  # bounded by attempts: a wall-clock budget would cut Retry-After waits
                wait_initial=retry.backoff_initial_s,
                wait_max=retry.backoff_max_s,
                wait_jitter=retry.backoff_jitter_s,
                wait_exp_base=2,
            ):
                with attempt:
                    if pending_wait:
                        self._sleep(pending_wait)
                    pending_wait = None
                    attempts = attempt.num
                    called_at, started = _utc_now(), time.perf_counter()

                    def failure(
                        kind: str,
                        error: str,
                        number: int = attempt.num,
                        at: datetime = called_at,
                        t0: float = started,
                    ) -> None:
                        elapsed = (time.perf_counter() - t0) * 1000
                        failed.append(_FailedAttempt(number, at, elapsed, kind, error))

                    try:
                        return _within(
                            self.timeout_s + DEADLINE_GRACE_S,
                            lambda: litellm.completion(
                                model=self.spec.litellm_model,
                                messages=messages,
                                max_tokens=self.spec.max_tokens,
                                api_key=api_key,
                                api_base=self.spec.api_base,
                                timeout=self.timeout_s,
                                num_retries=0,
                                max_retries=0,
                            ),
                        )
                    except _CallDeadline as late:
                        failure("timeout", str(late))
                        transient = TransientModelError(self.alias, str(late))
                        logger.warning(
                            "model %s: batch of %d, attempt %d: %s", self.alias, size, attempt.num, late
                        )
                        raise transient from None
                    except Exception as exc:
                        try:
                            self._raise_if_transient(exc, api_key)
                        except TransientModelError as transient:
                            failure(_error_kind(exc), str(transient))
                            pending_wait = transient.retry_after_s
                            logger.warning(
                                "model %s: batch of %d, attempt %d of at most %d failed: %s",
                                self.alias, size, attempt.num, retry.max_attempts, transient,
                            )  # fmt: skip
                            raise
                        failure("provider_error", self._scrub(f"{type(exc).__name__}: {exc}", api_key))
                        raise
        except TransientModelError as last:
            message = str(last).removeprefix(f"model {self.alias!r}: ")
            raise TransientModelError(
                self.alias,
                f"gave up after {attempts} attempt(s): {message}",
                status_code=last.status_code,
                retry_after_s=last.retry_after_s,
            ) from None
        raise AssertionError("unreachable: stamina either returns, or raises the last failure")

    def label(
        self,
        batch: Sequence[ProfileForLabel],
        audience: Audience,
        examples: Sequence[PromptExample] = (),
    ) -> LabelBatchResult:
        """Label one batch, with reviewed ``examples`` in the prompt (none of them in the batch);
        see the module docstring for how failures surface."""
        result = LabelBatchResult(model=self.spec.litellm_model, prompt_version=PROMPT_VERSION)
        if not batch:
            return result
        litellm = import_litellm()
        api_key = self._api_key()
        messages = build_messages(batch, audience, examples)
        failed: list[_FailedAttempt] = []
        started = time.perf_counter()
        try:
            response = self._complete(litellm, messages, api_key, len(batch), failed)
        except TransientModelError as exc:
            exc.attempts = tuple(self._failed_attempts(litellm, messages, failed))
            raise
        except Exception as exc:
            result.latency_ms = (time.perf_counter() - started) * 1000
            error = self._scrub(f"provider error {type(exc).__name__}: {exc}", api_key)
            logger.warning("model %s: batch of %d failed: %s", self.alias, len(batch), error)
            handles = dict.fromkeys(profile.handle for profile in batch)
            result.failures = [LabelFailure(handle, error) for handle in handles]
            result.attempts = self._failed_attempts(litellm, messages, failed)
            return result
        result.latency_ms = (time.perf_counter() - started) * 1000
        answered_at = _utc_now()

        usage = getattr(response, "usage", None)
        result.input_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        result.output_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        basis = "usage"
        if not (result.input_tokens or result.output_tokens):  # no usage reported: count it here
            choice = response.choices[0] if response.choices else None
            reply = (choice.message.content if choice is not None else None) or ""
            result.input_tokens = self._prompt_tokens(litellm, messages)
            result.output_tokens = _text_tokens(litellm, self.spec.litellm_model, reply)
            basis = "estimate"
        result.cost_usd = self.spec.cost_usd(result.input_tokens, result.output_tokens)

        choice = response.choices[0] if response.choices else None
        content = choice.message.content if choice is not None else None
        parsed = parse_model_output_detailed(content, batch)
        if choice is not None and choice.finish_reason == "length":
            cut = f" (reply cut at max_tokens={self.spec.max_tokens})"
            parsed.failures = [LabelFailure(f.handle, f.error + cut) for f in parsed.failures]
        result.labels, result.failures = parsed.labels, parsed.failures
        outcome = "labeled" if not parsed.failures else "partial" if parsed.labels else "invalid"
        answered = CallAttempt(
            attempt=len(failed) + 1,
            outcome=outcome,
            input_tokens=result.input_tokens,
            output_tokens=result.output_tokens,
            cost_usd=result.cost_usd,
            cost_basis=basis,
            latency_ms=result.latency_ms - sum(f.latency_ms for f in failed),
            called_at=answered_at,
            labels=len(parsed.labels),
            failures=len(parsed.failures),
            error_kind=None if outcome == "labeled" else "invalid_output",
            error=None if outcome == "labeled" else parsed.failures[0].error[:_ERROR_CHARS],
        )
        result.attempts = [*self._failed_attempts(litellm, messages, failed), answered]
        if parsed.stray:
            logger.warning(
                "model %s: ignored %d stray answers: %s", self.alias, len(parsed.stray), parsed.stray[:5]
            )
        return result

    def _prompt_tokens(self, litellm, messages: list) -> int:
        """The prompt's tokens as litellm's tokenizer counts them (for attempts without usage)."""
        try:
            return int(litellm.token_counter(model=self.spec.litellm_model, messages=messages))
        except Exception:  # a tokenizer litellm cannot load offline: about 4 characters a token
            return sum(len(str(m.get("content") or "")) for m in messages) // 4

    def _failed_attempts(
        self, litellm, messages: list, failed: Sequence[_FailedAttempt]
    ) -> list[CallAttempt]:
        """Attempts that brought no answer, each costed at its prompt's tokens (cost basis "estimate")."""
        if not failed:
            return []
        tokens = self._prompt_tokens(litellm, messages)
        cost = self.spec.cost_usd(tokens, 0)
        return [
            CallAttempt(
                attempt=f.attempt,
                outcome="failed",
                input_tokens=tokens,
                output_tokens=0,
                cost_usd=cost,
                cost_basis="estimate",
                latency_ms=f.latency_ms,
                called_at=f.called_at,
                failures=0,
                error_kind=f.error_kind,
                error=f.error[:_ERROR_CHARS],
            )
            for f in failed
        ]


def _text_tokens(litellm, model: str, text: str) -> int:
    """Tokens of a reply as litellm's tokenizer counts them (about 4 characters a token if it cannot)."""
    if not text:
        return 0
    try:
        return int(litellm.token_counter(model=model, text=text))
    except Exception:
        return len(text) // 4
