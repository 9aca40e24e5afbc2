"""``scripts/cache_eval``: the semantic hit decision measured on tests/cache/pairs.jsonl."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from cache.semantic.decision import DEFAULT_THRESHOLD, semantic_match  # noqa: E402
from cache.semantic.embedder import load_embedder  # noqa: E402
from cache.semantic.evaluation import Pair, Rates, curve, errors, load_pairs  # noqa: E402
from cache.semantic.guard import read  # noqa: E402
from cache.semantic.index import FingerprintedIndex, VectorIndex  # noqa: E402
from cache.semantic.text import prepare_text  # noqa: E402

DEFAULT_PAIRS = ROOT / "tests" / "cache" / "pairs.jsonl"


def _similarities(pairs: list[Pair]) -> tuple[list[float], float]:
    embedder = load_embedder()
    texts = [prepare_text(p.first) or "" for p in pairs] + [
        prepare_text(p.second) or "" for p in pairs
    ]
    embedder.embed(texts[:4])  # warm up
    started = time.perf_counter()
    vectors = [embedder.embed_one(text) for text in texts]
    per_text_ms = (time.perf_counter() - started) / len(texts) * 1000
    n = len(pairs)
    return [float(vectors[i] @ vectors[n + i]) for i in range(n)], per_text_ms


def _timings(pairs: list[Pair]) -> dict[str, float]:
    """Microseconds: the guarded decision per candidate, a search at 10k entries."""
    rounds = 20
    started = time.perf_counter()
    for _ in range(rounds):
        for pair in pairs:
            read.cache_clear()  # time the cold path: both texts read afresh
            semantic_match(pair.first, pair.second, 0.99)
    guard_us = (time.perf_counter() - started) / (rounds * len(pairs)) * 1e6
    vectors = np.random.default_rng(7).standard_normal((10_000, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    flat, spread = VectorIndex(384), FingerprintedIndex(384)
    for entry_id, vector in enumerate(vectors):
        flat.add(entry_id, vector)
        spread.add(f"fp{entry_id % 1000}", entry_id, vector)
    queries = vectors[:200]
    started = time.perf_counter()
    for query in queries:
        flat.search(query, 4)
    flat_us = (time.perf_counter() - started) / len(queries) * 1e6
    started = time.perf_counter()
    for n, query in enumerate(queries):
        spread.search(f"fp{n % 1000}", query, 4)
    spread_us = (time.perf_counter() - started) / len(queries) * 1e6
    return {
        "guard_us_per_candidate": round(guard_us, 1),
        "search_us_10k_one_partition": round(flat_us, 1),
        "search_us_10k_in_1000_partitions": round(spread_us, 1),
    }


def _row(rates: Rates) -> dict[str, object]:
    return {
        "threshold": rates.threshold,
        "guard": rates.guard,
        "paraphrase_hits": rates.paraphrase_hits,
        "paraphrases": rates.paraphrases,
        "hit_rate": round(rates.hit_rate, 4),
        "false_hits": rates.false_hits,
        "minimal_pairs": rates.minimal_pairs,
        "false_hit_rate": round(rates.false_hit_rate, 4),
    }


def _table(rows: list[tuple[Rates, Rates]]) -> str:
    lines = [
        "| threshold | paraphrase hits, threshold only | false hits, threshold only "
        "| paraphrase hits, with guard | false hits, with guard |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for bare, guarded in rows:
        mark = " (default)" if abs(bare.threshold - DEFAULT_THRESHOLD) < 1e-9 else ""
        lines.append(
            f"| {bare.threshold:.2f}{mark} "
            f"| {bare.hit_rate:6.1%} ({bare.paraphrase_hits}/{bare.paraphrases}) "
            f"| {bare.false_hit_rate:6.1%} ({bare.false_hits}/{bare.minimal_pairs}) "
            f"| {guarded.hit_rate:6.1%} ({guarded.paraphrase_hits}/{guarded.paraphrases}) "
            f"| {guarded.false_hit_rate:6.1%} ({guarded.false_hits}/{guarded.minimal_pairs}) |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--timing", action="store_true", help="also time the guard and search")
    parser.add_argument(
        "--errors", type=float, metavar="THRESHOLD", help="also list the guarded mistakes"
    )
    args = parser.parse_args()
    pairs = load_pairs(args.pairs)
    similarities, per_text_ms = _similarities(pairs)
    rows = curve(pairs, similarities)
    mistakes = [] if args.errors is None else errors(pairs, similarities, args.errors)
    timings = _timings(pairs) if args.timing else {}
    if args.json:
        report = {
            "pairs": str(args.pairs),
            "default_threshold": DEFAULT_THRESHOLD,
            "embed_ms_per_text": round(per_text_ms, 2),
            **timings,
            "curve": [_row(r) for pair in rows for r in pair],
            "errors": [
                {
                    "kind": p.kind,
                    "a": p.first,
                    "b": p.second,
                    "similarity": round(s, 4),
                    "reason": r,
                }
                for p, s, r in mistakes
            ],
        }
        print(json.dumps(report, indent=2))
        return 0
    print(_table(rows))
    print(f"\nembedding: {per_text_ms:.1f} ms a text (one torch thread), {len(pairs)} pairs")
    for name, value in timings.items():
        print(f"{name}: {value} µs")
    for pair, similarity, reason in mistakes:
        print(f"{pair.kind:10} {similarity:.3f} {reason:22} {pair.first!r} | {pair.second!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
