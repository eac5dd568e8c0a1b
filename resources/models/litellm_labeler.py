"""A labeler backed by any litellm provider (Anthropic, Gemini, Groq, OpenAI-compatible servers).

One ``label`` call is one chat completion: prompt from ``prompt.build_messages``, reply checked
per element by ``validate``, tokens from the response's ``usage``, cost from the registry's
prices, latency measured around the call.

Errors are split by what should happen next:
- Worth retrying later (HTTP 429, timeouts, connection errors, 5xx): raise
  :class:`TransientModelError`. litellm's own retries are off (``num_retries=0``) so that one
  place owns retrying: Dagster's ``RetryPolicy`` on the asset, or the queue on the next cycle.
  Swallowing these into an empty result would turn an outage into a "successful" run.
- Anything else the provider rejects (bad request, auth, content policy, ...): a result where
  every profile of the batch is a failure carrying the error, so it is recorded and visible.
- A missing API key variable: :class:`ModelConfigError`, before any call.
The API key is read from the variable the registry names, passed only to litellm, and scrubbed
from every error text we produce.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from resources.models.litellm_import import import_litellm
from resources.models.prompt import PROMPT_VERSION, build_messages
from resources.models.registry import ModelSpec
from resources.models.validate import parse_model_output_detailed
from scout_contract.audience import Audience
from scout_contract.labels import LabelBatchResult, LabelFailure, ProfileForLabel

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


class ModelConfigError(ValueError):
    """The model cannot be called as configured (e.g. its API key variable is unset)."""


def _status_code(exc: Exception) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def _retry_after(exc: Exception) -> float | None:
    """Seconds the provider asked us to wait, if it said (litellm keeps the raw headers)."""
    for headers in (
        getattr(exc, "litellm_response_headers", None),
        getattr(getattr(exc, "response", None), "headers", None),
    ):
        value = headers.get("retry-after") if headers is not None else None
        if value is not None:
            try:
                return float(value)
            except ValueError:
                return None  # an HTTP date; the caller's backoff applies
    return None


class LiteLLMLabeler:
    """Labels batches with one registry model through ``litellm.completion``."""

    def __init__(self, spec: ModelSpec, *, timeout_s: float | None = None, api_key: str | None = None):
        if spec.is_local:
            raise ModelConfigError(f"model {spec.alias!r} is local; it has no litellm endpoint")
        self.spec = spec
        self.alias = spec.alias
        self.timeout_s = timeout_s if timeout_s is not None else spec.timeout_s
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
                self.alias, message, status_code=status, retry_after_s=_retry_after(exc)
            ) from None

    def label(self, batch: Sequence[ProfileForLabel], audience: Audience) -> LabelBatchResult:
        """Label one batch; see the module docstring for how failures surface."""
        result = LabelBatchResult(model=self.spec.litellm_model, prompt_version=PROMPT_VERSION)
        if not batch:
            return result
        litellm = import_litellm()
        api_key = self._api_key()
        messages = build_messages(batch, audience)
        started = time.perf_counter()
        try:
            response = litellm.completion(
                model=self.spec.litellm_model,
                messages=messages,
                max_tokens=self.spec.max_tokens,
                api_key=api_key,
                api_base=self.spec.api_base,
                timeout=self.timeout_s,
                num_retries=0,
                max_retries=0,
            )
        except Exception as exc:
            result.latency_ms = (time.perf_counter() - started) * 1000
            self._raise_if_transient(exc, api_key)
            error = self._scrub(f"provider error {type(exc).__name__}: {exc}", api_key)
            logger.warning("model %s: batch of %d failed: %s", self.alias, len(batch), error)
            handles = dict.fromkeys(profile.handle for profile in batch)
            result.failures = [LabelFailure(handle, error) for handle in handles]
            return result
        result.latency_ms = (time.perf_counter() - started) * 1000

        usage = getattr(response, "usage", None)
        result.input_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        result.output_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        result.cost_usd = self.spec.cost_usd(result.input_tokens, result.output_tokens)

        choice = response.choices[0] if response.choices else None
        content = choice.message.content if choice is not None else None
        parsed = parse_model_output_detailed(content, batch)
        if choice is not None and choice.finish_reason == "length":
            cut = f" (reply cut at max_tokens={self.spec.max_tokens})"
            parsed.failures = [LabelFailure(f.handle, f.error + cut) for f in parsed.failures]
        result.labels, result.failures = parsed.labels, parsed.failures
        if parsed.stray:
            logger.warning(
                "model %s: ignored %d stray answers: %s", self.alias, len(parsed.stray), parsed.stray[:5]
            )
        return result
