"""The population of one platform, and what a keyword search returns from it.

A pool is ``size`` synthetic accounts, indexed 0..size-1. Its index (handles made unique, ids,
an inverted index of search terms) is built on first use, never blocking server start: it needs
only the cheap sketches (~0.4 s for 4,000 accounts; a starting server builds it in a background
thread). The text (bios, written with Faker) is made per account the first time a response
includes it, then cached, so a page of fresh accounts costs a few milliseconds.

A keyword's result list is a pure function of (platform, normalised keyword, pool size): its
length is 30-200, most results share a search term with the keyword (best matches first), the
rest are unrelated accounts as real people searches return, and no account appears twice.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import defaultdict

import scout_sandbox.names as names
from scout_sandbox.bios import dress
from scout_sandbox.seeding import rng_for
from scout_sandbox.synthetic import SyntheticProfile, sketch

PLATFORMS = ("twitter", "bluesky")
# Pre-2010 X ids and snowflake ids both reserve 16+ bits for the pool index (see synthetic._twitter_id).
MAX_POOL_SIZE = 65_536
_STOPWORDS = frozenset({"and", "of", "in", "the", "for", "at", "on", "to", "a", "an", "with", "my", "de"})
_MIN_RESULTS, _MAX_RESULTS = 30, 200


def normalize_keyword(keyword: str) -> str:
    """Searches ignore case and extra spaces: 'Grounded  Theory' and 'grounded theory' are one query."""
    return " ".join(keyword.casefold().split())


def stems(text: str) -> frozenset[str]:
    """Crude stems (first six letters of each word) so 'ethnographer' finds 'ethnography'."""
    words = re.findall(r"[a-z0-9]+", text.casefold())
    return frozenset(w[:6] for w in words if w not in _STOPWORDS and len(w) >= 2)


class ProfilePool:
    """``size`` deterministic accounts of one platform, with lookups and keyword search."""

    def __init__(self, platform: str, size: int) -> None:
        if platform not in PLATFORMS:
            raise ValueError(f"platform {platform!r} is not one of {PLATFORMS}")
        if not 1 <= size <= MAX_POOL_SIZE:
            raise ValueError(f"pool_size {size} must be between 1 and {MAX_POOL_SIZE}")
        self.platform = platform
        self.size = size
        self._lock = threading.Lock()
        self._built = False
        self._sketches: list[SyntheticProfile] = []
        self._by_handle: dict[str, int] = {}
        self._by_id: dict[str, int] = {}
        self._by_stem: dict[str, list[int]] = {}
        self._dressed: dict[int, SyntheticProfile] = {}
        self._hits: dict[str, tuple[int, ...]] = {}

    def _ensure_index(self) -> None:
        if self._built:
            return
        with self._lock:
            if self._built:
                return
            by_stem: dict[str, list[int]] = defaultdict(list)
            for index in range(self.size):
                profile = sketch(self.platform, index)
                handle, attempt = profile.handle, 0
                while handle.casefold() in self._by_handle:
                    attempt += 1
                    handle = names.disambiguate(
                        profile.handle, f"{index}{'' if attempt == 1 else attempt}", self.platform
                    )
                if handle != profile.handle:
                    profile = dataclasses.replace(profile, handle=handle)
                if profile.platform_id in self._by_id:
                    raise RuntimeError(
                        f"{self.platform} pool: duplicate id {profile.platform_id} at index {index}"
                    )
                self._sketches.append(profile)
                self._by_handle[handle.casefold()] = index
                self._by_id[profile.platform_id] = index
                for stem in stems(" ".join((*profile.terms, profile.display_name))):
                    by_stem[stem].append(index)
            self._by_stem = dict(by_stem)
            self._built = True

    def warm(self) -> None:
        """Build the index now (the server does it in a background thread at start)."""
        self._ensure_index()

    def profile(self, index: int) -> SyntheticProfile:
        """Account ``index`` with its bio written (cached after the first call)."""
        cached = self._dressed.get(index)
        if cached is not None:
            return cached
        self._ensure_index()
        dressed = dress(self._sketches[index])
        self._dressed[index] = dressed
        return dressed

    def index_of_id(self, platform_id: str) -> int | None:
        self._ensure_index()
        return self._by_id.get(platform_id)

    def index_of_handle(self, handle: str) -> int | None:
        self._ensure_index()
        return self._by_handle.get(handle.casefold().lstrip("@"))

    def hits(self, keyword: str) -> tuple[int, ...]:
        """The ranked pool indices a search for ``keyword`` returns, over all pages."""
        key = normalize_keyword(keyword)
        cached = self._hits.get(key)
        if cached is None:
            cached = self._rank(key)
            if len(self._hits) >= 4096:  # bounded: a long-running demo may see many keywords
                self._hits.clear()
            self._hits[key] = cached
        return cached

    def _rank(self, key: str) -> tuple[int, ...]:
        wanted = stems(key)
        if not wanted:
            return ()
        self._ensure_index()
        rng = rng_for("hits", self.platform, self.size, key)
        length = min(self.size, rng.randint(_MIN_RESULTS, _MAX_RESULTS))
        score: dict[int, int] = defaultdict(int)
        for stem in sorted(wanted):
            for index in self._by_stem.get(stem, ()):
                score[index] += 1
        by_score: dict[int, list[int]] = defaultdict(list)
        for index in sorted(score):
            by_score[score[index]].append(index)
        relevant: list[int] = []
        for value in sorted(by_score, reverse=True):
            group = by_score[value]
            rng.shuffle(group)
            relevant.extend(group)
        chosen = relevant[: round(length * rng.uniform(0.65, 0.9))]
        taken = set(chosen)
        while len(chosen) < length:  # unrelated accounts, spread through the list
            index = rng.randrange(self.size)
            if index not in taken:
                taken.add(index)
                chosen.insert(rng.randint(len(chosen) // 3, len(chosen)), index)
        return tuple(chosen)


_POOLS: dict[tuple[str, int], ProfilePool] = {}
_POOLS_LOCK = threading.Lock()


def get_pool(platform: str, size: int) -> ProfilePool:
    """The shared pool for (platform, size): every server of that size serves the same accounts."""
    with _POOLS_LOCK:
        pool = _POOLS.get((platform, size))
        if pool is None:
            pool = ProfilePool(platform, size)
            _POOLS[(platform, size)] = pool
        return pool
