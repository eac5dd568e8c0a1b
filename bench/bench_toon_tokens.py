"""How many prompt tokens per profile TOON saves over JSON, on the predecessor's labeled profiles.

Batches of 25 profiles (the production batch size) from ``labeled_profiles.jsonl`` of the
development data set (``<repo>/../shared/data``, or ``--data DIR``) are serialized three ways:
TOON (what Scout sends), compact JSON and indented JSON (the baseline a JSON prompt would use).
Token counts come from the two tokenizers litellm bundles, so the benchmark runs offline:
- ``cl100k_base``: tiktoken's GPT-4 encoding (``litellm.token_counter`` with an OpenAI model);
- ``claude (legacy)``: the Anthropic tokenizer litellm ships (Claude 2 era, so only indicative
  for current Claude models, whose tokenizer is not public).

Run: ``.venv/bin/python bench/bench_toon_tokens.py [--data DIR]`` (exits 1 naming the file if the
data is absent).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from bench.bench_data import add_data_argument, require_file  # noqa: E402
from resources.models.litellm_import import import_litellm  # noqa: E402
from resources.models.prompt import build_messages  # noqa: E402
from resources.models.toon import encode_profiles  # noqa: E402
from scout_contract.audience import load_audiences  # noqa: E402
from scout_contract.labels import LABEL_FIELDS, ProfileForLabel  # noqa: E402

BATCH_SIZE = 25
TOKENIZERS = {"cl100k_base": "gpt-3.5-turbo", "claude (legacy)": "claude-haiku-4-5-20251001"}


def load_profiles(path: Path) -> list[ProfileForLabel]:
    profiles = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        profiles.append(ProfileForLabel(**{field: row[field] for field in LABEL_FIELDS}))
    return profiles


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_data_argument(parser)
    args = parser.parse_args()
    data = require_file(args.data, "labeled_profiles.jsonl")
    litellm = import_litellm()
    profiles = load_profiles(data)
    audience = load_audiences()["thelai_customers.v3"]
    batches = [profiles[i : i + BATCH_SIZE] for i in range(0, len(profiles), BATCH_SIZE)]
    formats = {
        "toon": encode_profiles,
        "json compact": lambda b: json.dumps(
            [p.__dict__ for p in b], ensure_ascii=False, separators=(",", ":")
        ),
        "json indent=2": lambda b: json.dumps([p.__dict__ for p in b], ensure_ascii=False, indent=2),
    }
    print(f"{len(profiles)} profiles in {len(batches)} batches of up to {BATCH_SIZE}")
    started = time.perf_counter()
    for tokenizer, model in TOKENIZERS.items():
        totals = {name: 0 for name in formats}
        for batch in batches:
            for name, serialize in formats.items():
                totals[name] += litellm.token_counter(model=model, text=serialize(batch))
        per_profile = {name: total / len(profiles) for name, total in totals.items()}
        print(f"\ntokenizer {tokenizer} (litellm.token_counter model={model})")
        for name, value in per_profile.items():
            print(f"  {name:<14} {value:7.1f} tokens/profile")
        for baseline in ("json compact", "json indent=2"):
            ratio = per_profile["toon"] / per_profile[baseline]
            print(f"  toon / {baseline:<14} = {ratio:.3f}  ({(1 - ratio) * 100:.1f}% fewer tokens)")
        # Whole prompt (system + user message) as sent, to put the table's share in context.
        whole = sum(
            litellm.token_counter(model=model, text=m["content"])
            for batch in batches
            for m in build_messages(batch, audience)
        )
        print(f"  whole prompt with TOON ({audience.key}): {whole / len(profiles):.1f} tokens/profile")
    print(f"\n(took {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
