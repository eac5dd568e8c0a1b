"""The ``local_labeler`` asset and its ``refit_not_worse`` check, materialized for real.

Runs go through Dagster (``dg.materialize`` and the ``scout_labeler_fit`` job) on a real DuckDB
warehouse (and one PostgreSQL run), a real archive folder and real MiniLM embeddings, fitting on
the fixture's 60 reviews (tests/fixtures/README.md; a curated sample, so its figures are no
measure of accuracy).

The worse refit is planted through the fit settings: the asset reads them from labeling.yaml,
which a test must not edit, so ``load_fit_settings`` is replaced in the asset's module by one
returning settings that fit badly. That is exactly what a person's edit of labeling.yaml would
do, and it is the case the check exists for: same reviews, new settings, lower score.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from resources.archive import LocalArchive
from scout_assets.assets import local_labeler as asset_module
from scout_assets.assets.local_labeler import (
    CHECK_NAME,
    REFIT_TOLERANCE,
    judge_refit,
    local_labeler,
    refit_not_worse,
)
from scout_assets.jobs import labeler_fit_job
from scout_assets.labeling import labeler_store
from scout_assets.labeling.fit import FitSettings, load_fit_settings
from scout_assets.labeling.labeler_store import resolve_local_labeler
from tests.labeler_fixtures import AUDIENCE_KEY, audience, review_records, seed_reviews

ASSETS = [local_labeler, refit_not_worse]


@pytest.fixture
def archive(tmp_path: Path) -> LocalArchive:
    return LocalArchive(root=str(tmp_path / "archive"))


@pytest.fixture
def instance() -> dg.DagsterInstance:
    return dg.DagsterInstance.ephemeral()


@pytest.fixture(autouse=True)
def no_shipped_fit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No shipped fit answers in these tests: "in use" is then the fits of the test or zero-shot."""
    folder = tmp_path / "shipped"
    folder.mkdir()
    monkeypatch.setattr(labeler_store, "SHIPPED_LABELERS_DIR", folder)


def materialize(warehouse, archive, instance, key: str = AUDIENCE_KEY) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ASSETS,
        partition_key=key,
        instance=instance,
        resources={"warehouse": warehouse, "archive": archive},
    )


def metadata_of(result: dg.ExecuteInProcessResult) -> dict:
    [event] = result.asset_materializations_for_node("local_labeler")
    return {name: value.value for name, value in event.metadata.items()}


