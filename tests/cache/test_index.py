"""The faiss indexes, on the real model's vectors and on many random unit vectors."""

from __future__ import annotations

import numpy as np
import pytest

from cache.semantic.embedder import DIMENSION, Embedder
from cache.semantic.index import FingerprintedIndex, VectorIndex


def _unit(rows: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((rows, DIMENSION)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_search_finds_the_nearest_question_first(embedder: Embedder) -> None:
    questions = [
        "How do I delete a local git branch?",
        "How do I center a div with CSS?",
        "How do I read a CSV file with pandas?",
    ]
    index = VectorIndex(DIMENSION)
    for entry_id, vector in zip([10, 20, 30], embedder.embed(questions), strict=True):
        index.add(entry_id, vector)
    found = index.search(embedder.embed_one("How can I remove a git branch locally?"), 2)
    assert [entry_id for entry_id, _ in found] == [10, found[1][0]]
    assert found[0][1] > 0.8 > found[1][1]
    assert len(index) == 3


def test_remove_add_again_and_k_beyond_the_size() -> None:
    index = VectorIndex(DIMENSION)
    a, b = _unit(2, seed=1)
    assert index.search(a, 3) == []
    index.add(1, a)
    index.add(2, b)
    assert [i for i, _ in index.search(a, 10)] == [1, 2]
    assert index.remove(1) is True
    assert index.remove(1) is False
    assert [i for i, _ in index.search(a, 10)] == [2]
    index.add(2, a)  # replaces, never duplicates
    assert len(index) == 1
    assert index.search(a, 1)[0] == (2, pytest.approx(1.0, abs=1e-5))
    assert index.search(a, 0) == []


def test_hostile_vectors_and_ids_are_refused() -> None:
    index = VectorIndex(DIMENSION)
    with pytest.raises(ValueError, match="width"):
        index.add(1, np.ones(3, dtype=np.float32))
    with pytest.raises(ValueError, match="NaN"):
        index.add(1, np.full(DIMENSION, np.nan, dtype=np.float32))
    with pytest.raises(ValueError, match="64-bit"):
        index.add(2**63, _unit(1, seed=2)[0])
    assert index.remove(2**70) is False
    assert len(index) == 0
    with pytest.raises(ValueError, match="positive"):
        VectorIndex(0)


def test_search_at_ten_thousand_entries_agrees_with_brute_force() -> None:
    vectors = _unit(10_000, seed=3)
    index = VectorIndex(DIMENSION)
    for entry_id, vector in enumerate(vectors):
        index.add(entry_id + 1000, vector)
    queries = _unit(5, seed=4)
    for query in queries:
        expected = np.argsort(-(vectors @ query))[:4] + 1000
        found = index.search(query, 4)
        assert [i for i, _ in found] == list(expected)
        assert found[0][1] == pytest.approx(float(vectors[expected[0] - 1000] @ query), abs=1e-5)


def test_fingerprints_partition_the_entries() -> None:
    a, b = _unit(2, seed=5)
    index = FingerprintedIndex(DIMENSION)
    index.add("team-a|gpt-5|instructions-1", 1, a)
    index.add("team-b|gpt-5|instructions-1", 2, a)
    assert index.search("team-a|gpt-5|instructions-1", a, 5) == [(1, pytest.approx(1.0, abs=1e-5))]
    assert index.search("team-c|gpt-5|instructions-1", a, 5) == []
    index.add("team-b|gpt-5|instructions-1", 1, b)  # moves entry 1
    assert index.search("team-a|gpt-5|instructions-1", a, 5) == []
    assert index.partitions() == 1
    assert len(index) == 2 and 1 in index
    assert index.remove(1) and index.remove(2) and not index.remove(2)
    assert len(index) == 0 and index.partitions() == 0
