"""Fit the local labeler on people's reviews of one audience version, and say how good it is.

The model is deliberately small (see ``resources/models/fitted_labeler.py``): a multinomial
logistic regression over frozen MiniLM embeddings and hashed word n-gram TF-IDF. What this
module adds is the honest part:

- **Cross-validation.** The reviews are split into ``folds`` stratified folds (seeded, so a
  refit on the same reviews sees the same folds); every review is predicted once by a model
  that never saw it. Accuracy, precision and recall of ``true``, the Brier score, the share
  deferred and a calibration table come from those out-of-fold predictions.
- **Calibration.** One temperature is fitted on the out-of-fold class scores (minimum log
  loss), so ``p_true`` from the final model, fitted on every review, is a probability a
  person can read, and the defer threshold means the same thing from one fit to the next.
- **Identity.** ``fit_id`` is a digest of the reviews, the settings and the method version:
  the same reviews and settings always give the same fit, which is the asset's data version.

Reviews of one account are de-duplicated (the last one wins, as in the warehouse), so one
account can never sit in a training fold and a test fold at once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from resources.models.fitted_labeler import (
    CLASS_NAMES,
    CLASSES,
    EMBEDDING_MODEL,
    FORMAT,
    FittedLabeler,
    Head,
    NgramSpec,
    feature_text,
    softmax,
    tfidf,
)
from scout_assets.labeling.agreement import agreement
from scout_assets.labeling.fit_settings import FitSettings

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

    from scout_contract.audience import Audience

# Bump when the features, the classifier or the calibration change: fit ids then change too.
METHOD_VERSION = "lr-minilm-hashed-tfidf.v1"
CALIBRATION_BINS = 5


class NotEnoughReviews(ValueError):
    """Too few reviews (or too few of one class) to fit; the zero-shot labeler stays in use."""


@dataclasses.dataclass(frozen=True)
class ReviewedProfile:
    """A profile as a person judged it, and their verdict."""

    handle: str
    name: str
    bio: str
    category: str | None
    followers: int
    label: bool | None
    reason: str = ""

    @property
    def text(self) -> str:
        return feature_text(self.name, self.category, self.bio)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ReviewedProfile:
        """From a parsed review line or a ``reviews`` row (handle, name, bio, category, followers, label, reason)."""
        return cls(
            handle=str(record["handle"]),
            name=record.get("name") or "",
            bio=record.get("bio") or "",
            category=record.get("category"),
            followers=int(record.get("followers") or 0),
            label=record["label"],
            reason=record.get("reason") or "",
        )


@dataclasses.dataclass(frozen=True)
class FitOutcome:
    """A fitted labeler, its cross-validated figures, and what it cost to fit."""

    labeler: FittedLabeler
    metrics: dict[str, Any]
    fit_seconds: float
    oof_probabilities: np.ndarray  # (reviews, 3): out-of-fold calibrated probabilities
    reviews: tuple[ReviewedProfile, ...]  # de-duplicated, in the order of the rows above


def load_fit_settings() -> FitSettings:
    """The ``local_labeler`` section of labeling.yaml (its defaults when the section is absent)."""
    from scout_assets.labeling.settings import load_labeling_settings

    return load_labeling_settings().local_labeler


def unique_reviews(reviews: Sequence[ReviewedProfile]) -> tuple[ReviewedProfile, ...]:
    """One review per account (case-insensitive handle), the last one given winning."""
    latest: dict[str, ReviewedProfile] = {}
    for review in reviews:
        latest.pop(review.handle.casefold(), None)
        latest[review.handle.casefold()] = review
    return tuple(latest.values())


def reviews_digest(reviews: Sequence[ReviewedProfile]) -> str:
    """A digest of what was judged and the verdicts, independent of row order."""
    lines = sorted(
        json.dumps([r.handle.casefold(), r.text, CLASS_NAMES[CLASSES.index(r.label)]], ensure_ascii=False)
        for r in unique_reviews(reviews)
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def fit_labeler(
    reviews: Sequence[ReviewedProfile],
    audience: Audience,
    settings: FitSettings,
    *,
    embeddings: np.ndarray | None = None,
) -> FitOutcome:
    """Cross-validate, calibrate and fit on every review; see the module docstring.

    ``embeddings`` (one row per de-duplicated review, in the order of ``FitOutcome.reviews``:
    by case-folded handle) may be passed to reuse vectors
    already computed (the benchmark does); otherwise they are computed here.
    """
    started = time.perf_counter()
    # A canonical order (by handle): the same reviews give the same folds, whatever order they came in.
    rows = tuple(sorted(unique_reviews(reviews), key=lambda r: r.handle.casefold()))
    y = _check_enough(rows, settings)
    texts = [r.text for r in rows]
    if embeddings is None:
        from resources.models.local_minilm import encode

        embeddings = encode(texts)
    ngrams = NgramSpec(n_features=2**settings.ngram_bits, ngram_max=settings.ngram_max)
    counts = ngrams.counts(texts)

    oof_logits = _out_of_fold_logits(embeddings, counts, y, settings)
    temperature = _fit_temperature(oof_logits, y)
    oof = softmax(oof_logits / temperature)
    digest = reviews_digest(rows)
    settings_json = settings.model_dump(mode="json")
    fit_id = hashlib.sha256(
        json.dumps([METHOD_VERSION, digest, audience.content_hash, settings_json], sort_keys=True).encode()
    ).hexdigest()[:32]

    head, unseen_idf = _fit_head(embeddings, counts, y, settings)
    metrics = evaluate(oof, y, settings.defer_threshold)
    metrics.update(
        reviews=len(rows),
        label_counts={name: int((y == i).sum()) for i, name in enumerate(CLASS_NAMES)},
        temperature=round(temperature, 4),
        folds=settings.folds,
    )
    card = {
        "format": FORMAT,
        "fit_id": fit_id,
        "method": METHOD_VERSION,
        "audience": audience.key,
        "audience_hash": audience.content_hash,
        "embedding_model": EMBEDDING_MODEL,
        "ngrams": dataclasses.asdict(ngrams),
        "unseen_idf": unseen_idf,
        "temperature": temperature,
        "settings": settings_json,
        "defer_threshold": settings.defer_threshold,
        "trained_on": {
            "reviews": len(rows),
            "reviews_digest": digest,
            "label_counts": metrics["label_counts"],
        },
        "metrics": {k: v for k, v in metrics.items() if k != "label_counts"},
        "fitted_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }
    labeler = FittedLabeler(card=card, head=head, defer_threshold=settings.defer_threshold)
    return FitOutcome(labeler, metrics, time.perf_counter() - started, oof, rows)


def evaluate(probs: np.ndarray, y: np.ndarray, defer_threshold: float) -> dict[str, Any]:
    """Figures of calibrated probabilities against people's labels (class indices in ``y``)."""
    pred = probs.argmax(axis=1)
    figures = agreement([CLASSES[i] for i in pred], [CLASSES[i] for i in y])
    brier = float(((probs - np.eye(len(CLASSES))[y]) ** 2).sum(axis=1).mean())
    return {
        "cv_accuracy": round(figures["agreement"], 4),
        "cv_precision_true": round(figures["precision_true"], 4),
        "cv_recall_true": round(figures["recall_true"], 4),
        "cv_kappa": round(figures["kappa"], 4),
        "cv_brier": round(brier, 4),
        "defer_threshold": defer_threshold,
        "defer_share": round(float((probs.max(axis=1) < defer_threshold).mean()), 4),
        "calibration": calibration_bins(probs[:, 0], y == 0),
    }


