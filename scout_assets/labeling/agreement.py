"""How far two sets of trivalent labels agree, and an honest way to tune against them.

Scout's only reference labels are another model's (Claude Haiku's "silver" labels), so the
figures here measure *agreement*, not accuracy. Three-class Cohen's kappa is the headline: it
discounts the agreement two labelers reach by chance, which matters because always answering
``null`` already agrees with ~47 % of the silver set (kappa 0).

Tuning discipline: :func:`split_of` assigns every handle to ``tune`` or ``report`` by a hash of
the handle, so a profile that appears twice lands on the same side, the split never changes when
rows are added or reordered, and thresholds chosen on ``tune`` are judged on ``report`` only.
``python -m scout_cli.tune_minilm`` reproduces the local labeler's
thresholds (docs/labeling.md).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # the embedding stack is imported only by the commands that need it
    from resources.models.local_minilm import MiniLMThresholds

Trivalent = bool | None
CLASSES: tuple[Trivalent, ...] = (True, False, None)
SPLITS = ("tune", "report")
_NAMES = {True: "true", False: "false", None: "null"}

T = TypeVar("T")


def label_name(value: Trivalent) -> str:
    """``true`` / ``false`` / ``null``, as labels are written in files."""
    return _NAMES[value]


def _check(values: Sequence[Any], what: str) -> None:
    for index, value in enumerate(values):
        if value is not True and value is not False and value is not None:
            raise ValueError(f"{what}[{index}] must be true, false or null, got {value!r}")


def cohen_kappa(pred: Sequence[Trivalent], ref: Sequence[Trivalent]) -> float:
    """Cohen's kappa over the three classes; 1.0 when both are constant and identical."""
    n = len(ref)
    if n == 0:
        return 0.0
    observed = sum(p is r for p, r in zip(pred, ref, strict=True)) / n
    expected = sum((sum(p is c for p in pred) / n) * (sum(r is c for r in ref) / n) for c in CLASSES)
    if expected >= 1.0:  # both labelers used one and the same class throughout
        return 1.0
    return (observed - expected) / (1.0 - expected)


def agreement(pred: Sequence[Trivalent], ref: Sequence[Trivalent]) -> dict[str, Any]:
    """Agreement of predictions with reference labels, position by position.

    Returns ``n``, ``agreement`` (share identical), ``kappa``, ``precision_true`` /
    ``recall_true`` / ``f1_true`` (``true`` as the positive class; 0.0 when undefined),
    ``confusion`` as ``{reference: {prediction: count}}`` with keys true/false/null, and the
    label distribution of each side.
    """
    if len(pred) != len(ref):
        raise ValueError(f"pred has {len(pred)} labels but ref has {len(ref)}")
    _check(pred, "pred")
    _check(ref, "ref")
    n = len(ref)
    confusion = {label_name(r): {label_name(p): 0 for p in CLASSES} for r in CLASSES}
    for p, r in zip(pred, ref, strict=True):
        confusion[label_name(r)][label_name(p)] += 1
    true_positive = confusion["true"]["true"]
    predicted_true = sum(p is True for p in pred)
    actual_true = sum(r is True for r in ref)
    precision = true_positive / predicted_true if predicted_true else 0.0
    recall = true_positive / actual_true if actual_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": n,
        "agreement": sum(p is r for p, r in zip(pred, ref, strict=True)) / n if n else 0.0,
        "kappa": cohen_kappa(pred, ref),
        "precision_true": precision,
        "recall_true": recall,
        "f1_true": f1,
        "confusion": confusion,
        "pred_counts": {label_name(c): sum(p is c for p in pred) for c in CLASSES},
        "ref_counts": {label_name(c): sum(r is c for r in ref) for c in CLASSES},
    }


def baselines(ref: Sequence[Trivalent]) -> dict[str, dict[str, Any]]:
    """Trivial labelers to beat: always null, and always the reference's most common class."""
    counts = {c: sum(r is c for r in ref) for c in CLASSES}
    majority = max(CLASSES, key=lambda c: counts[c])  # ties resolve in CLASSES order
    return {
        "always-null": agreement([None] * len(ref), ref),
        f"always-majority ({label_name(majority)})": agreement([majority] * len(ref), ref),
    }


def format_agreement(figures: dict[str, Any]) -> str:
    """One readable line plus the confusion matrix (rows = reference, columns = prediction)."""
    lines = [
        f"n={figures['n']}  agreement={figures['agreement']:.3f}  kappa={figures['kappa']:.3f}  "
        f"true: precision={figures['precision_true']:.3f} recall={figures['recall_true']:.3f} "
        f"f1={figures['f1_true']:.3f}",
        "  confusion (rows: reference, columns: prediction)  true false null",
    ]
    for ref_name, row in figures["confusion"].items():
        lines.append(f"  {ref_name:>48}  {row['true']:>4} {row['false']:>5} {row['null']:>4}")
    return "\n".join(lines)


def split_of(handle: str) -> str:
    """``tune`` or ``report`` for a handle: sha256 of the case-folded handle, even -> tune."""
    digest = hashlib.sha256(handle.strip().lstrip("@").casefold().encode("utf-8")).digest()
    return SPLITS[digest[-1] % 2]


def grid_search(
    candidates: Iterable[T], predict: Callable[[T], Sequence[Trivalent]], ref: Sequence[Trivalent]
) -> tuple[T, dict[str, Any]]:
    """The candidate whose predictions reach the highest kappa (first one wins a tie)."""
    best: tuple[T, dict[str, Any]] | None = None
    for candidate in candidates:
        figures = agreement(predict(candidate), ref)
        if best is None or figures["kappa"] > best[1]["kappa"]:
            best = (candidate, figures)
    if best is None:
        raise ValueError("grid_search needs at least one candidate")
    return best


def _frange(start: float, stop: float, step: float) -> list[float]:
    count = round((stop - start) / step)
    return [round(start + i * step, 4) for i in range(count + 1)]


def minilm_grid() -> list[MiniLMThresholds]:
    """Every rule setting the tuning tries (about 12,000)."""
    from resources.models.local_minilm import MiniLMThresholds

    return [
        MiniLMThresholds(min_relevance=r, false_margin=f, true_margin=t, min_bio_words=w, top_k=k)
        for k, r, f, t, w in itertools.product(
            (1, 2, 3),
            _frange(0.20, 0.50, 0.025),
            _frange(-0.20, 0.10, 0.025),
            _frange(0.0, 0.30, 0.025),
            (1, 2),
        )
        if f < t
    ]
