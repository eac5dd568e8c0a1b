"""Where fitted local labelers are kept, and which labeler ``local-minilm`` means right now.

A fit is two small files (``labeler.json``: the card and the head's settings; ``weights.npz``:
the head's weights; no profile text) written once to the archive, which outlives the warehouse:

    objects/labelers/<audience key>/<fit_id>/labeler.json
    objects/labelers/<audience key>/<fit_id>/weights.npz

and one ``labeler_fits`` row saying where they are, what reviews they learned from (count and
digest) and their cross-validated figures. Rows are never rewritten: the same fit stored again
(same reviews, same settings: same ``fit_id``) adds nothing.

:func:`resolve_local_labeler` is the one answer to "which local labeler labels this audience":

1. the best fit in ``labeler_fits`` for the audience key: the fits on the newest set of reviews
   (the ``reviews_digest`` of the most recent fit), and among them the highest cross-validated
   accuracy, so a worse refit on the same reviews never replaces a better one; a fit whose
   files cannot be read is passed over, and the source text says so;
2. else the fit shipped with the project in ``scout_assets/config/labelers/<audience key>/``,
   if it was fitted on this very wording of the audience (same ``audience_hash``; a fit in the
   warehouse for another wording is passed over too, as it refuses to label this one);
3. else the zero-shot ``LocalMiniLMLabeler``, with a source text saying so (no reviews, or too few
   fitted yet) and how to add reviews.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from resources.archive import ArchiveConflictError, ArchiveError, RawArchive
from resources.models.fitted_labeler import SHIPPED_LABELERS_DIR, FittedLabeler, LabelerFileError
from resources.warehouse import Warehouse
from scout_assets.labeling.fit import ReviewedProfile
from scout_contract.audience import Audience
from scout_contract.labels import Labeler
from scout_contract.reviews import LATEST_REVIEWS_SQL
from scout_contract.tables import LABELER_FITS, polars_schema

if TYPE_CHECKING:
    from scout_assets.labeling.fit import FitOutcome

LABELERS_BRANCH = "labelers"
FIT_FILES = ("labeler.json", "weights.npz")
REVIEW_HINT = "add some with `scout review import FILE`"

REVIEW_COUNT_SQL = "select count(*) as reviews from reviews where audience = $1"

# Every fit of one audience, best first: the fits on the reviews of the most recent fit come
# first (newest set of reviews), then the highest cross-validated accuracy, then the newest.
FITS_BEST_FIRST_SQL = """
select fit_id, audience, audience_hash, reviews, reviews_digest, location, cv_accuracy,
       cv_precision_true, cv_recall_true, cv_brier, defer_share, run_id, fitted_at