def calibration_bins(p_true: np.ndarray, is_true: np.ndarray, bins: int = CALIBRATION_BINS) -> list[dict]:
    """Reliability of ``p_true``: per probability bin, profiles, mean ``p_true`` and the share truly true."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p_true, edges[1:-1]), 0, bins - 1)
    table = []
    for b in range(bins):
        inside = which == b
        table.append(
            {
                "bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}",
                "profiles": int(inside.sum()),
                "mean_p_true": round(float(p_true[inside].mean()), 3) if inside.any() else None,
                "share_true": round(float(is_true[inside].mean()), 3) if inside.any() else None,
            }
        )
    return table


def _check_enough(rows: Sequence[ReviewedProfile], settings: FitSettings) -> np.ndarray:
    y = np.array([CLASSES.index(r.label) for r in rows], dtype=np.int64)
    if len(rows) < settings.min_reviews:
        raise NotEnoughReviews(
            f"{len(rows)} reviewed profiles; a fit needs at least {settings.min_reviews} "
            "(add reviews with `scout review import FILE` or the dashboard's Review page)"
        )
    for index in (0, 1):  # true and false; null may be absent
        have = int((y == index).sum())
        if have < settings.min_per_class:
            raise NotEnoughReviews(
                f"{have} reviews say {CLASS_NAMES[index]}; a fit needs at least {settings.min_per_class} of each "
                "of true and false"
            )
    return y


def _features(embeddings: np.ndarray, counts: csr_matrix, idf: np.ndarray) -> csr_matrix:
    from scipy.sparse import csr_matrix, hstack

    return hstack([csr_matrix(embeddings), tfidf(counts, idf)]).tocsr()


def _idf(counts: csr_matrix) -> np.ndarray:
    """Smoothed IDF of every hashed column: ln((1 + n) / (1 + df)) + 1 (scikit-learn's formula)."""
    from sklearn.feature_extraction.text import TfidfTransformer

    return TfidfTransformer(smooth_idf=True).fit(counts).idf_


def _classifier(settings: FitSettings):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=settings.c, max_iter=3000)


