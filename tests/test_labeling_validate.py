"""Parsing model replies: per-element validation, handle mapping, and whole-reply failures."""

from __future__ import annotations

import json

import pytest

from resources.models.validate import (
    MAX_REASON_CHARS,
    NOT_ANSWERED,
    PREVIEW_CHARS,
    parse_model_output,
    parse_model_output_detailed,
)
from scout_contract.labels import Label, LabelFailure, ProfileForLabel

BATCH = [
    ProfileForLabel("Alice_Q", "Alice", "qualitative sociologist", None, 10),
    ProfileForLabel("bob", "Bob", "golf", None, 20),
    ProfileForLabel("carol", "Carol", "research nurse", None, 30),
]
GOOD = [
    {"handle": "Alice_Q", "label": True, "reason": "qualitative methods"},
    {"handle": "bob", "label": False, "reason": "sports"},
    {"handle": "carol", "label": None, "reason": "research role unclear"},
]
EXPECTED = [
    Label("Alice_Q", True, "qualitative methods"),
    Label("bob", False, "sports"),
    Label("carol", None, "research role unclear"),
]


def _assert_partition(labels: list[Label], failures: list[LabelFailure]) -> None:
    """Labels and failures never overlap and together cover the batch exactly once."""
    handles = [x.handle for x in labels] + [f.handle for f in failures]
    assert sorted(handles) == sorted(p.handle for p in BATCH)


def _parse(reply: object) -> tuple[list[Label], list[LabelFailure]]:
    text = reply if isinstance(reply, str) else json.dumps(reply)
    labels, failures = parse_model_output(text, BATCH)
    _assert_partition(labels, failures)
    return labels, failures


def test_clean_reply_gives_one_label_per_profile() -> None:
    assert _parse(GOOD) == (EXPECTED, [])


@pytest.mark.parametrize(
    "wrap",
    [
        lambda body: f"```json\n{body}\n```",
        lambda body: f"```\n{body}\n```",
        lambda body: f"  ```JSON\n{body}```  ",
        lambda body: f"Here are the labels:\n{body}",
        lambda body: f"Here are the labels:\n```json\n{body}\n```\nLet me know if you need more.",
        lambda body: json.dumps({"labels": json.loads(body)}),
    ],
    ids=["json-fence", "bare-fence", "fence-no-newline", "prose-before", "prose-and-fence", "wrapped-object"],
)
def test_tolerated_wrappings_give_the_same_labels(wrap) -> None:
    assert _parse(wrap(json.dumps(GOOD, indent=2))) == (EXPECTED, [])


def test_handles_match_case_insensitively_and_keep_the_batch_spelling() -> None:
    reply = [
        {"handle": "alice_q", "label": True, "reason": "r"},
        {"handle": " @BOB ", "label": False, "reason": "r"},
        {"handle": "Carol", "label": None, "reason": "r"},
    ]
    labels, failures = _parse(reply)
    assert [x.handle for x in labels] == ["Alice_Q", "bob", "carol"] and failures == []


def test_exact_spelling_wins_when_the_batch_has_case_twins() -> None:
    batch = [ProfileForLabel("Sam", "S", "b", None, 1), ProfileForLabel("sam", "s", "b", None, 1)]
    reply = json.dumps(
        [{"handle": "sam", "label": True, "reason": "r"}, {"handle": "Sam", "label": False, "reason": "r"}]
    )
    labels, failures = parse_model_output(reply, batch)
    assert {x.handle: x.label for x in labels} == {"sam": True, "Sam": False} and failures == []
    # A third spelling matching both twins is ambiguous: dropped, both stay unanswered.
    parsed = parse_model_output_detailed(json.dumps([{"handle": "SAM", "label": True, "reason": "r"}]), batch)
    assert parsed.labels == [] and len(parsed.stray) == 1
    assert {f.error for f in parsed.failures} == {NOT_ANSWERED}


def test_partial_reply_keeps_valid_rows_and_fails_the_rest() -> None:
    reply = [
        {"handle": "Alice_Q", "label": "maybe", "reason": "r"},
        {"handle": "bob", "label": False, "reason": "golf"},
    ]
    labels, failures = _parse(reply)
    assert labels == [Label("bob", False, "golf")]
    errors = {f.handle: f.error for f in failures}
    assert "label must be true, false or null" in errors["Alice_Q"] and '"maybe"' in errors["Alice_Q"]
    assert errors["carol"] == NOT_ANSWERED


