"""Storing fitted local labelers and choosing the one that labels, on DuckDB and PostgreSQL.

One real fit (MiniLM embeddings, the fixture's 60 reviews) is made once per module and stored
into a fresh warehouse and archive per test; the archive is a real folder. Which labeler is
resolved is the contract the cascade relies on: the best fit on the newest reviews, else the
shipped fit for this very wording of the audience, else zero-shot with a hint to add reviews.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from resources.archive import LocalArchive
from resources.models.fitted_labeler import FittedLabeler
from resources.models.local_minilm import LocalMiniLMLabeler
from scout_assets.labeling import labeler_store
from scout_assets.labeling.fit import FitOutcome, fit_labeler, load_fit_settings
from scout_assets.labeling.labeler_store import (
    fit_location,
    fits_best_first,
    latest_fit,
    latest_reviews,
    resolve_local_labeler,
    store_fit,
)
from scout_contract.labels import ProfileForLabel
from scout_contract.tables import LABELER_FITS, polars_schema
from tests.labeler_fixtures import AUDIENCE_KEY, audience, review_records, seed_reviews

PROFILE = ProfileForLabel(
    handle="someone",
    name="Jane Roe",
    bio="Qualitative UX researcher: interviews, diary studies and usability testing with patients.",
    category=None,
    followers=900,
)


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> FitOutcome:
    """One real fit on the fixture's reviews, read back from a warehouse as the asset reads them."""
    from resources.warehouse import Warehouse

    warehouse = Warehouse(url=f"duckdb://{tmp_path_factory.mktemp('fit') / 'w.duckdb'}")
    warehouse.ensure_schema()
    seed_reviews(warehouse, review_records())
    return fit_labeler(latest_reviews(warehouse, AUDIENCE_KEY), audience(), load_fit_settings())


@pytest.fixture
def archive(tmp_path: Path) -> LocalArchive:
    return LocalArchive(root=str(tmp_path / "archive"))


