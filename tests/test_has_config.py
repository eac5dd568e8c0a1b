"""has.yaml: it carries every number of the predecessor's config, versions itself, and fails loudly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from scout_assets.domain.has import DEFAULT_CONFIG_PATH, HasConfigError, load_has_config, score_profiles
from tests.has_fixtures import AS_OF, frame, profile

# §2.6 of the predecessor's functional reference, copied verbatim (tests/fixtures/README.md).
REFERENCE = Path(__file__).resolve().parent / "fixtures" / "domain" / "REFERENCE-2.6-has-config.md"
DEFAULT_TEXT = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "has.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", r"_\1", name).lower()


def test_every_number_of_the_predecessor_config_is_carried_over():
    # Rows of REFERENCE §2.6 look like "| penalties | spamPattern | 0.5 | yes |".
    table = re.findall(r"^\| (\w+) \| (\w+) \| ([\d.]+) \| ", REFERENCE.read_text(encoding="utf-8"), re.M)
    assert len(table) == 44
    settings = load_has_config().to_dict()
    for section, key, value in table:
        assert settings[_snake(section)][_snake(key)] == float(value), (section, key)
    assert settings["queue_threshold"] == 0.65


def test_version_is_a_short_hash_and_stable():
    config = load_has_config()
    assert re.fullmatch(r"[0-9a-f]{12}", config.version)
    assert load_has_config(DEFAULT_CONFIG_PATH).version == config.version


def test_layout_comments_and_number_spelling_do_not_change_the_version(tmp_path):
    text = "# a new comment\n" + DEFAULT_TEXT.replace(
        "optimal_max: 2\n", "optimal_max: 2.0   # same number\n"
    )
    assert "optimal_max: 2.0" in text
    assert load_has_config(_write(tmp_path, text)).version == load_has_config().version


def test_changing_a_number_changes_the_version_on_every_scored_row(tmp_path):
    assert "spam_pattern: 0.5\n" in DEFAULT_TEXT
    tuned = load_has_config(
        _write(tmp_path, DEFAULT_TEXT.replace("spam_pattern: 0.5\n", "spam_pattern: 0.4\n"))
    )
    default = load_has_config()
    assert tuned.version != default.version
    rows = [profile(following=6000, followers=60), profile()]
    before, after = (score_profiles(frame(rows), c, AS_OF) for c in (default, tuned))
    assert set(after["has_version"]) == {tuned.version} and set(before["has_version"]) == {default.version}
    assert after["has"][0] < before["has"][0]
    assert after["has"][1] == before["has"][1]


BROKEN = {
    "bad YAML": (lambda t: t.replace("penalties:\n", "penalties: [\n"), None, r"not valid YAML at line \d+"),
    "missing key": (lambda t: t.replace("  spam_pattern: 0.5\n", ""), "penalties.spam_pattern", "is missing"),
    "missing section": (lambda t: t.replace("queue_threshold: 0.65\n", ""), "queue_threshold", "is missing"),
    "text weight": (lambda t: t.replace("  custom: 0.10\n", "  custom: high\n"), "person_weights.custom",
                    "must be a number, got str 'high'"),
    "boolean weight": (lambda t: t.replace("  custom: 0.10\n", "  custom: yes\n"), "person_weights.custom",
                       "must be a number, got bool"),
    "section not a mapping": (lambda t: yaml.safe_dump({**yaml.safe_load(t), "penalties": 3}), "penalties",
                              "must be a mapping, got int 3"),
    "unknown key": (lambda t: t.replace("  custom: 0.10\n", "  custom: 0.10\n  kustom: 0.1\n"),
                    "person_weights.kustom", r"is not a known field \(known: age, balanced, custom, "),
    "unknown section": (lambda t: t + "extra: 1\n", "extra", "is not a known field"),
    "penalty above one": (lambda t: t.replace("  spam_pattern: 0.5\n", "  spam_pattern: 1.5\n"),
                          "penalties.spam_pattern", "must be <= 1, got float 1.5"),
    "penalty of zero": (lambda t: t.replace("  spam_pattern: 0.5\n", "  spam_pattern: 0\n"),
                        "penalties.spam_pattern", "must be > 0, got int 0"),
    "queue threshold above one": (lambda t: t.replace("queue_threshold: 0.65\n", "queue_threshold: 2\n"),
                                  "queue_threshold", "must be <= 1"),
    "infinite threshold": (lambda t: t.replace("  very_new_days: 30 ", "  very_new_days: .inf "),
                           "penalty_thresholds.very_new_days", "must be a finite number"),
    "activity thresholds out of order": (lambda t: t.replace("  low: 0.5\n", "  low: 0.05\n"),
                                         "activity_thresholds.low", "must be above very_low"),
    "activity maxima out of order": (lambda t: t.replace("  high_max: 4\n", "  high_max: 1\n"),
                                     "activity_thresholds.high_max", r"must be >= optimal_max \(2.0\)"),
    "not a mapping at all": (lambda t: "- 1\n- 2\n", None, "must be a mapping, got list"),
    "empty file": (lambda t: "# nothing\n", None, "is empty"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_config_names_the_file_and_the_field(tmp_path, case):
    edit, key, problem = BROKEN[case]
    text = edit(DEFAULT_TEXT)
    assert text != DEFAULT_TEXT
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=problem) as raised:
        load_has_config(path)
    assert isinstance(raised.value, HasConfigError)
    assert str(path) in str(raised.value)
    if key:
        assert f"field {key!r}" in str(raised.value) and raised.value.field == key


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ValueError, match=re.escape(str(tmp_path / "nope.yaml"))):
        load_has_config(tmp_path / "nope.yaml")