from (
  select f.*, max(fitted_at) over (partition by reviews_digest) as digest_fitted_at
  from labeler_fits f
  where audience = $1
) ranked
order by digest_fitted_at desc, cv_accuracy desc nulls last, fitted_at desc, fit_id
"""


@dataclass(frozen=True)
class ResolvedLabeler:
    """The labeler that answers as ``local-minilm`` for one audience, and where it came from.

    ``source`` is for people (run metadata, the CLI summary): ``fit 1a2b3c4d5e6f on 446 reviews
    (cv accuracy 0.78)``, ``shipped fit …``, or ``zero-shot: no reviews for … — add some with
    `scout review import FILE```.
    """

    labeler: Labeler
    source: str
    fit_id: str | None
    fitted: bool


@dataclass(frozen=True)
class StoredFit:
    """One stored fit: its ``labeler_fits`` row as written, and whether this call added it."""

    row: dict[str, Any]
    uri: str  # where labeler.json is, for people (file:// or s3://)
    added: bool

    @property
    def fit_id(self) -> str:
        return str(self.row["fit_id"])

    @property
    def location(self) -> str:
        return str(self.row["location"])


def latest_reviews(warehouse: Warehouse, audience_key: str) -> list[ReviewedProfile]:
    """The latest review of every account for ``audience_key``, as the fit reads them (stable order)."""
    rows = warehouse.read(LATEST_REVIEWS_SQL, [audience_key]).iter_rows(named=True)
    return [ReviewedProfile.from_record(row) for row in rows]


def fit_location(audience_key: str, fit_id: str) -> str:
    """The archive object prefix of one fit: ``labelers/<audience key>/<fit_id>``."""
    return f"{LABELERS_BRANCH}/{audience_key}/{fit_id}"


def store_fit(warehouse: Warehouse, archive: RawArchive, outcome: FitOutcome, run_id: str) -> StoredFit:
    """Write the fit's files to the archive (write-once) and add its ``labeler_fits`` row.

    Files first, row second: a row always points at files that exist. Storing the same fit again
    (a retried run) finds identical files and an existing row, and changes nothing.
    """
    labeler = outcome.labeler
    digest = labeler.card.get("trained_on", {}).get("reviews_digest")
    if not digest:
        raise ValueError(f"fit {labeler.fit_id}: its card has no trained_on.reviews_digest")
    location = fit_location(labeler.audience, labeler.fit_id)
    files = labeler.to_files()
    if set(files) != set(FIT_FILES):
        raise ValueError(f"fit {labeler.fit_id}: expected files {list(FIT_FILES)}, got {sorted(files)}")
    metadata = {"fit-id": labeler.fit_id, "audience": labeler.audience}
    uris = {name: _put_first_copy(archive, f"{location}/{name}", files[name], metadata) for name in FIT_FILES}
    metrics = outcome.metrics
    row = {
        "fit_id": labeler.fit_id,
        "audience": labeler.audience,
        "audience_hash": labeler.audience_hash,
        "reviews": int(metrics["reviews"]),
        "reviews_digest": str(digest),
        "location": location,
        "cv_accuracy": _figure(metrics, "cv_accuracy"),
        "cv_precision_true": _figure(metrics, "cv_precision_true"),
        "cv_recall_true": _figure(metrics, "cv_recall_true"),
        "cv_brier": _figure(metrics, "cv_brier"),
        "defer_share": _figure(metrics, "defer_share"),
        "metrics_json": json.dumps(metrics, sort_keys=True, default=str),
        "run_id": run_id,
        "fitted_at": datetime.now(UTC).replace(tzinfo=None),
    }
    added = warehouse.append("labeler_fits", pl.DataFrame([row], schema=polars_schema(LABELER_FITS.columns)))
    return StoredFit(row=row, uri=uris["labeler.json"], added=bool(added))


def _put_first_copy(archive: RawArchive, key: str, body: bytes, metadata: dict[str, str]) -> str:
    """Put one file of a fit; when the archive already holds that file of this fit, keep it.

    A ``fit_id`` digests the reviews, the settings and the method, so two fits with one id are
    the same labeler; only the card's ``fitted_at`` tells them apart. The first copy stays (the
    archive never rewrites), and its URI is returned.
    """
    try:
        return archive.put_object(key, body, metadata)
    except ArchiveConflictError:
        return archive.put_object(key, archive.get_object(key), metadata)


def _figure(metrics: dict[str, Any], name: str) -> float | None:
    value = metrics.get(name)
    return None if value is None else float(value)


def fits_best_first(warehouse: Warehouse, audience_key: str) -> list[dict[str, Any]]:
    """Every ``labeler_fits`` row of ``audience_key``, best first (see ``FITS_BEST_FIRST_SQL``)."""
    return warehouse.read(FITS_BEST_FIRST_SQL, [audience_key]).to_dicts()


def latest_fit(warehouse: Warehouse, audience_key: str) -> dict[str, Any] | None:
    """The most recently stored ``labeler_fits`` row of ``audience_key``, whatever its score."""
    rows = warehouse.read(
        "select * from labeler_fits where audience = $1 order by fitted_at desc, fit_id limit 1",
        [audience_key],
    ).to_dicts()
    return rows[0] if rows else None


def load_stored_fit(archive: RawArchive, location: str) -> FittedLabeler:
    """The fit whose files are under ``location`` in the archive."""
    return FittedLabeler.from_files({name: archive.get_object(f"{location}/{name}") for name in FIT_FILES})


def resolve_local_labeler(
    warehouse: Warehouse, archive: RawArchive, audience: Audience, defer_threshold: float | None
) -> ResolvedLabeler:
    """The labeler ``local-minilm`` is for ``audience`` now (order in the module docstring).

    ``defer_threshold`` (labeling.yaml) replaces the fit's own when given; the zero-shot labeler
    has no probability and never defers.
    """
    passed_over: list[str] = []
    for row in fits_best_first(warehouse, audience.key):
        if row["audience_hash"] != audience.content_hash:
            passed_over.append(
                f"fit {str(row['fit_id'])[:12]} is for another wording of {audience.key} "
                f"(audience_hash {row['audience_hash']}, the file now has {audience.content_hash})"
            )
            continue
        try:
            fitted = load_stored_fit(archive, row["location"])
        except (ArchiveError, LabelerFileError) as exc:
            passed_over.append(f"fit {str(row['fit_id'])[:12]} unreadable ({_short(exc)})")
            continue
        source = (
            f"fit {fitted.fit_id[:12]} on {row['reviews']} reviews"
            f" (cv accuracy {_percent(row['cv_accuracy'])}, fitted {row['fitted_at']:%Y-%m-%d %H:%M} UTC)"
        )
        return _resolved(fitted, source, passed_over, defer_threshold)

    shipped_dir = SHIPPED_LABELERS_DIR / audience.key
    if shipped_dir.is_dir():
        try:
            shipped = FittedLabeler.load(shipped_dir)
        except LabelerFileError as exc:
            passed_over.append(f"shipped fit unreadable ({_short(exc)})")
        else:
            shipped_hash = shipped.audience_hash
            if shipped_hash == audience.content_hash:
                reviews = shipped.card.get("trained_on", {}).get("reviews", "?")
                source = f"shipped fit {shipped.fit_id[:12]} on {reviews} reviews ({shipped_dir.name})"
                return _resolved(shipped, source, passed_over, defer_threshold)
            passed_over.append(
                f"shipped fit is for another wording of {audience.key} "
                f"(audience_hash {shipped_hash}, the file now has {audience.content_hash})"
            )

    from resources.models.local_minilm import LocalMiniLMLabeler

    reviews = int(warehouse.read(REVIEW_COUNT_SQL, [audience.key]).item())
    if reviews == 0:
        source = f"zero-shot: no reviews for {audience.key} — {REVIEW_HINT}"
    else:
        source = (
            f"zero-shot: no labeler fitted yet on the {reviews} review(s) of {audience.key} "
            f"(a fit needs more) — {REVIEW_HINT}"
        )
    if passed_over:
        source += " [" + "; ".join(passed_over) + "]"
    return ResolvedLabeler(labeler=LocalMiniLMLabeler(), source=source, fit_id=None, fitted=False)


def _resolved(
    fitted: FittedLabeler, source: str, passed_over: list[str], defer_threshold: float | None
) -> ResolvedLabeler:
    if defer_threshold is not None:
        fitted = fitted.with_defer_threshold(defer_threshold)
    if passed_over:
        source += " [" + "; ".join(passed_over) + "]"
    return ResolvedLabeler(labeler=fitted, source=source, fit_id=fitted.fit_id, fitted=True)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _short(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc)[:300]}"
