"""Measuring the hit decision on labelled pairs: paraphrases (should hit) and minimal
pairs (must not). Pure arithmetic over similarities the caller computed with the real
model (``scripts/cache_eval`` and ``tests/cache/test_eval_targets.py`` do)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cache.semantic.decision import semantic_match

THRESHOLDS = (0.70, 0.75, 0.80, 0.82, 0.84, 0.85, 0.86, 0.88, 0.90, 0.92, 0.94, 0.96, 0.98)
PARAPHRASE = "paraphrase"
MINIMAL = "minimal"


@dataclass(frozen=True, slots=True, kw_only=True)
class Pair:
    kind: str
    first: str
    second: str
    differs: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Rates:
    """Hit rate on paraphrases and false-hit rate on minimal pairs at one setting."""

    threshold: float
    guard: bool
    paraphrase_hits: int
    paraphrases: int
    false_hits: int
    minimal_pairs: int

    @property
    def hit_rate(self) -> float:
        return self.paraphrase_hits / self.paraphrases if self.paraphrases else 0.0

    @property
    def false_hit_rate(self) -> float:
        return self.false_hits / self.minimal_pairs if self.minimal_pairs else 0.0


def load_pairs(path: Path) -> list[Pair]:
    """``pairs.jsonl``: one ``{"kind", "a", "b", "differs"?}`` object a line."""
    pairs = []
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            if row["kind"] not in (PARAPHRASE, MINIMAL):
                raise ValueError(f"unknown pair kind {row['kind']!r}")
            pairs.append(
                Pair(
                    kind=row["kind"],
                    first=row["a"],
                    second=row["b"],
                    differs=row.get("differs", ""),
                )
            )
    return pairs


def rates(
    pairs: Sequence[Pair], similarities: Sequence[float], threshold: float, *, guard: bool
) -> Rates:
    hits = {PARAPHRASE: 0, MINIMAL: 0}
    totals = {PARAPHRASE: 0, MINIMAL: 0}
    for pair, similarity in zip(pairs, similarities, strict=True):
        totals[pair.kind] += 1
        verdict = semantic_match(pair.first, pair.second, similarity, threshold, guard=guard)
        hits[pair.kind] += verdict.hit
    return Rates(
        threshold=threshold,
        guard=guard,
        paraphrase_hits=hits[PARAPHRASE],
        paraphrases=totals[PARAPHRASE],
        false_hits=hits[MINIMAL],
        minimal_pairs=totals[MINIMAL],
    )


def curve(pairs: Sequence[Pair], similarities: Sequence[float]) -> list[tuple[Rates, Rates]]:
    """(threshold only, threshold and guard) at each of :data:`THRESHOLDS`."""
    return [
        (rates(pairs, similarities, t, guard=False), rates(pairs, similarities, t, guard=True))
        for t in THRESHOLDS
    ]


def errors(
    pairs: Sequence[Pair], similarities: Sequence[float], threshold: float
) -> list[tuple[Pair, float, str]]:
    """The pairs the guarded decision gets wrong at ``threshold``, with its reason."""
    wrong = []
    for pair, similarity in zip(pairs, similarities, strict=True):
        verdict = semantic_match(pair.first, pair.second, similarity, threshold)
        if verdict.hit != (pair.kind == PARAPHRASE):
            wrong.append((pair, similarity, verdict.reason))
    return wrong
