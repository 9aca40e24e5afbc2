"""The default settings measured with the real model on the pair sets: at most 2.5 % of
the minimal pairs get the other question's answer, at least half the paraphrases hit.

``pairs.jsonl`` is the development set the guard's word lists were written against;
``pairs_holdout.jsonl`` was written afterwards (see README, "how a hit is decided").
``scripts/cache_eval`` prints the whole curve."""

from __future__ import annotations

from pathlib import Path

import pytest

from cache.semantic.decision import DEFAULT_THRESHOLD
from cache.semantic.embedder import Embedder
from cache.semantic.evaluation import MINIMAL, PARAPHRASE, curve, load_pairs, rates
from cache.semantic.text import prepare_text

HERE = Path(__file__).resolve().parent


def _similarities(embedder: Embedder, path: Path) -> tuple[list, list[float]]:
    pairs = load_pairs(path)
    first = embedder.embed([prepare_text(p.first) or "" for p in pairs])
    second = embedder.embed([prepare_text(p.second) or "" for p in pairs])
    return pairs, [float(a @ b) for a, b in zip(first, second, strict=True)]


@pytest.mark.parametrize(("name", "at_least"), [("pairs.jsonl", 40), ("pairs_holdout.jsonl", 25)])
def test_the_default_settings_meet_the_targets(
    embedder: Embedder, name: str, at_least: int
) -> None:
    pairs, similarities = _similarities(embedder, HERE / name)
    assert sum(p.kind == PARAPHRASE for p in pairs) >= at_least
    assert sum(p.kind == MINIMAL for p in pairs) >= at_least
    measured = rates(pairs, similarities, DEFAULT_THRESHOLD, guard=True)
    assert measured.false_hit_rate <= 0.025, measured
    assert measured.hit_rate >= 0.50, measured


def test_the_threshold_alone_is_not_safe_and_the_guard_is_what_makes_it_so(
    embedder: Embedder,
) -> None:
    pairs, similarities = _similarities(embedder, HERE / "pairs.jsonl")
    bare = rates(pairs, similarities, DEFAULT_THRESHOLD, guard=False)
    assert bare.false_hit_rate > 0.25  # the measurement: about a quarter or more
    for without, with_guard in curve(pairs, similarities):
        assert with_guard.false_hits <= without.false_hits
        assert with_guard.paraphrase_hits <= without.paraphrase_hits
