"""Audience files: the checked-in ones, the predecessor's, and clear errors for broken files."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from scout_contract.audience import (
    AUDIENCES_DIR,
    Audience,
    AudienceError,
    load_audience,
    load_audiences,
)

# The predecessor's audience files, byte copies (tests/fixtures/README.md).
PREDECESSOR_AUDIENCES = Path(__file__).resolve().parent / "fixtures" / "audiences"

VALID = {
    "targetProfile": "UX researcher",
    "sector": "industry",
    "highSignals": ["usability testing"],
    "lowSignals": ["brand account"],
    "nullSignals": ["product designer who mentions research"],
    "domainContext": "They run studies with users.",
    "notes": "test",
}


def _write(tmp_path: Path, data: object, name: str = "ux_leads.v1.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_checked_in_audiences_load_with_key_and_hash() -> None:
    audiences = load_audiences()
    assert set(audiences) == {"thelai_customers.v3", "ux_research_leads.v1"}
    thelai = audiences["thelai_customers.v3"]
    assert (thelai.name, thelai.version, thelai.key) == ("thelai_customers", "v3", "thelai_customers.v3")
    assert thelai.sector == "academia" and thelai.target_profile == "qualitative researcher"
    assert (len(thelai.high_signals), len(thelai.low_signals), len(thelai.null_signals)) == (8, 11, 5)
    assert len(thelai.content_hash) == 12
    assert audiences["ux_research_leads.v1"].sector == "industry"
    assert load_audience(AUDIENCES_DIR / "thelai_customers.v3.json") == thelai


@pytest.mark.parametrize(("version", "counts"), [("v1", (7, 9, 0)), ("v2", (8, 9, 0)), ("v3", (8, 11, 5))])
def test_predecessor_audience_files_load_unchanged(version: str, counts: tuple[int, int, int]) -> None:
    path = PREDECESSOR_AUDIENCES / f"thelai_customers.{version}.json"
    audience = load_audience(path)
    assert (len(audience.high_signals), len(audience.low_signals), len(audience.null_signals)) == counts
    assert audience.key == f"thelai_customers.{version}"


def test_checked_in_v3_sends_the_same_content_as_the_predecessor_v3() -> None:
    path = PREDECESSOR_AUDIENCES / "thelai_customers.v3.json"
    assert load_audience(path).content_hash == load_audiences()["thelai_customers.v3"].content_hash


def test_content_hash_follows_model_facing_fields_only() -> None:
    audience = load_audiences()["thelai_customers.v3"]
    assert replace(audience, notes="edited changelog").content_hash == audience.content_hash
    assert replace(audience, null_signals=audience.null_signals[:-1]).content_hash != audience.content_hash
    assert replace(audience, sector="industry").content_hash != audience.content_hash


def test_optional_fields_default_when_absent(tmp_path: Path) -> None:
    data = {k: v for k, v in VALID.items() if k not in ("nullSignals", "notes")}
    audience = load_audience(_write(tmp_path, data))
    assert audience.null_signals == () and audience.notes == ""
    assert isinstance(audience, Audience)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: d.pop("targetProfile"), "missing required field 'targetProfile'"),
        (lambda d: d.pop("domainContext"), "missing required field 'domainContext'"),
        (lambda d: d.update(sector="military"), "field 'sector' must be one of academia|industry"),
        (lambda d: d.update(sector=3), "field 'sector' must be a non-empty string"),
        (lambda d: d.update(highSignals="qualitative"), "field 'highSignals' must be a list of strings"),
        (lambda d: d.update(highSignals=[]), "field 'highSignals' must list at least one signal"),
        (lambda d: d.update(lowSignals=["ok", 5]), "field 'lowSignals' item 1 must be a non-empty string"),
        (lambda d: d.update(nullSignals=[""]), "field 'nullSignals' item 0"),
        (lambda d: d.update(targetProfile="  "), "field 'targetProfile' must be a non-empty string"),
        (lambda d: d.update(notes=["x"]), "field 'notes' must be a string"),
        (lambda d: d.update(nullSignal=["typo"]), "unknown field 'nullSignal'"),
    ],
)
def test_broken_fields_name_the_file_and_field(tmp_path: Path, mutate, match: str) -> None:
    data = json.loads(json.dumps(VALID))
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(AudienceError, match=match) as caught:
        load_audience(path)
    assert str(path) in str(caught.value)


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, '{\n  "targetProfile": "x",\n  "sector": academia\n}')
    with pytest.raises(AudienceError, match=r"invalid JSON at line 3") as caught:
        load_audience(path)
    assert str(path) in str(caught.value)


def test_top_level_must_be_an_object(tmp_path: Path) -> None:
    with pytest.raises(AudienceError, match="top level must be a JSON object"):
        load_audience(_write(tmp_path, [VALID]))


@pytest.mark.parametrize("name", ["ux_leads.json", "ux_leads.latest.json", "UX.v1.json", "ux_leads.v1.yaml"])
def test_file_name_must_carry_name_and_version(tmp_path: Path, name: str) -> None:
    with pytest.raises(AudienceError, match=name.replace(".", r"\.")):
        load_audience(_write(tmp_path, VALID, name))


def test_predecessor_scripts_copy_is_rejected_for_its_name() -> None:
    path = PREDECESSOR_AUDIENCES / "thelai_customers.scripts-copy.json"
    with pytest.raises(AudienceError, match="version like v3"):
        load_audience(path)


def test_one_broken_file_fails_the_whole_folder(tmp_path: Path) -> None:
    _write(tmp_path, VALID, "good.v1.json")
    assert set(load_audiences(tmp_path)) == {"good.v1"}
    _write(tmp_path, {**VALID, "sector": "space"}, "bad.v2.json")
    with pytest.raises(AudienceError, match=r"bad\.v2\.json.*sector"):
        load_audiences(tmp_path)


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(AudienceError, match="does not exist"):
        load_audiences(tmp_path / "nope")