def _logits_all_classes(model, features: csr_matrix) -> np.ndarray:
    """Class scores in CLASSES order; a class absent from training gets a score of -30."""
    scores = np.full((features.shape[0], len(CLASSES)), -30.0)
    decision = model.decision_function(features)
    if decision.ndim == 1:  # two classes: scikit-learn returns one column (score of classes_[1])
        decision = np.column_stack([-decision / 2, decision / 2])
    for column, cls in enumerate(model.classes_):
        scores[:, int(cls)] = decision[:, column]
    return scores


def _out_of_fold_logits(
    embeddings: np.ndarray, counts: csr_matrix, y: np.ndarray, settings: FitSettings
) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    smallest = int(np.bincount(y, minlength=len(CLASSES))[np.bincount(y, minlength=3) > 0].min())
    folds = max(2, min(settings.folds, smallest))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=settings.seed)
    logits = np.zeros((len(y), len(CLASSES)))
    for train, test in splitter.split(embeddings, y):
        idf = _idf(counts[train])
        model = _classifier(settings).fit(_features(embeddings[train], counts[train], idf), y[train])
        logits[test] = _logits_all_classes(model, _features(embeddings[test], counts[test], idf))
    return logits


def _fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature minimizing the log loss of out-of-fold predictions."""
    from scipy.optimize import minimize_scalar

    def log_loss(t: float) -> float:
        probs = softmax(logits / t)
        return float(-np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None)).mean())

    return float(minimize_scalar(log_loss, bounds=(0.05, 20.0), method="bounded").x)


def _fit_head(
    embeddings: np.ndarray, counts: csr_matrix, y: np.ndarray, settings: FitSettings
) -> tuple[Head, float]:
    """The final model on every review, reduced to the columns it uses."""
    idf = _idf(counts)
    model = _classifier(settings).fit(_features(embeddings, counts, idf), y)
    dim = embeddings.shape[1]
    coef = np.zeros((len(CLASSES), dim + counts.shape[1]))
    intercept = np.full(len(CLASSES), -30.0)
    if len(model.classes_) == 2:  # binary: one row of weights for classes_[1]
        coef[int(model.classes_[1])] = model.coef_[0] / 2
        coef[int(model.classes_[0])] = -model.coef_[0] / 2
        intercept[int(model.classes_[1])] = model.intercept_[0] / 2
        intercept[int(model.classes_[0])] = -model.intercept_[0] / 2
    else:
        for row, cls in enumerate(model.classes_):
            coef[int(cls)] = model.coef_[row]
            intercept[int(cls)] = model.intercept_[row]
    used = np.flatnonzero(np.asarray(counts.sum(axis=0)).ravel() > 0)
    unseen_idf = float(np.log(1 + counts.shape[0]) + 1)  # the smoothed IDF of a column with df = 0
    head = Head(
        embedding_weights=coef[:, :dim].astype(np.float32),
        ngram_columns=used.astype(np.int64),
        ngram_weights=coef[:, dim:][:, used].astype(np.float32),
        idf=idf[used],
        intercept=intercept.astype(np.float32),
    )
    return head, unseen_idf
