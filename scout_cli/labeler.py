"""``scout labeler fit``: train the local labeler on a file of people's labels.

    scout labeler fit --audience A.json --labels FILE --out DIR [--defer-threshold T]

FILE has one JSON object per line with ``handle``, ``name``, ``bio``, ``category``,
``followers`` and ``human_label`` (``true`` / ``false`` / ``null``); other fields are ignored.
DIR receives ``labeler.json`` (method, audience, cross-validated figures, calibration) and
``weights.npz`` (numbers only, no profile text). Label with it:

    scout label --model local-minilm --labeler DIR --audience A.json --input P.jsonl --output L.jsonl

This is the same fit the ``local_labeler`` asset makes from the warehouse's reviews
(scout_assets/labeling/fit.py); the command needs no warehouse. Exit codes: 0 fitted, 2 bad input
or not enough reviews.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_labeler_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``labeler fit`` on a subparsers object; dispatch on ``handler``."""
    parser = subparsers.add_parser(
        "labeler", help="fit the local labeler on people's labels", description=__doc__.split("\n\n")[0]
    )
    actions = parser.add_subparsers(dest="labeler_command", required=True)
    fit = actions.add_parser("fit", help="train on a human_labels.jsonl-format file and write DIR")
    fit.add_argument(
        "--audience", required=True, help="audience JSON file, or a configured key like thelai_customers.v3"
    )
    fit.add_argument("--labels", required=True, type=Path, help="one JSON object per line with human_label")
    fit.add_argument("--out", required=True, type=Path, help="folder to write the fitted labeler into")
    fit.add_argument(
        "--defer-threshold",
        type=float,
        help="defer when the top class probability is below this (default: labeling.yaml's local_labeler)",
    )
    fit.set_defaults(handler=run_fit)
    return parser


def run_fit(args: argparse.Namespace) -> int:
    from scout_assets.labeling.fit import NotEnoughReviews, ReviewedProfile, fit_labeler, load_fit_settings
    from scout_cli.review import ReviewInputError, read_review_file
    from scout_contract.audience import AudienceError, resolve_audience
    from scout_contract.config_file import ConfigFileError
    from scout_contract.reviews import ReviewFileError

    try:
        audience = resolve_audience(args.audience)
        settings = load_fit_settings()
        if args.defer_threshold is not None:
            if not 0.0 < args.defer_threshold <= 1.0:
                raise ReviewInputError(f"--defer-threshold must be within (0, 1], got {args.defer_threshold}")
            settings = settings.model_copy(update={"defer_threshold": args.defer_threshold})
        reviews = [ReviewedProfile.from_record(row) for row in read_review_file(args.labels)]
        print(f"fitting the local labeler for {audience.key} on {len(reviews)} labels from {args.labels} ...")
        outcome = fit_labeler(reviews, audience, settings)
    except (AudienceError, ConfigFileError, ReviewFileError, ReviewInputError, NotEnoughReviews) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    folder = outcome.labeler.save(args.out)
    print(describe_fit(outcome.metrics, outcome.fit_seconds))
    print(f"fit {outcome.labeler.fit_id[:12]} written to {folder}")
    return 0


def describe_fit(metrics: dict[str, Any], seconds: float) -> str:
    """The cross-validated figures of a fit, for a terminal."""
    counts = ", ".join(f"{name} {n}" for name, n in metrics["label_counts"].items())
    lines = [
        f"reviews: {metrics['reviews']} ({counts}); {metrics['folds']}-fold cross-validation, fit in {seconds:.1f} s",
        f"accuracy {metrics['cv_accuracy']:.3f} · precision(true) {metrics['cv_precision_true']:.3f} · "
        f"recall(true) {metrics['cv_recall_true']:.3f} · kappa {metrics['cv_kappa']:.3f} · "
        f"Brier {metrics['cv_brier']:.3f}",
        f"deferred to an LLM at threshold {metrics['defer_threshold']:g}: {metrics['defer_share']:.1%}",
        "calibration of p_true (bin: profiles, mean p_true -> share truly true):",
    ]
    lines += [
        f"  {b['bin']}: {b['profiles']}, {b['mean_p_true']} -> {b['share_true']}"
        for b in metrics["calibration"]
    ]
    return "\n".join(lines)
