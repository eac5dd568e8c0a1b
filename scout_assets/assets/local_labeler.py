"""``local_labeler``: the local labeler fitted on people's reviews of one audience version.

One partition per audience version (``thelai_customers.v3``). A run reads the latest review of
every account for that audience (``scout_contract.reviews.LATEST_REVIEWS_SQL``), fits a
classifier on MiniLM embeddings with cross-validation (``scout_assets/labeling/fit.py``, settings
in labeling.yaml's ``local_labeler`` section), writes its two small files to the archive and one
``labeler_fits`` row (``scout_assets/labeling/labeler_store.py``). The data version is the
``fit_id`` (a digest of the reviews and the fit settings): the same reviews fitted the same way
are the same labeler, and re-running stores nothing new.

Which labeler labels is decided when labeling (``resolve_local_labeler``): the best fit on the
newest reviews, so a materialization never switches to a worse labeler; the ``refit_not_worse``
check says when a refit scored below an earlier fit on the same reviews.

**Too few reviews is not a failure.** With fewer reviews than ``min_reviews``, or no review of
one class, there is nothing to fit: the run succeeds *without* materializing (no new labeler
version exists, so none is recorded), logs a warning and records an observation on the partition
whose metadata says that the zero-shot labeler stays in use and how to add reviews
(``scout review import FILE``). The check is then skipped, as there is no fit to judge.
"""

import warnings
from collections.abc import Iterator
from typing import Any

import dagster as dg

from resources.archive import RawArchive
from resources.warehouse import Warehouse
from scout_assets.assets.common import LABELING_GROUP, OWNERS
from scout_assets.labeling.fit import METHOD_VERSION, NotEnoughReviews, fit_labeler, load_fit_settings
from scout_assets.labeling.labeler_store import (
    REVIEW_HINT,
    fits_best_first,
    latest_reviews,
    resolve_local_labeler,
    store_fit,
)
from scout_assets.partitions import audience_partitions
from scout_contract.audience import Audience, AudienceError, load_audiences

# The check is partitioned like the asset, so each audience version has its own verdict (an
# unpartitioned check would show whichever audience was fitted last). Dagster 1.13 still calls
# partitioned checks a preview and would warn on every load of the code location.
warnings.filterwarnings(
    "ignore", message="Specifying a partitions_def on an AssetCheckSpec is currently in preview"
)

ASSET_KEY = dg.AssetKey("local_labeler")
CHECK_NAME = "refit_not_worse"
# The fit method's version (fit.py bumps it when features, classifier or calibration change):
# Dagster then shows every partition fitted by an older method as changed code.
FIT_CODE_VERSION = METHOD_VERSION
# How much lower a refit's cross-validated accuracy may be than an earlier fit on the same
# reviews before the check fails: one point. Fits of the same reviews with the same folds differ
# only by their settings; below a point the gap is a handful of rows, i.e. noise.
REFIT_TOLERANCE = 0.01
# Said next to every figure: reviews come from the review queue (uncertain profiles first) or a
# file, not from a random draw of search results.
FIGURES_NOTE = (
    "5-fold cross-validated on this audience's reviews; reviews are chosen (the review queue asks "
    "about uncertain profiles first, imports are curated), not a random draw of search results"
)


@dg.asset(
    key=ASSET_KEY,
    partitions_def=audience_partitions,
    group_name=LABELING_GROUP,
    owners=OWNERS,
    kinds={"python", "scikitlearn"},
    code_version=FIT_CODE_VERSION,
    output_required=False,
    description=__doc__,
)
def local_labeler(
    context: dg.AssetExecutionContext, warehouse: Warehouse, archive: RawArchive
) -> Iterator[dg.MaterializeResult | dg.AssetObservation]:
    audience = _audience(context.partition_key)
    warehouse.ensure_schema()
    reviews = latest_reviews(warehouse, audience.key)
    settings = load_fit_settings()
    try:
        outcome = fit_labeler(reviews, audience, settings)
    except NotEnoughReviews as exc:
        in_use = resolve_local_labeler(warehouse, archive, audience, None)
        message = (
            f"no labeler fitted for {audience.key}: {exc}. The labeler in use stays: {in_use.source}. "
            f"To fit one, {REVIEW_HINT} (or review profiles on the dashboard's Review page)."
        )
        context.log.warning(message)
        yield dg.AssetObservation(
            asset_key=ASSET_KEY,
            partition=audience.key,
            description=message,
            metadata={
                "fitted": False,
                "reviews": len(reviews),
                "reviews_per_label": _label_counts_md(_count_labels(reviews)),
                "min_reviews": settings.min_reviews,
                "labeler_in_use": in_use.source,
                "how_to_add_reviews": REVIEW_HINT,
            },
        )
        return

    stored = store_fit(warehouse, archive, outcome, context.run.run_id)
    in_use = resolve_local_labeler(warehouse, archive, audience, None)
    metrics = outcome.metrics
    yield dg.MaterializeResult(
        data_version=dg.DataVersion(stored.fit_id),
        metadata={
            "fit_id": stored.fit_id,
            "location": dg.MetadataValue.url(stored.uri) if "://" in stored.uri else stored.uri,
            "new_fit": stored.added,
            "reviews": int(metrics["reviews"]),
            "reviews_digest": stored.row["reviews_digest"],
            "reviews_per_label": _label_counts_md(metrics["label_counts"]),
            "cv_accuracy": _float(metrics["cv_accuracy"]),
            "cv_precision_true": _float(metrics["cv_precision_true"]),
            "cv_recall_true": _float(metrics["cv_recall_true"]),
            "cv_brier": _float(metrics["cv_brier"]),
            "defer_share": _float(metrics["defer_share"]),
            "calibration": _calibration_md(metrics["calibration"]),
            "cascade_note": str(metrics.get("cascade_note", "")),
            "folds": int(metrics["folds"]),
            "fit_seconds": _float(outcome.fit_seconds),
            "figures_note": FIGURES_NOTE,
            "labeler_in_use": in_use.source,
        },
    )