@pytest.fixture
def no_shipped_fit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty shipped-fits folder, so the checked-in fit (if any) cannot answer for the test."""
    folder = tmp_path / "shipped"
    folder.mkdir()
    monkeypatch.setattr(labeler_store, "SHIPPED_LABELERS_DIR", folder)
    return folder


def plant_fit_row(warehouse, **values) -> None:
    """A ``labeler_fits`` row with chosen figures (for ordering questions no real fit can pose)."""
    row = {
        "fit_id": "planted",
        "audience": AUDIENCE_KEY,
        "audience_hash": audience().content_hash,
        "reviews": 10,
        "reviews_digest": "digest-a",
        "location": "labelers/nowhere",
        "cv_accuracy": 0.5,
        "cv_precision_true": None,
        "cv_recall_true": None,
        "cv_brier": None,
        "defer_share": None,
        "metrics_json": "{}",
        "run_id": "test",
        "fitted_at": datetime(2026, 3, 1),
        **values,
    }
    warehouse.append("labeler_fits", pl.DataFrame([row], schema=polars_schema(LABELER_FITS.columns)))


def test_latest_reviews_read_back_as_the_fit_reads_them(warehouse) -> None:
    """Every review of the file comes back once, with its label, on both backends."""
    records = review_records()
    seed_reviews(warehouse, records)
    reviews = latest_reviews(warehouse, AUDIENCE_KEY)
    assert len(reviews) == len(records) == 60
    by_handle = {review.handle: review for review in reviews}
    assert {handle: by_handle[handle].label for handle in ("_allisonmorehea", "0xalevator")} == {
        "_allisonmorehea": False,
        "0xalevator": None,
    }
    assert sum(review.label is True for review in reviews) == 20
    assert latest_reviews(warehouse, "ux_research_leads.v1") == []


def test_without_reviews_or_fits_the_zero_shot_labeler_answers_and_says_how_to_add_reviews(
    warehouse, archive: LocalArchive, no_shipped_fit: Path
) -> None:
    resolved = resolve_local_labeler(warehouse, archive, audience(), defer_threshold=0.7)
    assert isinstance(resolved.labeler, LocalMiniLMLabeler)
    assert (resolved.fitted, resolved.fit_id) == (False, None)
    assert resolved.source.startswith(f"zero-shot: no reviews for {AUDIENCE_KEY}")
    assert "scout review import FILE" in resolved.source

    seed_reviews(warehouse, review_records()[:3])  # reviews, but no fit (too few for one)
    few = resolve_local_labeler(warehouse, archive, audience(), defer_threshold=0.7)
    assert not few.fitted and "no labeler fitted yet on the 3 review(s)" in few.source
    assert "scout review import FILE" in few.source


def test_a_stored_fit_is_written_once_and_resolved_with_the_callers_threshold(
    warehouse, archive: LocalArchive, outcome: FitOutcome, no_shipped_fit: Path
) -> None:
    stored = store_fit(warehouse, archive, outcome, run_id="run-1")
    fit_id = outcome.labeler.fit_id
    assert stored.added and stored.fit_id == fit_id
    assert stored.location == fit_location(AUDIENCE_KEY, fit_id) == f"labelers/{AUDIENCE_KEY}/{fit_id}"
    folder = archive.root_path() / "objects" / stored.location
    assert sorted(p.name for p in folder.iterdir() if not p.name.endswith(".meta")) == [
        "labeler.json",
        "weights.npz",
    ]

    # A retried run fits the same labeler again: same fit_id, only the card's fitted_at differs.
    # The first copy of the files stays (the archive never rewrites) and no row is added.
    refit = dataclasses.replace(outcome.labeler, card={**outcome.labeler.card, "fitted_at": "later"})
    first_card = (folder / "labeler.json").read_bytes()
    again = store_fit(warehouse, archive, dataclasses.replace(outcome, labeler=refit), run_id="run-2")
    assert not again.added and again.uri == stored.uri
    assert (folder / "labeler.json").read_bytes() == first_card
    rows = warehouse.read_table("labeler_fits")
    assert rows.height == 1 and rows["run_id"].to_list() == ["run-1"]
    row = rows.to_dicts()[0]
    assert row["reviews"] == 60 and row["cv_accuracy"] == pytest.approx(outcome.metrics["cv_accuracy"])
    assert json.loads(row["metrics_json"])["label_counts"] == outcome.metrics["label_counts"]

    resolved = resolve_local_labeler(warehouse, archive, audience(), defer_threshold=0.66)
    assert resolved.fitted and resolved.fit_id == fit_id
    assert resolved.source.startswith(f"fit {fit_id[:12]} on 60 reviews")
    assert isinstance(resolved.labeler, FittedLabeler) and resolved.labeler.defer_threshold == 0.66
    [label] = resolved.labeler.label([PROFILE], audience()).labels
    assert label.p_true is not None and 0.0 <= label.p_true <= 1.0 and label.defer in (True, False)
    # None keeps the fit's own threshold.
    own = resolve_local_labeler(warehouse, archive, audience(), defer_threshold=None)
    assert own.labeler.defer_threshold == outcome.labeler.defer_threshold


def test_fits_are_ranked_newest_reviews_first_then_best_score(warehouse) -> None:
    """A worse refit on the same reviews ranks below the better fit; newer reviews rank above both."""
    plant_fit_row(
        warehouse,
        fit_id="old-reviews-best",
        reviews_digest="d1",
        cv_accuracy=0.95,
        fitted_at=datetime(2026, 3, 1),
    )
    plant_fit_row(
        warehouse,
        fit_id="new-reviews-good",
        reviews_digest="d2",
        cv_accuracy=0.80,
        fitted_at=datetime(2026, 3, 2),
    )
    plant_fit_row(
        warehouse,
        fit_id="new-reviews-worse-refit",
        reviews_digest="d2",
        cv_accuracy=0.60,
        fitted_at=datetime(2026, 3, 3),
    )
    plant_fit_row(
        warehouse, fit_id="other-audience", audience="ux_research_leads.v1", fitted_at=datetime(2026, 3, 4)
    )
    assert [row["fit_id"] for row in fits_best_first(warehouse, AUDIENCE_KEY)] == [
        "new-reviews-good",
        "new-reviews-worse-refit",
        "old-reviews-best",
    ]
    assert latest_fit(warehouse, AUDIENCE_KEY)["fit_id"] == "new-reviews-worse-refit"
    assert latest_fit(warehouse, "no_such.v1") is None


def test_an_unreadable_fit_is_passed_over_and_named(
    warehouse, archive: LocalArchive, outcome: FitOutcome, no_shipped_fit: Path
) -> None:
    """Files lost from the archive must not stop labeling: the next fit answers, and says why."""
    store_fit(warehouse, archive, outcome, run_id="run-1")
    plant_fit_row(
        warehouse,
        fit_id="lostfiles001",
        reviews_digest="newer",
        cv_accuracy=0.99,
        location=f"labelers/{AUDIENCE_KEY}/lostfiles001",
        fitted_at=datetime(2100, 1, 1),
    )
    resolved = resolve_local_labeler(warehouse, archive, audience(), defer_threshold=None)
    assert resolved.fit_id == outcome.labeler.fit_id
    assert "fit lostfiles001 unreadable" in resolved.source and "ArchiveNotFoundError" in resolved.source


def test_the_shipped_fit_answers_only_for_the_wording_it_was_fitted_on(
    warehouse, archive: LocalArchive, outcome: FitOutcome, no_shipped_fit: Path
) -> None:
    outcome.labeler.save(no_shipped_fit / AUDIENCE_KEY)
    resolved = resolve_local_labeler(warehouse, archive, audience(), defer_threshold=None)
    assert resolved.fitted and resolved.fit_id == outcome.labeler.fit_id
    assert resolved.source.startswith(f"shipped fit {outcome.labeler.fit_id[:12]}")

    reworded = dataclasses.replace(audience(), target_profile="Someone else entirely")
    fallback = resolve_local_labeler(warehouse, archive, reworded, defer_threshold=None)
    assert not fallback.fitted and fallback.source.startswith("zero-shot")
    assert "shipped fit is for another wording" in fallback.source

    # A fit in the warehouse wins over the shipped one.
    store_fit(warehouse, archive, outcome, run_id="run-1")
    assert resolve_local_labeler(warehouse, archive, audience(), None).source.startswith("fit ")
