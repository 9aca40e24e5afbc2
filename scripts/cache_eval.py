"""``scripts/cache_eval``: the semantic hit decision measured on tests/cache/pairs.jsonl."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cache.semantic.decision import DEFAULT_THRESHOLD  # noqa: E402
from cache.semantic.embedder import load_embedder  # noqa: E402
from cache.semantic.evaluation import Pair, Rates, curve, errors, load_pairs  # noqa: E402
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
    parser.add_argument(
        "--errors", type=float, metavar="THRESHOLD", help="also list the guarded mistakes"
    )
    args = parser.parse_args()
    pairs = load_pairs(args.pairs)
    similarities, per_text_ms = _similarities(pairs)
    rows = curve(pairs, similarities)
    mistakes = [] if args.errors is None else errors(pairs, similarities, args.errors)
    if args.json:
        report = {
            "pairs": str(args.pairs),
            "default_threshold": DEFAULT_THRESHOLD,
            "embed_ms_per_text": round(per_text_ms, 2),
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
    for pair, similarity, reason in mistakes:
        print(f"{pair.kind:10} {similarity:.3f} {reason:22} {pair.first!r} | {pair.second!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
