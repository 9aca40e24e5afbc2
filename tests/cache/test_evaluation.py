"""The evaluation's arithmetic and its data file format (no model needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cache.semantic.evaluation import MINIMAL, PARAPHRASE, Pair, curve, errors, load_pairs, rates

PAIRS = [
    Pair(kind=PARAPHRASE, first="How do I rebase onto main?", second="how to rebase onto main"),
    Pair(kind=PARAPHRASE, first="What is a closure?", second="Explain closures in JavaScript"),
    Pair(kind=MINIMAL, first="sort ascending", second="sort descending"),
    Pair(kind=MINIMAL, first="a string to an int", second="an int to a string"),
]
SIMILARITIES = [0.97, 0.93, 0.95, 0.996]


def test_rates_count_hits_and_false_hits_with_and_without_the_guard() -> None:
    bare = rates(PAIRS, SIMILARITIES, 0.9, guard=False)
    assert (bare.paraphrase_hits, bare.false_hits) == (2, 2)
    assert bare.hit_rate == 1.0 and bare.false_hit_rate == 1.0
    guarded = rates(PAIRS, SIMILARITIES, 0.9, guard=True)
    assert (guarded.paraphrase_hits, guarded.false_hits) == (1, 0)
    assert guarded.hit_rate == 0.5 and guarded.false_hit_rate == 0.0
    strict = rates(PAIRS, SIMILARITIES, 0.99, guard=False)
    assert (strict.paraphrase_hits, strict.false_hits) == (0, 1)


def test_errors_name_the_pairs_the_guarded_decision_gets_wrong() -> None:
    wrong = errors(PAIRS, SIMILARITIES, 0.9)
    assert [(pair.first, reason) for pair, _, reason in wrong] == [
        ("What is a closure?", "words differ")
    ]
    assert len(curve(PAIRS, SIMILARITIES)) >= 10


def test_the_pair_files_are_well_formed(tmp_path: Path) -> None:
    here = Path(__file__).resolve().parent
    for name in ("pairs.jsonl", "pairs_holdout.jsonl"):
        pairs = load_pairs(here / name)
        assert len({(p.first, p.second) for p in pairs}) == len(pairs)
        assert all(p.differs for p in pairs if p.kind == MINIMAL)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"kind": "maybe", "a": "x", "b": "y"}) + "\n")
    with pytest.raises(ValueError, match="maybe"):
        load_pairs(bad)
