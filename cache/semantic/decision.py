"""The semantic hit decision: similarity over a threshold, then the guard, per candidate.

The cache actor searches the query's fingerprint partition for the top k candidates
(:data:`CANDIDATES`), then asks :func:`choose_candidate` which one — if any — may answer.
A candidate is served only when its similarity reaches the threshold AND the guard
(:mod:`cache.semantic.guard`) finds that both texts ask for the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cache.semantic.guard import guard_verdict
from cache.semantic.text import prepare_text

DEFAULT_THRESHOLD = 0.9
"""The similarity a semantic hit needs by default (README: "how a hit is decided")."""
CANDIDATES = 4
"""How many nearest entries of the partition the guard examines, most similar first."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchVerdict:
    """Whether a cached text may answer the query, and why (one short phrase)."""

    hit: bool
    reason: str
    similarity: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """An entry the index returned: its id, its stored latest user text, its similarity."""

    entry_id: int
    text: str
    similarity: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice:
    """The candidate chosen to answer, with the verdict that chose it."""

    entry_id: int
    verdict: MatchVerdict


def semantic_match(
    query_text: str,
    candidate_text: str,
    similarity: float,
    threshold: float = DEFAULT_THRESHOLD,
    *,
    guard: bool = True,
) -> MatchVerdict:
    """May ``candidate_text``'s cached answer serve ``query_text``? Pure; microseconds."""
    if not similarity >= threshold:  # NaN fails too
        return MatchVerdict(hit=False, reason="below threshold", similarity=similarity)
    query, candidate = prepare_text(query_text), prepare_text(candidate_text)
    if query is None or candidate is None:
        return MatchVerdict(hit=False, reason="text not eligible", similarity=similarity)
    if not guard:
        return MatchVerdict(hit=True, reason="threshold only", similarity=similarity)
    ok, reason = guard_verdict(query, candidate)
    return MatchVerdict(hit=ok, reason=reason, similarity=similarity)


def choose_candidate(
    query_text: str,
    candidates: Iterable[Candidate],
    threshold: float = DEFAULT_THRESHOLD,
) -> Choice | None:
    """The most similar candidate that passes :func:`semantic_match`, or None."""
    for candidate in sorted(candidates, key=lambda c: -c.similarity):
        verdict = semantic_match(query_text, candidate.text, candidate.similarity, threshold)
        if verdict.hit:
            return Choice(entry_id=candidate.entry_id, verdict=verdict)
        if verdict.reason == "below threshold":
            return None
    return None
