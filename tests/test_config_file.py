"""The one YAML config loader: every kind of problem names the file, the field and what is wrong."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from pydantic import Field, model_validator

from scout_contract.config_file import (
    ConfigFileError,
    ConfigModel,
    Integer,
    Number,
    Share,
    Text,
    field_problem,
    load_config_file,
)


class Limits(ConfigModel):
    low: Number
    high: Number

    @model_validator(mode="after")
    def _ordered(self) -> Limits:
        if self.high < self.low:
            raise field_problem("high", f"must be >= low ({self.low}), got {self.high}")
        return self


class Entry(ConfigModel):
    share: Share
    size: Integer = Field(default=1, ge=1)
    note: Text | None = None
    limits: Limits | None = None


class Example(ConfigModel):
    name: Text
    entries: dict[Text, Entry] = Field(min_length=1)
    tags: tuple[Text, ...] = ()


class ExampleError(ConfigFileError):
    """A subclass, as each config has one."""


GOOD = "name: demo\nentries:\n  first.v1:\n    share: 0.5\n    size: 3\ntags: [a, b]\n"


def _load(tmp_path: Path, text: str) -> Example:
    path = tmp_path / "example.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config_file(path, Example, "example file", error=ExampleError)


def test_a_good_file_loads_as_the_typed_model(tmp_path):
    example = _load(tmp_path, GOOD)
    assert example.name == "demo" and example.tags == ("a", "b")
    entry = example.entries["first.v1"]
    assert (entry.share, entry.size, entry.note) == (0.5, 3, None)
    assert isinstance(
        _load(tmp_path, GOOD.replace("share: 0.5", "share: 1")).entries["first.v1"].share, float
    )


BROKEN = {
    # name: (text, field, problem)
    "bad YAML": ("name: [demo\n", None, r"is not valid YAML at line 2, column 1: "),
    "empty file": ("# only a comment\n", None, "is empty"),
    "top level not a mapping": ("- a\n- b\n", None, "must be a mapping, got list ['a', 'b']"),
    "missing field": ("entries: {x: {share: 0.1}}\n", "name", "is missing"),
    "missing nested field": ("name: d\nentries: {x: {size: 2}}\n", "entries.x.share", "is missing"),
    "unknown field": (GOOD + "colour: red\n", "colour", "is not a known field (known: entries, name, tags)"),
    "unknown nested field": (
        GOOD.replace("    size: 3\n", "    size: 3\n    sise: 4\n"),
        "entries.first.v1.sise",
        "is not a known field (known: limits, note, share, size)",
    ),
    "text for a number": (GOOD.replace("share: 0.5", "share: half"), "entries.first.v1.share",
                          "must be a number, got str 'half'"),
    "boolean for a number": (GOOD.replace("share: 0.5", "share: yes"), "entries.first.v1.share",
                             "must be a number, got bool True"),
    "quoted number": (GOOD.replace("share: 0.5", "share: '0.5'"), "entries.first.v1.share",
                      "must be a number, got str '0.5'"),
    "not finite": (GOOD.replace("share: 0.5", "share: .nan"), "entries.first.v1.share", "must be a finite number"),
    "fraction for an integer": (GOOD.replace("size: 3", "size: 2.5"), "entries.first.v1.size",
                                "must be an integer, got float 2.5"),
    "above the range": (GOOD.replace("share: 0.5", "share: 1.5"), "entries.first.v1.share",
                        "must be <= 1, got float 1.5"),
    "below the range": (GOOD.replace("size: 3", "size: 0"), "entries.first.v1.size", "must be >= 1, got int 0"),
    "empty text": (GOOD.replace("name: demo", "name: '  '"), "name", "must not be empty"),
    "empty mapping": ("name: d\nentries: {}\n", "entries", "must not be empty"),
    "wrong container": (GOOD.replace("tags: [a, b]", "tags: a"), "tags", "must be a list, got str 'a'"),
    "null in a list": (GOOD.replace("tags: [a, b]", "tags: [a, null]"), "tags.1",
                       "must be a string, got nothing (null)"),
    "section not a mapping": (GOOD.replace("    size: 3\n", "    size: 3\n    limits: 4\n"),
                              "entries.first.v1.limits", "must be a mapping, got int 4"),
    "check across fields": (GOOD.replace("    size: 3\n", "    size: 3\n    limits: {low: 2, high: 1}\n"),
                            "entries.first.v1.limits.high", "must be >= low (2.0), got 1.0"),
    "several problems": (GOOD.replace("share: 0.5", "share: 2").replace("size: 3", "size: 0"),
                         "entries.first.v1.share", "must be <= 1, got int 2 (and 1 more problem)"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BROKEN))
def test_each_problem_names_the_file_the_field_and_what_is_wrong(tmp_path, case):
    text, field, problem = BROKEN[case]
    with pytest.raises(ExampleError) as raised:
        _load(tmp_path, text)
    error = raised.value
    assert isinstance(error, ConfigFileError) and isinstance(error, ValueError)
    assert (error.path, error.field, error.what) == (str(tmp_path / "example.yaml"), field, "example file")
    assert problem in error.problem
    where = f"field {field!r} " if field else ""
    assert str(error).startswith(f"example file {tmp_path / 'example.yaml'}: {where}")
    assert str(error).endswith(error.problem)


def test_an_unreadable_file_is_named(tmp_path):
    with pytest.raises(ExampleError, match="cannot be read: No such file or directory") as raised:
        load_config_file(tmp_path / "absent.yaml", Example, "example file", error=ExampleError)
    assert str(tmp_path / "absent.yaml") in str(raised.value) and raised.value.field is None


def test_the_default_error_is_the_base_class(tmp_path):
    path = tmp_path / "example.yaml"
    path.write_text("name: 3\n", encoding="utf-8")
    with pytest.raises(ConfigFileError, match=r"field 'name' must be a string, got int 3"):
        load_config_file(path, Example, "example file")


def test_the_error_survives_pickling_as_dagster_does_across_processes(tmp_path):
    with pytest.raises(ExampleError) as raised:
        _load(tmp_path, GOOD.replace("share: 0.5", "share: 2"))
    copy = pickle.loads(pickle.dumps(raised.value))
    assert type(copy) is ExampleError and str(copy) == str(raised.value)
    assert (copy.path, copy.field, copy.problem) == (
        raised.value.path,
        raised.value.field,
        raised.value.problem,
    )


def test_loaded_models_are_immutable(tmp_path):
    example = _load(tmp_path, GOOD)
    with pytest.raises(ValueError, match="frozen"):
        example.name = "other"  # type: ignore[misc]
