"""Turn a model's reply into labels, one profile at a time (REFERENCE §6.7, made per element).

The predecessor validated the whole array with one schema and dropped the entire batch when a
single element was off. Scout validates each element separately: valid labels are kept, and
every profile of the batch that did not get one becomes a :class:`LabelFailure` naming why.
Invariant of :func:`parse_model_output`: the handles of ``labels`` and ``failures`` are disjoint
and together are exactly the batch's handles, spelled as in the batch.

Decisions (each one a place where models really do deviate):
- Code fences (```` ```json ```` / ```` ``` ````) around the reply are stripped.
- Prose around the array is tolerated: if the reply is not JSON as a whole, the text from the
  first ``[`` to the last ``]`` is parsed. The array is self-delimiting, so a chatty "Here are
  the labels:" line costs nothing; anything else is still rejected.
- An object wrapping the array under a single key (``{"labels": [...]}``, what JSON modes tend to
  produce) is unwrapped.
- ``label`` must be JSON ``true``/``false``/``null``. The strings ``"true"``/``"false"``/
  ``"null"`` (any case) are accepted as those literals: their meaning is unambiguous. Any other
  value, including ``"uncertain"``, ``"yes"``, ``1`` or a missing ``label`` key, is a failure:
  the contract is trivalent and a model that drifts from it should show up in the failure
  counts rather than be guessed at. A missing ``label`` is never read as null.
- ``reason`` must be a string; it is trimmed and cut to 500 characters.
- Handles are matched case-insensitively after trimming whitespace and a leading ``@``; an exact
  match wins when the batch holds handles differing only in case.
- Elements whose handle is not in the batch are dropped (reported in ``ParsedOutput.stray``).
- A handle answered more than once: if all valid answers agree, the first is kept; if they
  disagree, the profile fails ("conflicting labels"), because there is no way to know which
  answer the model meant (this is also how an injected extra answer for another profile shows).
- A reply that is not JSON fails every profile with an error holding a 300-character preview.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from scout_contract.labels import Label, LabelFailure, ProfileForLabel

MAX_REASON_CHARS = 500
PREVIEW_CHARS = 300
NOT_ANSWERED = "not answered by the model"
_LITERAL_STRINGS = {"true": True, "false": False, "null": None}


@dataclass
class ParsedOutput:
    """Everything learned from one reply; ``stray`` lists answers that fit no batch profile."""

    labels: list[Label] = field(default_factory=list)
    failures: list[LabelFailure] = field(default_factory=list)
    stray: list[str] = field(default_factory=list)


class _NotJson(ValueError):
    pass


def preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    """The start of a reply for error messages, newlines made visible."""
    flat = text.replace("\r", "\\r").replace("\n", "\\n")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def strip_code_fence(text: str) -> str:
    """Remove one surrounding markdown code fence (with or without a language tag)."""
    body = text.strip()
    if body.startswith("```"):
        first_newline = body.find("\n")
        body = "" if first_newline == -1 else body[first_newline + 1 :]
        body = body.rstrip()
        if body.endswith("```"):
            body = body[:-3]
    return body.strip()


def _load_array(text: str) -> list[Any]:
    body = strip_code_fence(text)
    if not body:
        raise _NotJson("the reply is empty")
    try:
        value = json.loads(body)
    except json.JSONDecodeError as whole_error:
        start, end = body.find("["), body.rfind("]")
        if start == -1 or end <= start:
            raise _NotJson(
                f"invalid JSON ({whole_error.msg} at line {whole_error.lineno} column {whole_error.colno})"
            ) from None
        try:
            value = json.loads(body[start : end + 1])
        except json.JSONDecodeError as inner_error:
            raise _NotJson(
                f"invalid JSON ({inner_error.msg} at line {inner_error.lineno} column {inner_error.colno})"
            ) from None
    if isinstance(value, dict) and len(value) == 1:
        (value,) = value.values()
    if not isinstance(value, list):
        raise _NotJson(f"expected a JSON array, got a JSON {type(value).__name__}")
    return value


def _check_element(element: Any) -> tuple[str, bool | None, str]:
    """(handle, label, reason) of one array element, or ValueError naming what is wrong."""
    if not isinstance(element, dict):
        raise ValueError(f"answer is not an object: {json.dumps(element)[:80]}")
    if "label" not in element:
        raise ValueError("answer has no 'label'")
    raw_label = element["label"]
    if raw_label is None or isinstance(raw_label, bool):
        label = raw_label
    elif isinstance(raw_label, str) and raw_label.strip().lower() in _LITERAL_STRINGS:
        label = _LITERAL_STRINGS[raw_label.strip().lower()]
    else:
        raise ValueError(f"label must be true, false or null, got {json.dumps(raw_label)[:60]}")
    reason = element.get("reason")
    if not isinstance(reason, str):
        problem = "no 'reason'" if "reason" not in element else f"reason is not a string: {reason!r:.60}"
        raise ValueError(f"answer has {problem}")
    return element["handle"], label, reason.strip()[:MAX_REASON_CHARS]


def _handle_of(element: Any) -> str | None:
    if isinstance(element, dict) and isinstance(element.get("handle"), str):
        return element["handle"].strip().removeprefix("@").strip()
    return None


class _HandleIndex:
    """Map a model-written handle to the batch's spelling: exact first, then case-insensitive."""

    def __init__(self, batch: Sequence[ProfileForLabel]) -> None:
        self._exact = {profile.handle: profile.handle for profile in batch}
        self._folded: dict[str, list[str]] = {}
        for profile in batch:
            self._folded.setdefault(profile.handle.casefold(), []).append(profile.handle)

    def resolve(self, written: str) -> str | None:
        if written in self._exact:
            return written
        candidates = self._folded.get(written.casefold(), [])
        return candidates[0] if len(candidates) == 1 else None


