"""Vector indexes over faiss: inner product on unit vectors (= cosine similarity).

:class:`VectorIndex` is one flat index with our entry ids (``IndexIDMap2`` over
``IndexFlatIP``: exact search, no training). :class:`FingerprintedIndex` keeps one such
index per context fingerprint, because a semantic hit needs an identical fingerprint
anyway: searching only the query's partition means entries of other conversations can
never crowd the right candidate out of the top k, and a search scans only its partition.

Not thread-safe: one owner (the cache actor) calls it. faiss is imported on first use,
so importing this module costs nothing until an index is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from collections.abc import Iterator

_faiss: Any = None


def _faiss_module() -> Any:
    """faiss, imported once, its OpenMP pool held to one thread (single queries gain nothing)."""
    global _faiss
    if _faiss is None:
        import faiss

        faiss.omp_set_num_threads(1)
        _faiss = faiss
    return _faiss


def _as_row(vector: NDArray[np.float32] | NDArray[np.float64], dim: int) -> NDArray[np.float32]:
    row = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, -1)
    if row.shape[1] != dim:
        raise ValueError(f"vector of width {row.shape[1]}, index of width {dim}")
    if not np.isfinite(row).all():
        raise ValueError("vector holds NaN or infinity")
    return row


class VectorIndex:
    """Entry id → unit vector; :meth:`search` returns the nearest by cosine similarity."""

    __slots__ = ("_dim", "_ids", "_index")

    def __init__(self, dim: int) -> None:
        if dim <= 0:
            raise ValueError("dimension must be positive")
        faiss = _faiss_module()
        self._dim = dim
        self._ids: set[int] = set()
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    @property
    def dim(self) -> int:
        return self._dim

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._ids

    def add(self, entry_id: int, vector: NDArray[np.float32]) -> None:
        """Add (or replace) ``entry_id``'s vector; ids are signed 64-bit integers."""
        if not -(2**63) <= entry_id < 2**63:
            raise ValueError("entry id out of the 64-bit range")
        row = _as_row(vector, self._dim)
        self.remove(entry_id)
        self._index.add_with_ids(row, np.array([entry_id], dtype=np.int64))
        self._ids.add(entry_id)

    def remove(self, entry_id: int) -> bool:
        """Drop ``entry_id`` (a scan of the index); False when it was not there."""
        if entry_id not in self._ids:
            return False
        self._index.remove_ids(np.array([entry_id], dtype=np.int64))
        self._ids.discard(entry_id)
        return True

    def search(self, vector: NDArray[np.float32], k: int) -> list[tuple[int, float]]:
        """Up to ``k`` ``(entry_id, similarity)``, most similar first."""
        if k <= 0 or self._index.ntotal == 0:
            return []
        row = _as_row(vector, self._dim)
        scores, ids = self._index.search(row, min(k, int(self._index.ntotal)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if int(i) != -1]


class FingerprintedIndex:
    """One :class:`VectorIndex` per context fingerprint; an entry lives in exactly one."""

    __slots__ = ("_dim", "_partition_of", "_partitions")

    def __init__(self, dim: int) -> None:
        if dim <= 0:
            raise ValueError("dimension must be positive")
        self._dim = dim
        self._partitions: dict[str, VectorIndex] = {}
        self._partition_of: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._partition_of)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._partition_of

    def partitions(self) -> int:
        return len(self._partitions)

    def add(self, fingerprint: str, entry_id: int, vector: NDArray[np.float32]) -> None:
        """Add ``entry_id`` under ``fingerprint`` (moving it if it was elsewhere)."""
        self.remove(entry_id)
        partition = self._partitions.get(fingerprint)
        if partition is None:
            partition = self._partitions[fingerprint] = VectorIndex(self._dim)
        partition.add(entry_id, vector)
        self._partition_of[entry_id] = fingerprint

    def remove(self, entry_id: int) -> bool:
        fingerprint = self._partition_of.pop(entry_id, None)
        if fingerprint is None:
            return False
        partition = self._partitions[fingerprint]
        partition.remove(entry_id)
        if not len(partition):
            del self._partitions[fingerprint]
        return True

    def search(
        self, fingerprint: str, vector: NDArray[np.float32], k: int
    ) -> list[tuple[int, float]]:
        """The nearest entries with exactly this fingerprint, most similar first."""
        partition = self._partitions.get(fingerprint)
        return [] if partition is None else partition.search(vector, k)

    def entry_ids(self) -> Iterator[int]:
        return iter(list(self._partition_of))
