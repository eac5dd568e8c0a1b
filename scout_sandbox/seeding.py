"""Deterministic randomness: the same strings give the same numbers in every process.

Python's ``hash()`` is salted per process, so it can never seed anything the sandbox serves.
Every seed here comes from SHA-256 of stable strings, which makes a profile, a keyword's result
list and therefore every page byte-identical across runs, machines and server instances.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import math
import random


def stable_digest(*parts: object) -> bytes:
    """SHA-256 of the parts joined by a separator no part is expected to contain."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()


def stable_seed(*parts: object) -> int:
    return int.from_bytes(stable_digest(*parts)[:8], "big")


def rng_for(*parts: object) -> random.Random:
    """A private random stream for one purpose (one profile, one keyword...)."""
    return random.Random(stable_seed(*parts))


def base32_token(length: int, *parts: object) -> str:
    """Lower-case base32 text like the ids of AT Protocol DIDs and CIDs."""
    raw = b""
    counter = 0
    while len(raw) * 8 < length * 5:
        raw += stable_digest(counter, *parts)
        counter += 1
    return base64.b32encode(raw).decode("ascii").lower().rstrip("=")[:length]


def lognormal_int(
    rng: random.Random, median: float, sigma: float, *, low: int = 0, high: int | None = None
) -> int:
    """A count whose log is normal around ``median``: how follower and post counts are spread."""
    value = round(median * math.exp(rng.gauss(0.0, sigma)))
    value = max(low, value)
    return value if high is None else min(high, value)


_CUMULATIVE: dict[int, tuple[object, tuple[str, ...], tuple[float, ...]]] = {}


def weighted_choice(rng: random.Random, weights: dict[str, float] | tuple[tuple[str, float], ...]) -> str:
    """Pick a name by weight; cumulative sums are cached per table (tables are module constants)."""
    entry = _CUMULATIVE.get(id(weights))
    if entry is None or entry[0] is not weights:  # the stored reference keeps the id from being reused
        items = list(weights.items()) if isinstance(weights, dict) else list(weights)
        entry = (weights, tuple(n for n, _ in items), tuple(itertools.accumulate(w for _, w in items)))
        _CUMULATIVE[id(weights)] = entry
    return rng.choices(entry[1], cum_weights=entry[2], k=1)[0]
