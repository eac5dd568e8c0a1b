"""Throughput of the local-minilm labeler against bare SentenceTransformer.encode, same run.

    .venv/bin/python bench/bench_minilm.py [--n 1000] [--batch-size 32] [--rounds 5] [--slice 128]
                                          [--data DIR]

Texts are the development profiles (``labeled_profiles.jsonl`` then ``unlabeled_profiles.jsonl``
in ``<repo>/../shared/data``, or ``--data DIR``); without them it exits 1 naming the missing file.
Three paths label/encode the same profiles. The profiles are cut into slices; every slice is
timed ``--rounds`` times per path, paths interleaved in rotating order, and each path's figure is
the sum of its per-slice best times (robust to bursts of load from other processes):

- ``bare encode``: ``model.encode(texts, batch_size=B)`` - padding to the longest text per batch;
- ``scout encode``: :func:`local_minilm.encode` - per-text padding buckets (batch independence);
- ``labeler``: ``LocalMiniLMLabeler.label`` in batches of B - encode, similarities, rule, reasons.

The labeler/bare ratio is the price of the whole labeler over the embedding it cannot avoid.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_data import add_data_argument, require_file
from resources.models.local_minilm import LocalMiniLMLabeler, encode, get_model, profile_text
from scout_contract.audience import AUDIENCES_DIR, load_audience
from scout_contract.labels import LABEL_FIELDS, ProfileForLabel

PROFILE_FILES = ("labeled_profiles.jsonl", "unlabeled_profiles.jsonl")


def load_profiles(data_dir: Path, limit: int) -> list[ProfileForLabel]:
    profiles = []
    for path in [require_file(data_dir, name) for name in PROFILE_FILES]:
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            values = {field: row.get(field) for field in LABEL_FIELDS}
            values["bio"], values["name"] = values["bio"] or "", values["name"] or ""
            profiles.append(ProfileForLabel(**values))
    return profiles[:limit]


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="number of profiles (default 1000)")
    parser.add_argument(
        "--batch-size", type=int, default=32, help="labeler batch = encode batch (default 32)"
    )
    parser.add_argument("--rounds", type=int, default=5, help="timings per slice and path (default 5)")
    parser.add_argument("--slice", type=int, default=128, help="profiles per timed slice (default 128)")
    add_data_argument(parser)
    args = parser.parse_args()

    profiles = load_profiles(args.data, args.n)
    load_s = timed(get_model)
    model = get_model()
    audience = load_audience(AUDIENCES_DIR / "thelai_customers.v3.json")
    labeler = LocalMiniLMLabeler(model=model)
    texts = [profile_text(p) for p in profiles]
    batch = args.batch_size

    # Warm-up: first calls pay one-off allocations; also embeds the audience prototypes once.
    model.encode(texts[:batch], batch_size=batch)
    encode(texts[:batch], model)
    labeler.label(profiles[:batch], audience)

    def in_batches(function):
        def run(lo: int, hi: int) -> None:
            for start in range(lo, hi, batch):
                function(start, min(start + batch, hi))

        return run

    paths = {
        "bare encode": lambda lo, hi: model.encode(
            texts[lo:hi], batch_size=batch, normalize_embeddings=True, show_progress_bar=False
        ),
        "scout encode": in_batches(lambda s, e: encode(texts[s:e], model)),
        "labeler": in_batches(lambda s, e: labeler.label(profiles[s:e], audience)),
    }
    # Short slices timed many times, keeping each slice's best: on a shared machine a slice that
    # happened to run during someone else's burst is simply outvoted by its quieter repeats.
    slices = [(lo, min(lo + args.slice, len(profiles))) for lo in range(0, len(profiles), args.slice)]
    best = {name: [float("inf")] * len(slices) for name in paths}
    names = list(paths)
    for round_number in range(args.rounds):
        for index, (lo, hi) in enumerate(slices):
            # Rotate the order so no path always runs right after the same neighbour.
            shift = (round_number + index) % len(names)
            for name in names[shift:] + names[:shift]:
                best[name][index] = min(best[name][index], timed(lambda: paths[name](lo, hi)))  # noqa: B023
    totals = {name: sum(times) for name, times in best.items()}

    n = len(profiles)
    print(
        f"local-minilm throughput on {n} development profiles, batch {batch}, sum of per-slice best of {args.rounds}"
    )
    print(f"model load (once per process): {load_s:.2f} s; CPU threads: {os.cpu_count()}")
    for name, seconds in totals.items():
        print(f"  {name:<13} {n / seconds:8.1f} texts/s  ({seconds:.2f} s)")
    overhead = totals["labeler"] / totals["bare encode"]
    print(f"overhead ratio (labeler time / bare encode time): {overhead:.2f}")
    print(f"scout encode time / bare encode time: {totals['scout encode'] / totals['bare encode']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
