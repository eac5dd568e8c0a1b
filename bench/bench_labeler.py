"""The fitted local labeler against the zero-shot one and Claude Haiku, on people's labels.

    .venv/bin/python bench/bench_labeler.py [--data DIR] [--repeats 3] [--thresholds 0.5 0.6 0.7]

Reads ``human_labels.jsonl`` (446 profiles a person labeled, with Haiku's recorded label beside
each) from ``<repo>/../shared/data`` or ``--data DIR`` and exits 1 naming the file when it is
missing. Those rows are a curated sample chosen by the predecessor, not a random draw of what a
search returns: every figure printed here is "on this sample".

One run, same rows for every labeler:
- **fitted**: ``fit_labeler``'s 5-fold cross-validation (stratified, seeded): every profile is
  labeled by a model that never saw it (out-of-fold, calibrated);
- **zero-shot**: today's ``local-minilm`` rule (no training);
- **Haiku**: the recorded label;
- **cascade**: the fitted labeler's out-of-fold label, except where it defers (top probability
  below τ), where Haiku's recorded label is taken; printed for several τ.

Timings are medians of ``--repeats`` runs: the fit (5-fold CV + final model, embeddings given),
the embedding of every profile, and labels per second of the fitted and zero-shot labelers
(embedding included), with their ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from bench.bench_data import add_data_argument, require_file
from resources.models.fitted_labeler import CLASSES
from resources.models.local_minilm import LocalMiniLMLabeler, encode, get_model
from scout_assets.labeling.agreement import agreement
from scout_assets.labeling.fit import ReviewedProfile, fit_labeler, load_fit_settings
from scout_contract.audience import resolve_audience
from scout_contract.labels import ProfileForLabel
from scout_contract.reviews import parse_review_lines

GOALS = {"accuracy": 0.75, "precision_true": 0.60, "recall_true": 0.80}
CASCADE_GOAL = {"points_over_haiku": 0.03, "max_llm_share": 0.30}


def figures(pred: list, ref: list) -> dict[str, float]:
    f = agreement(pred, ref)
    return {
        "accuracy": f["agreement"],
        "precision_true": f["precision_true"],
        "recall_true": f["recall_true"],
    }


def row(name: str, f: dict[str, float], extra: str = "") -> str:
    return f"| {name} | {f['accuracy']:.3f} | {f['precision_true']:.3f} | {f['recall_true']:.3f} | {extra} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats; medians are printed")
    parser.add_argument(
        "--thresholds", type=float, nargs="+", default=[0.5, 0.55, 0.6, 0.65, 0.7], help="defer thresholds τ"
    )
    parser.add_argument("--audience", default="thelai_customers.v3", help="audience key or JSON file")
    add_data_argument(parser)
    args = parser.parse_args()

    path = require_file(args.data, "human_labels.jsonl")
    records = parse_review_lines(path.read_text(encoding="utf-8").splitlines(), str(path))
    raw = {
        json.loads(line)["handle"]: json.loads(line) for line in path.read_text().splitlines() if line.strip()
    }
    reviews = [ReviewedProfile.from_record(r) for r in records]
    audience = resolve_audience(args.audience)
    settings = load_fit_settings()
    print(f"{len(reviews)} human-labeled profiles from {path} (a curated sample, not a random draw)")

    get_model()
    texts = [r.text for r in sorted(reviews, key=lambda r: r.handle.casefold())]  # fit_labeler's order
    embed_s, fit_s = [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        embeddings = encode(texts)
        embed_s.append(time.perf_counter() - started)
        outcome = fit_labeler(reviews, audience, settings, embeddings=embeddings)
        fit_s.append(outcome.fit_seconds)
    assert len(outcome.reviews) == len(reviews), "the bench file must hold one review per handle"

    truth = [r.label for r in outcome.reviews]
    haiku_words = [raw[r.handle].get("llm_label") for r in outcome.reviews]
    haiku = [{"true": True, "false": False}.get(w) for w in haiku_words]
    probs = outcome.oof_probabilities
    fitted = [CLASSES[i] for i in probs.argmax(axis=1)]
    profiles = [ProfileForLabel(r.handle, r.name, r.bio, r.category, r.followers) for r in outcome.reviews]

    zero_shot = LocalMiniLMLabeler()
    fitted_rate, zero_rate = [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        zs_labels = zero_shot.label(profiles, audience).labels
        zero_rate.append(len(profiles) / (time.perf_counter() - started))
        started = time.perf_counter()
        outcome.labeler.label(profiles, audience)
        fitted_rate.append(len(profiles) / (time.perf_counter() - started))
    zs = [label.label for label in zs_labels]

    haiku_f = figures(haiku, truth)
    print("\n| labeler (5-fold CV where fitted) | accuracy | precision(true) | recall(true) | notes |")
    print("|---|---:|---:|---:|---|")
    print(row("always false", figures([False] * len(truth), truth)))
    print(row("zero-shot local-minilm", figures(zs, truth)))
    print(row("fitted local labeler", figures(fitted, truth), f"Brier {outcome.metrics['cv_brier']:.3f}"))
    print(row("Claude Haiku 4.5 (recorded)", haiku_f, "100% of rows to the LLM"))
    best = None
    for tau in args.thresholds:
        defer = probs.max(axis=1) < tau
        cascade = [h if d else f for f, h, d in zip(fitted, haiku, defer, strict=True)]
        f = figures(cascade, truth)
        share = float(defer.mean())
        print(row(f"cascade τ={tau:g}", f, f"{share:.0%} of rows to the LLM"))
        if share <= CASCADE_GOAL["max_llm_share"] and (best is None or f["accuracy"] > best[1]["accuracy"]):
            best = (tau, f, share)

    print("\ntimings (median of", args.repeats, "runs):")
    print(f"  embedding {len(texts)} profiles: {statistics.median(embed_s):.1f} s")
    print(f"  fit (5-fold CV + final model, embeddings given): {statistics.median(fit_s):.1f} s")
    fr, zr = statistics.median(fitted_rate), statistics.median(zero_rate)
    print(f"  labels/s: fitted {fr:.1f}, zero-shot {zr:.1f} (fitted/zero-shot = {fr / zr:.2f}x)")

    fitted_f = figures(fitted, truth)
    print("\ngoals (on this curated sample):")
    for key, goal in GOALS.items():
        verdict = "met" if fitted_f[key] >= goal else f"missed by {goal - fitted_f[key]:.3f}"
        print(f"  fitted {key} >= {goal}: {fitted_f[key]:.3f} ({verdict})")
    target = haiku_f["accuracy"] + CASCADE_GOAL["points_over_haiku"]
    if best is None:
        print(f"  cascade: no τ keeps the LLM share <= {CASCADE_GOAL['max_llm_share']:.0%}")
    else:
        tau, f, share = best
        verdict = "met" if f["accuracy"] >= target else f"missed by {target - f['accuracy']:.3f}"
        print(
            f"  cascade accuracy >= Haiku + 3 points ({target:.3f}) with <= 30% to the LLM: "
            f"best τ={tau:g} gives {f['accuracy']:.3f} at {share:.0%} ({verdict})"
        )
    print(f"\ncalibration of out-of-fold p_true: {json.dumps(outcome.metrics['calibration'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
