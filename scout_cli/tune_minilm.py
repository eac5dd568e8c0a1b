"""``python -m scout_cli.tune_minilm``: choose the local labeler's thresholds on the tune split.

The metrics and the split rule live in ``scout_assets.labeling.agreement``; this program only
reads a labeled file, embeds it once and prints the figures (docs/labeling.md).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, fields

from resources.models.local_minilm import LocalMiniLMLabeler, MiniLMThresholds, decide, nearest_signals
from scout_assets.labeling.agreement import (
    SPLITS,
    Trivalent,
    agreement,
    baselines,
    format_agreement,
    grid_search,
    minilm_grid,
    split_of,
)
from scout_cli.label import InputError, read_profiles
from scout_contract.audience import load_audience


def tune_minilm(argv: Sequence[str] | None = None) -> int:
    """Choose local-minilm thresholds on the ``tune`` split; print them and the ``report`` figures."""

    parser = argparse.ArgumentParser(prog="python -m scout_cli.tune_minilm")
    parser.add_argument(
        "--input", required=True, help="labeled profiles (.jsonl or .csv with llm_label or label)"
    )
    parser.add_argument("--audience", required=True, help="audience JSON file")
    args = parser.parse_args(argv)
    try:
        rows = read_profiles(args.input)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = [row for row in rows if row.has_reference]
    if not rows:
        print(f"error: {args.input}: no row carries a llm_label or label column", file=sys.stderr)
        return 2
    audience = load_audience(args.audience)
    labeler = LocalMiniLMLabeler()
    sims = labeler.similarities([row.profile for row in rows], audience)
    scores = {k: nearest_signals(sims, k) for k in (1, 2, 3)}  # one embedding pass for every top_k
    by_split = {
        name: [i for i, row in enumerate(rows) if split_of(row.profile.handle) == name] for name in SPLITS
    }

    def predict(indices: list[int]) -> Callable[[MiniLMThresholds], list[Trivalent]]:
        return lambda th: [decide(rows[i].profile, scores[th.top_k][i], th).label for i in indices]

    tune_ref = [rows[i].reference for i in by_split["tune"]]
    best, tune_figures = grid_search(minilm_grid(), predict(by_split["tune"]), tune_ref)
    print("chosen on the tune split:", ", ".join(f"{f.name}={getattr(best, f.name)}" for f in fields(best)))
    print("tune split (used for the choice, optimistic):\n" + format_agreement(tune_figures))
    report_ref = [rows[i].reference for i in by_split["report"]]
    print(
        "report split (held out):\n"
        + format_agreement(agreement(predict(by_split["report"])(best), report_ref))
    )
    for name, figures in baselines(report_ref).items():
        print(
            f"  baseline {name} on report: agreement={figures['agreement']:.3f} kappa={figures['kappa']:.3f}"
        )
    print("thresholds as dict:", asdict(best))
    return 0


if __name__ == "__main__":
    sys.exit(tune_minilm())