def _all_failed(batch: Sequence[ProfileForLabel], error: str) -> ParsedOutput:
    handles = dict.fromkeys(profile.handle for profile in batch)
    return ParsedOutput(failures=[LabelFailure(handle, error) for handle in handles])


def parse_model_output_detailed(text: str | None, batch: Sequence[ProfileForLabel]) -> ParsedOutput:
    """Like :func:`parse_model_output`, also reporting answers that matched no profile."""
    try:
        elements = _load_array(text or "")
    except _NotJson as exc:
        return _all_failed(
            batch, f"model output is not a JSON array: {exc}; output starts: {preview(text or '')}"
        )

    index = _HandleIndex(batch)
    valid: dict[str, list[Label]] = {}
    invalid: dict[str, str] = {}
    result = ParsedOutput()
    for position, element in enumerate(elements):
        written = _handle_of(element)
        handle = index.resolve(written) if written is not None else None
        if handle is None:
            what = (
                f"handle {written!r} is not in the batch" if written is not None else "has no string 'handle'"
            )
            result.stray.append(f"answer {position} {what}: {json.dumps(element)[:120]}")
            continue
        try:
            _, label, reason = _check_element(element)
        except ValueError as exc:
            invalid.setdefault(handle, f"invalid answer: {exc}")
            continue
        valid.setdefault(handle, []).append(Label(handle=handle, label=label, reason=reason))

    for handle in dict.fromkeys(profile.handle for profile in batch):
        answers = valid.get(handle, [])
        if len(answers) > 1:
            result.stray.extend(f"duplicate answer for {handle!r}" for _ in answers[1:])
        distinct = {answer.label for answer in answers}
        if len(distinct) > 1:
            shown = ", ".join(json.dumps(answer.label) for answer in answers)
            result.failures.append(
                LabelFailure(handle, f"answered {len(answers)} times with conflicting labels ({shown})")
            )
        elif answers:
            result.labels.append(answers[0])
        elif handle in invalid:
            result.failures.append(LabelFailure(handle, invalid[handle]))
        else:
            result.failures.append(LabelFailure(handle, NOT_ANSWERED))
    return result


def parse_model_output(
    text: str | None, batch: Sequence[ProfileForLabel]
) -> tuple[list[Label], list[LabelFailure]]:
    """Valid labels and per-profile failures for one reply to one batch."""
    parsed = parse_model_output_detailed(text, batch)
    return parsed.labels, parsed.failures
