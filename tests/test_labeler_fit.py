"""The fitted local labeler: the fixed command-line contract, its files, and its honesty.

An outside evaluation drives exactly ``scout labeler fit --audience A.json --labels FILE --out DIR``
and ``scout label --model local-minilm --labeler DIR --audience A.json --input P.jsonl --output
L.jsonl``; these tests run those commands in-process (``scout_cli.main.main``) on 60 real reviews
(tests/fixtures/labeler/human_labels.sample.jsonl) with the real MiniLM model and scikit-learn.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from resources.models.fitted_labeler import (
    CARD_FILE,
    WEIGHTS_FILE,
    FittedLabeler,
    LabelerFileError,
    shipped_labeler_dir,
)
from scout_assets.labeling.fit import NotEnoughReviews, ReviewedProfile, fit_labeler, reviews_digest
from scout_assets.labeling.fit_settings import FitSettings
from scout_cli.main import main
from scout_contract.audience import AUDIENCES_DIR, load_audience

FIXTURE = Path(__file__).parent / "fixtures" / "labeler" / "human_labels.sample.jsonl"
AUDIENCE_FILE = AUDIENCES_DIR / "thelai_customers.v3.json"
OTHER_AUDIENCE_FILE = AUDIENCES_DIR / "ux_research_leads.v1.json"


def fixture_reviews() -> list[ReviewedProfile]:
    from scout_contract.reviews import parse_review_lines

    records = parse_review_lines(FIXTURE.read_text(encoding="utf-8").splitlines(), str(FIXTURE))
    return [ReviewedProfile.from_record(r) for r in records]


@pytest.fixture(scope="module")
def fitted_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("labeler") / "fit"
    code = main(
        ["labeler", "fit", "--audience", str(AUDIENCE_FILE), "--labels", str(FIXTURE), "--out", str(out)]
    )
    assert code == 0
    return out


def test_fit_writes_a_card_with_cross_validated_figures_and_no_profile_text(fitted_dir: Path) -> None:
    card = json.loads((fitted_dir / CARD_FILE).read_text())
    audience = load_audience(AUDIENCE_FILE)
    assert card["audience"] == "thelai_customers.v3"
    assert card["audience_hash"] == audience.content_hash
    assert card["trained_on"]["reviews"] == 60
    assert card["trained_on"]["label_counts"] == {"true": 20, "false": 25, "null": 15}
    metrics = card["metrics"]
    for key in ("cv_accuracy", "cv_precision_true", "cv_recall_true", "cv_brier", "defer_share"):
        assert 0.0 <= metrics[key] <= 2.0, key
    # Better than always answering the majority class (25 of 60 false) on held-out folds.
    assert metrics["cv_accuracy"] > 25 / 60
    assert sum(b["profiles"] for b in metrics["calibration"]) == 60
    # No word of any reviewed profile is stored: not in the card, and the weights are numbers only.
    text = (fitted_dir / CARD_FILE).read_text().lower()
    for review in fixture_reviews():
        assert review.handle.lower() not in text
        assert review.bio.lower()[:40] not in text or not review.bio.strip()
    with np.load(fitted_dir / WEIGHTS_FILE, allow_pickle=False) as arrays:
        assert all(np.issubdtype(arrays[name].dtype, np.number) for name in arrays.files)


def test_label_command_writes_the_fixed_output_contract(fitted_dir: Path, tmp_path: Path) -> None:
    profiles = tmp_path / "profiles.jsonl"
    rows = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    profiles.write_text(
        "\n".join(
            json.dumps({k: r[k] for k in ("handle", "name", "bio", "category", "followers")}) for r in rows
        )
    )
    out = tmp_path / "labels.jsonl"
    code = main(
        [
            "label",
            "--model",
            "local-minilm",
            "--labeler",
            str(fitted_dir),
            "--audience",
            str(AUDIENCE_FILE),
            "--input",
            str(profiles),
            "--output",
            str(out),
        ]
    )
    assert code == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["handle"] for line in lines] == [r["handle"] for r in rows]
    threshold = json.loads((fitted_dir / CARD_FILE).read_text())["defer_threshold"]
    for line in lines:
        assert line["label"] in (True, False, None)
        assert 0.0 <= line["p_true"] <= 1.0
        assert isinstance(line["defer"], bool)
        if line["p_true"] > 0.5:
            assert line["label"] is True
        if line["label"] is True and not line["defer"]:
            assert line["p_true"] >= threshold  # not deferred: the top class is at least the threshold
    # On its own training rows the final model must mostly reproduce the person's labels.
    person = {r["handle"]: {"true": True, "false": False}.get(r["human_label"]) for r in rows}
    agree = sum(line["label"] is person[line["handle"]] for line in lines) / len(lines)
    assert agree > 0.8


def test_a_fit_is_deterministic_for_the_same_reviews() -> None:
    audience = load_audience(AUDIENCE_FILE)
    reviews = fixture_reviews()
    first = fit_labeler(reviews, audience, FitSettings())
    second = fit_labeler(list(reversed(reviews)), audience, FitSettings())
    assert reviews_digest(reviews) == reviews_digest(list(reversed(reviews)))
    assert first.labeler.fit_id == second.labeler.fit_id
    assert first.metrics["cv_accuracy"] == second.metrics["cv_accuracy"]
    # Different settings are a different fit.
    other = fit_labeler(reviews, audience, FitSettings(c=0.01))
    assert other.labeler.fit_id != first.labeler.fit_id


def test_labeling_another_audience_is_refused(fitted_dir: Path, tmp_path: Path, capsys) -> None:
    profiles = tmp_path / "p.jsonl"
    profiles.write_text(json.dumps({"handle": "a", "name": "A", "bio": "sociologist"}) + "\n")
    code = main(
        [
            "label",
            "--model",
            "local-minilm",
            "--labeler",
            str(fitted_dir),
            "--audience",
            str(OTHER_AUDIENCE_FILE),
            "--input",
            str(profiles),
            "--output",
            str(tmp_path / "out.jsonl"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "thelai_customers.v3" in err and "ux_research_leads.v1" in err


def test_too_few_reviews_is_a_clear_error(tmp_path: Path, capsys) -> None:
    few = tmp_path / "few.jsonl"
    few.write_text("\n".join(FIXTURE.read_text().splitlines()[:10]) + "\n")
    code = main(
        [
            "labeler",
            "fit",
            "--audience",
            str(AUDIENCE_FILE),
            "--labels",
            str(few),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "at least 30" in err and "scout review import" in err
    assert not (tmp_path / "o").exists()
    with pytest.raises(NotEnoughReviews, match="of each of true and false"):
        only_false = [r for r in fixture_reviews() if r.label is not True]
        fit_labeler(only_false, load_audience(AUDIENCE_FILE), FitSettings())


def test_a_broken_or_hostile_fit_file_is_refused_naming_the_file(fitted_dir: Path, tmp_path: Path) -> None:
    files = {name: (fitted_dir / name).read_bytes() for name in (CARD_FILE, WEIGHTS_FILE)}
    with pytest.raises(LabelerFileError, match=r"labeler\.json: not valid JSON"):
        FittedLabeler.from_files({**files, CARD_FILE: b"{not json"}, "somewhere")
    wrong = json.loads(files[CARD_FILE]) | {"format": "other/9"}
    with pytest.raises(LabelerFileError, match="format must be"):
        FittedLabeler.from_files({**files, CARD_FILE: json.dumps(wrong).encode()}, "somewhere")
    # A weights file holding a pickled object must never be unpickled (it could run code).
    buffer = io.BytesIO()
    np.savez(buffer, embedding_weights=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(LabelerFileError, match=r"weights\.npz: unreadable"):
        FittedLabeler.from_files({**files, WEIGHTS_FILE: buffer.getvalue()}, "somewhere")
    with pytest.raises(LabelerFileError, match="no such labeler folder"):
        FittedLabeler.load(tmp_path / "missing")


def test_the_shipped_fit_is_for_the_bundled_audience_and_stays_small() -> None:
    folder = shipped_labeler_dir("thelai_customers.v3")
    labeler = FittedLabeler.load(folder)
    assert labeler.audience_hash == load_audience(AUDIENCE_FILE).content_hash
    assert labeler.card["trained_on"]["reviews"] == 446
    assert (folder / "TRAINING.md").is_file()
    total = sum(p.stat().st_size for p in folder.iterdir())
    assert total < 300_000, f"the shipped fit is {total} bytes; keep git lean (a head, not a body)"
