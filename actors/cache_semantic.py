"""The cache actor's semantic layer: the embedding model, its worker thread, the index.

The model (``cache.semantic.embedder``) loads once, in a worker thread — at start when
a policy enables semantic caching, else on the first semantic request (which, like every
request while it loads, misses). Every embedding runs in a worker thread, one at a time
(``CapacityLimiter(1)``; the model uses one torch thread), never on the event loop. The
vector a lookup computed is kept (``VECTOR_MEMORY`` of them, by request id) for the store
that follows its miss, so an answer is not embedded twice.

The index (``FingerprintedIndex``) is searched within the request's context fingerprint
only; ``cache.semantic.decision.choose_candidate`` decides among the nearest entries
(threshold and guard).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import structlog
import trio

from cache.semantic.text import prepare_text

if TYPE_CHECKING:
    from cache.semantic.embedder import Embedder
    from cache.semantic.index import FingerprintedIndex

log = structlog.get_logger("switchyard.cache")

VECTOR_MEMORY = 256


class SemanticLayer:
    def __init__(self) -> None:
        self._embedder: Embedder | None = None
        self._index: FingerprintedIndex | None = None
        self._loading = False
        self._failed = False
        self._loaded = trio.Event()
        self._limiter = trio.CapacityLimiter(1)
        self._vectors: OrderedDict[str, Any] = OrderedDict()
        self.load_s: float | None = None
        self.embeddings = 0

    @property
    def ready(self) -> bool:
        return self._embedder is not None

    @property
    def entries(self) -> int:
        return 0 if self._index is None else len(self._index)

    def start_loading(self, nursery: trio.Nursery) -> None:
        """Load the model in the background (once)."""
        if not self._loading:
            self._loading = True
            nursery.start_soon(self._load)

    async def _load(self) -> None:
        started = time.perf_counter()
        try:
            embedder = await trio.to_thread.run_sync(_shared_embedder, limiter=self._limiter)
        except Exception:
            self._failed = True
            log.exception("the embedding model did not load: semantic caching is off")
            return
        self.load_s = time.perf_counter() - started
        self._embedder = embedder
        self._loaded.set()
        log.info("embedding model loaded", seconds=round(self.load_s, 2))

    async def wait_ready(self) -> bool:
        if not self._failed:
            await self._loaded.wait()
        return self._embedder is not None

    async def embed(self, text: str, request_id: str) -> Any | None:
        """The vector of ``text`` (prepared as the guard sees it), or None when the text is
        not eligible or the model is not loaded."""
        prepared = prepare_text(text)
        embedder = self._embedder
        if prepared is None or embedder is None:
            return None
        vector = self._vectors.pop(request_id, None)
        if vector is None:
            vector = await trio.to_thread.run_sync(
                embedder.embed_one, prepared, limiter=self._limiter
            )
            self.embeddings += 1
        self._vectors[request_id] = vector
        while len(self._vectors) > VECTOR_MEMORY:
            self._vectors.popitem(last=False)
        return vector

    def forget_vector(self, request_id: str) -> Any | None:
        return self._vectors.pop(request_id, None)

    def index(self) -> FingerprintedIndex:
        if self._index is None:
            from cache.semantic.embedder import DIMENSION
            from cache.semantic.index import FingerprintedIndex

            self._index = FingerprintedIndex(DIMENSION)
        return self._index

    def add(self, fingerprint: bytes, entry_id: int, vector: Any) -> None:
        self.index().add(fingerprint.hex(), entry_id, vector)

    def add_stored(self, fingerprint: bytes, entry_id: int, embedding: bytes) -> None:
        """An entry read back from SQL: its stored vector, no model needed."""
        import numpy as np

        self.add(fingerprint, entry_id, np.frombuffer(embedding, dtype=np.float32))

    def remove(self, entry_id: int) -> None:
        if self._index is not None:
            self._index.remove(entry_id)

    def search(self, fingerprint: bytes, vector: Any, k: int) -> list[tuple[int, float]]:
        if self._index is None:
            return []
        return self._index.search(fingerprint.hex(), vector, k)


_MODEL_LOCK = threading.Lock()
_MODEL: list[Embedder] = []


def _shared_embedder() -> Embedder:
    """The process's one model (immutable, thread-safe): loaded once, even by several
    gateways in one process (tests) or a restarted cache actor."""
    from cache.semantic.embedder import load_embedder

    with _MODEL_LOCK:
        if not _MODEL:
            _MODEL.append(load_embedder())
        return _MODEL[0]


def vector_bytes(vector: Any) -> bytes:
    import numpy as np

    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


__all__ = ["SemanticLayer", "vector_bytes"]