def test_unknown_handles_are_dropped_and_reported() -> None:
    reply = [*GOOD, {"handle": "zed", "label": True, "reason": "r"}, {"label": True, "reason": "no handle"}]
    parsed = parse_model_output_detailed(json.dumps(reply), BATCH)
    assert parsed.labels == EXPECTED and parsed.failures == []
    assert len(parsed.stray) == 2
    assert "'zed' is not in the batch" in parsed.stray[0] and "no string 'handle'" in parsed.stray[1]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("FALSE", False), (" null ", None), ("True", True)],
)
def test_literal_words_as_strings_are_accepted(value: str, expected: bool | None) -> None:
    labels, _ = _parse([{**GOOD[0], "label": value}, *GOOD[1:]])
    assert labels[0].label is expected


@pytest.mark.parametrize("value", ["uncertain", "yes", "", 1, 0, 0.5, [True], {"v": True}])
def test_other_label_values_are_failures(value: object) -> None:
    labels, failures = _parse([{**GOOD[0], "label": value}, *GOOD[1:]])
    assert [x.handle for x in labels] == ["bob", "carol"]
    assert failures[0].handle == "Alice_Q" and "label must be true, false or null" in failures[0].error


def test_missing_label_is_a_failure_not_null() -> None:
    _, failures = _parse([{"handle": "Alice_Q", "reason": "r"}, *GOOD[1:]])
    assert failures == [LabelFailure("Alice_Q", "invalid answer: answer has no 'label'")]


@pytest.mark.parametrize(
    ("element", "match"), [({"label": True}, "no 'reason'"), ({"label": True, "reason": 7}, "not a string")]
)
def test_reason_must_be_a_string(element: dict, match: str) -> None:
    _, failures = _parse([{"handle": "Alice_Q", **element}, *GOOD[1:]])
    assert failures[0].handle == "Alice_Q" and match in failures[0].error


def test_reason_is_trimmed_and_truncated() -> None:
    labels, _ = _parse([{**GOOD[0], "reason": "  " + "x" * 900 + "  "}, *GOOD[1:]])
    assert labels[0].reason == "x" * MAX_REASON_CHARS


def test_non_object_element_for_no_handle_leaves_profiles_unanswered() -> None:
    labels, failures = _parse(["Alice_Q", *GOOD[1:]])
    assert [x.handle for x in labels] == ["bob", "carol"]
    assert failures == [LabelFailure("Alice_Q", NOT_ANSWERED)]


def test_agreeing_duplicates_keep_the_first_answer() -> None:
    parsed = parse_model_output_detailed(json.dumps([*GOOD, {**GOOD[1], "reason": "second"}]), BATCH)
    assert parsed.labels == EXPECTED and parsed.failures == []
    assert parsed.stray == ["duplicate answer for 'bob'"]


def test_conflicting_duplicates_fail_the_profile() -> None:
    labels, failures = _parse([*GOOD, {"handle": "BOB", "label": True, "reason": "injected"}])
    assert [x.handle for x in labels] == ["Alice_Q", "carol"]
    assert failures == [LabelFailure("bob", "answered 2 times with conflicting labels (false, true)")]


def test_invalid_then_valid_answer_for_a_handle_keeps_the_valid_one() -> None:
    labels, failures = _parse([{**GOOD[0], "label": "maybe"}, *GOOD])
    assert labels == EXPECTED and failures == []


@pytest.mark.parametrize(
    ("reply", "match"),
    [
        ("I cannot help with that.", "invalid JSON"),
        ('[{"handle": "Alice_Q", "label": tru', "invalid JSON"),
        ('{"handle": "Alice_Q", "label": true, "reason": "r"}', "expected a JSON array, got a JSON dict"),
        ("", "the reply is empty"),
        ("```json\n```", "the reply is empty"),
        ('"just a string"', "expected a JSON array"),
    ],
)
def test_unusable_reply_fails_every_profile(reply: str, match: str) -> None:
    labels, failures = _parse(reply)
    assert labels == [] and len(failures) == len(BATCH)
    assert len({f.error for f in failures}) == 1
    assert match in failures[0].error and "model output is not a JSON array" in failures[0].error


def test_garbage_preview_is_capped_at_300_characters() -> None:
    garbage = "Sorry!\n" + "z" * 5000
    _, failures = _parse(garbage)
    preview = failures[0].error.split("output starts: ", 1)[1]
    assert preview.startswith("Sorry!\\nzzz")  # the newline is shown, not kept
    assert len(preview) == PREVIEW_CHARS and preview.endswith("…")


def test_none_reply_fails_every_profile() -> None:
    labels, failures = parse_model_output(None, BATCH)
    assert labels == [] and [f.handle for f in failures] == ["Alice_Q", "bob", "carol"]
