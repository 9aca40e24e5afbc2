"""The real all-MiniLM-L6-v2, loaded once for the whole session (~5 s)."""

from __future__ import annotations

import pytest

from cache.semantic.embedder import Embedder, load_embedder


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return load_embedder()