@dg.asset_check(
    asset=local_labeler,
    name=CHECK_NAME,
    partitions_def=audience_partitions,
    blocking=False,
    description=(
        "Fails when this fit's cross-validated accuracy is below an earlier fit's on the same reviews "
        f"(same reviews_digest) by more than {REFIT_TOLERANCE}."
    ),
)
def refit_not_worse(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
    """Is the latest fit of this audience at least as good as the earlier fits on the same reviews?

    "Worse" is strict and tolerant: the check fails only when this fit's cross-validated accuracy
    is below the best earlier fit's on the same ``reviews_digest`` minus ``REFIT_TOLERANCE`` (0.01).
    The best earlier fit is the one that labels (``resolve_local_labeler`` takes the highest score
    on the newest reviews), so a failure means "this refit is not used, and the change that made
    it (fit settings, fit code) made things worse". Fits on other reviews are not compared: a
    score on other data says nothing about this one.

    Not blocking: nothing downstream of the labeler runs in the fit job, and the worse fit is never
    used anyway; a failed run would only invite retries of a deterministic result.
    """
    audience = context.op_execution_context.partition_key
    fit_id = _materialized_fit_id(context.instance, audience)
    if fit_id is None:
        return dg.AssetCheckResult(passed=True, metadata={"note": f"{audience} has no fit to judge yet"})
    verdict = judge_refit(fits_best_first(warehouse, audience), fit_id)
    return dg.AssetCheckResult(
        passed=verdict["passed"],
        severity=dg.AssetCheckSeverity.ERROR,
        description=verdict["summary"],
        metadata={k: v for k, v in verdict.items() if k != "passed"},
    )


def judge_refit(fits: list[dict[str, Any]], fit_id: str) -> dict[str, Any]:
    """The check's verdict for ``fit_id`` among an audience's ``labeler_fits`` rows (pure)."""
    this = next((row for row in fits if row["fit_id"] == fit_id), None)
    if this is None:
        return {
            "passed": False,
            "summary": f"fit {fit_id[:12]} is materialized but has no labeler_fits row",
            "fit_id": fit_id,
        }
    earlier = [
        row
        for row in fits
        if row["reviews_digest"] == this["reviews_digest"]
        and row["fit_id"] != fit_id
        and row["fitted_at"] <= this["fitted_at"]
        and row["cv_accuracy"] is not None
    ]
    score = this["cv_accuracy"]
    figures: dict[str, Any] = {
        "fit_id": fit_id,
        "cv_accuracy": _float(score),
        "reviews_digest": this["reviews_digest"],
        "tolerance": REFIT_TOLERANCE,
        "earlier_fits_on_these_reviews": len(earlier),
    }
    if not earlier:
        return {"passed": True, "summary": "first fit on these reviews: nothing to compare", **figures}
    best = max(earlier, key=lambda row: row["cv_accuracy"])
    figures |= {"previous_fit_id": best["fit_id"], "previous_cv_accuracy": _float(best["cv_accuracy"])}
    passed = score is not None and score >= best["cv_accuracy"] - REFIT_TOLERANCE
    summary = (
        f"cv accuracy {_show(score)} vs {_show(best['cv_accuracy'])} of fit {best['fit_id'][:12]} "
        f"on the same reviews"
        + ("" if passed else f": worse by more than {REFIT_TOLERANCE}; the earlier fit stays in use")
    )
    return {"passed": passed, "summary": summary, **figures}


def _materialized_fit_id(instance: dg.DagsterInstance, audience: str) -> str | None:
    """The ``fit_id`` of the latest materialization of one partition (what the check judges)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=ASSET_KEY, asset_partitions=[audience]), limit=1
    ).records
    if not records or records[0].asset_materialization is None:
        return None
    value = records[0].asset_materialization.metadata.get("fit_id")
    return None if value is None else str(value.value)


def _audience(key: str) -> Audience:
    try:
        audiences = load_audiences()
    except AudienceError as exc:
        raise dg.Failure(f"cannot fit a labeler for {key}: {exc}") from exc
    if key not in audiences:
        raise dg.Failure(f"no audience file for partition {key!r}; known: {sorted(audiences)}")
    return audiences[key]


def _count_labels(reviews: list[Any]) -> dict[str, int]:
    counts = {"true": 0, "false": 0, "null": 0}
    for review in reviews:
        counts["null" if review.label is None else ("true" if review.label else "false")] += 1
    return counts


def _label_counts_md(counts: dict[str, int]) -> dg.MetadataValue:
    lines = ["| label | reviews |", "|---|---:|"]
    lines += [f"| {label} | {count} |" for label, count in counts.items()]
    return dg.MetadataValue.md("\n".join(lines))


def _calibration_md(bins: list[dict[str, Any]]) -> dg.MetadataValue:
    """The calibration bins as a markdown table (one row per bin of predicted probability)."""
    if not bins:
        return dg.MetadataValue.md("no calibration bins")
    columns = list(bins[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---:|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(column)) for column in columns) + " |" for row in bins]
    return dg.MetadataValue.md("\n".join(lines))


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _float(value: Any) -> float | None:
    return None if value is None else round(float(value), 4)


def _show(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