def check_of(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.check_name == CHECK_NAME and evaluation.partition == AUDIENCE_KEY
    return evaluation


def worse_settings() -> FitSettings:
    """Settings that fit badly on purpose (see the module docstring for why this is patched)."""
    return load_fit_settings().model_copy(update=WORSE)


# A regularization so strong the classifier can only learn the class shares: it then predicts
# the commonest label for everyone, far below a real fit.
WORSE = {"c": 1e-5}


def test_a_fit_materializes_with_its_figures_and_version(duckdb_warehouse, archive, instance) -> None:
    seed_reviews(duckdb_warehouse, review_records())
    result = materialize(duckdb_warehouse, archive, instance)
    assert result.success
    meta = metadata_of(result)
    [row] = duckdb_warehouse.read_table("labeler_fits").to_dicts()
    assert meta["fit_id"] == row["fit_id"]
    [event] = result.asset_materializations_for_node("local_labeler")
    assert event.tags["dagster/data_version"] == row["fit_id"]
    assert event.tags["dagster/code_version"] == asset_module.FIT_CODE_VERSION
    for name in ("cv_accuracy", "cv_precision_true", "cv_recall_true", "cv_brier", "defer_share"):
        assert 0.0 <= meta[name] <= (2.0 if name == "cv_brier" else 1.0), name  # 3-class Brier: 0..2
        assert meta[name] == pytest.approx(row[name], abs=1e-4), name
    assert meta["reviews"] == 60 and meta["new_fit"] is True and meta["fit_seconds"] > 0
    assert "| true | 20 |" in meta["reviews_per_label"] and "| false | 25 |" in meta["reviews_per_label"]
    assert meta["calibration"].count("\n") >= 2  # a header, a rule and at least one bin
    assert meta["location"].startswith("file://") and meta["location"].endswith("/labeler.json")
    assert Path(meta["location"].removeprefix("file://")).is_file()
    assert meta["labeler_in_use"].startswith(f"fit {row['fit_id'][:12]}")
    assert "not a random draw" in meta["figures_note"]

    evaluation = check_of(result)
    assert evaluation.passed and "first fit on these reviews" in evaluation.description


def test_the_same_reviews_fitted_again_are_the_same_version(duckdb_warehouse, archive, instance) -> None:
    seed_reviews(duckdb_warehouse, review_records())
    first = metadata_of(materialize(duckdb_warehouse, archive, instance))
    again = materialize(duckdb_warehouse, archive, instance)
    assert metadata_of(again)["fit_id"] == first["fit_id"] and metadata_of(again)["new_fit"] is False
    assert duckdb_warehouse.read_table("labeler_fits").height == 1
    assert check_of(again).passed


def test_a_worse_refit_fails_the_check_and_is_not_used(
    duckdb_warehouse, archive, instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_reviews(duckdb_warehouse, review_records())
    good = metadata_of(materialize(duckdb_warehouse, archive, instance))

    monkeypatch.setattr(asset_module, "load_fit_settings", worse_settings)
    result = materialize(duckdb_warehouse, archive, instance)
    assert result.success  # the check is not blocking: the run succeeds, the check fails
    worse = metadata_of(result)
    assert worse["fit_id"] != good["fit_id"] and worse["reviews_digest"] == good["reviews_digest"]
    assert worse["cv_accuracy"] < good["cv_accuracy"] - REFIT_TOLERANCE, "the planted refit must be worse"

    evaluation = check_of(result)
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    figures = {name: value.value for name, value in evaluation.metadata.items()}
    assert figures["cv_accuracy"] == pytest.approx(worse["cv_accuracy"], abs=1e-4)
    assert figures["previous_cv_accuracy"] == pytest.approx(good["cv_accuracy"], abs=1e-4)
    assert figures["previous_fit_id"] == good["fit_id"]
    assert worse["labeler_in_use"].startswith(f"fit {good['fit_id'][:12]}")

    resolved = resolve_local_labeler(duckdb_warehouse, archive, audience(), None)
    assert resolved.fit_id == good["fit_id"]


def test_too_few_reviews_succeeds_without_a_new_version_and_says_why(
    duckdb_warehouse, archive, instance
) -> None:
    seed_reviews(duckdb_warehouse, review_records()[:3])
    result = materialize(duckdb_warehouse, archive, instance)
    assert result.success
    assert result.asset_materializations_for_node("local_labeler") == []
    assert result.get_asset_check_evaluations() == []  # nothing fitted, nothing to judge
    [observation] = result.get_asset_observation_events()
    observed = observation.asset_observation_data.asset_observation
    assert observed.partition == AUDIENCE_KEY
    assert observed.metadata["fitted"].value is False
    assert observed.metadata["labeler_in_use"].value.startswith("zero-shot")
    assert "scout review import FILE" in observed.description
    assert duckdb_warehouse.read_table("labeler_fits").is_empty()


def test_the_fit_job_runs_on_postgres(postgres_warehouse, archive, instance) -> None:
    """The job the refit sensor launches, end to end on the production backend."""
    seed_reviews(postgres_warehouse, review_records())
    defs = dg.Definitions(
        assets=ASSETS,
        jobs=[labeler_fit_job],
        resources={"warehouse": postgres_warehouse, "archive": archive},
    )
    result = defs.resolve_job_def(labeler_fit_job.name).execute_in_process(
        partition_key=AUDIENCE_KEY, instance=instance
    )
    assert result.success
    [row] = postgres_warehouse.read_table("labeler_fits").to_dicts()
    assert metadata_of(result)["fit_id"] == row["fit_id"] and check_of(result).passed


def test_judge_refit_tolerance_is_strict() -> None:
    """At exactly previous - tolerance the refit passes; a hair below it fails."""
    from datetime import datetime

    def row(fit_id: str, score: float, day: int) -> dict:
        return {
            "fit_id": fit_id,
            "reviews_digest": "d",
            "cv_accuracy": score,
            "fitted_at": datetime(2026, 3, day),
        }

    base = 0.80
    assert judge_refit([row("a", base, 1), row("b", base - REFIT_TOLERANCE, 2)], "b")["passed"]
    assert not judge_refit([row("a", base, 1), row("b", base - REFIT_TOLERANCE - 0.001, 2)], "b")["passed"]
    # Another set of reviews is never compared.
    other = {**row("c", 0.99, 1), "reviews_digest": "other"}
    assert judge_refit([other, row("b", 0.5, 2)], "b")["passed"]
