"""Derive ``budgets/data/model_prices.json`` from a public per-token price list.

    .venv/bin/python scripts/derive_prices.py SOURCE.json [--effective-from YYYY-MM-DD]

SOURCE is a file in LiteLLM's layout (``*_cost_per_token`` in USD per token, keyed by
model, with ``litellm_provider`` and ``mode``). Only chat models of the provider types
Switchyard speaks are kept; prices become USD per million tokens; one long-context tier
(``*_above_<N>k_tokens``) is kept per model. An entry priced 0 in and 0 out is dropped:
in that file it means "not known", and a shipped price must never be a silent zero.
Re-check what changed against the providers' own pages before committing the result.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TARGET = Path(__file__).resolve().parent.parent / "budgets" / "data" / "model_prices.json"

# the source's provider name → (Switchyard provider type, key prefix to drop)
PROVIDERS = {
    "openai": ("openai", ""),
    "anthropic": ("anthropic", ""),
    "gemini": ("gemini", "gemini/"),
    "cohere_chat": ("cohere", ""),
    "mistral": ("mistral", "mistral/"),
    "groq": ("groq", "groq/"),
    "cerebras": ("cerebras", "cerebras/"),
    "perplexity": ("perplexity", "perplexity/"),
}
CHAT_MODES = frozenset({"chat", "responses"})
_TIER = re.compile(r"^input_cost_per_token_above_(\d+)k_tokens$")


def per_million(value: object) -> float | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return round(float(value) * 1_000_000, 6)


def tier_of(entry: dict[str, Any]) -> dict[str, Any] | None:
    thresholds = sorted(int(m.group(1)) for key in entry if (m := _TIER.match(key)))
    if not thresholds:
        return None
    k = thresholds[0]
    suffix = f"_above_{k}k_tokens"
    return {
        "tokens": k * 1000,
        "input": per_million(entry.get("input_cost_per_token" + suffix)),
        "cached_input": per_million(entry.get("cache_read_input_token_cost" + suffix)),
        "cache_write": per_million(entry.get("cache_creation_input_token_cost" + suffix)),
        "output": per_million(entry.get("output_cost_per_token" + suffix)),
    }


def price_row(provider: str, model: str, entry: dict[str, Any]) -> dict[str, Any] | None:
    input_price = per_million(entry.get("input_cost_per_token"))
    output_price = per_million(entry.get("output_cost_per_token"))
    if input_price is None or output_price is None or input_price == output_price == 0:
        return None
    reasoning = per_million(entry.get("output_cost_per_reasoning_token"))
    max_output = entry.get("max_output_tokens")
    return {
        "provider": provider,
        "model": model,
        "input": input_price,
        "cached_input": per_million(entry.get("cache_read_input_token_cost")),
        "cache_write": per_million(entry.get("cache_creation_input_token_cost")),
        "output": output_price,
        "reasoning": None if reasoning == output_price else reasoning,
        "max_output_tokens": max_output if isinstance(max_output, int) else None,
        "above": tier_of(entry),
    }


def derive(source: dict[str, Any]) -> list[dict[str, Any]]:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for key, entry in source.items():
        if not isinstance(entry, dict) or entry.get("mode") not in CHAT_MODES:
            continue
        mapped = PROVIDERS.get(str(entry.get("litellm_provider")))
        if mapped is None or key.startswith("ft:"):
            continue
        provider, prefix = mapped
        prefixed = bool(prefix) and key.startswith(prefix)
        model = key.removeprefix(prefix).lower()
        row = price_row(provider, model, entry)
        if row is None or ((provider, model) in rows and not prefixed):
            continue
        rows[(provider, model)] = row
    return [rows[key] for key in sorted(rows)]


def render(document: dict[str, Any]) -> str:
    """One price per line, so a price change is a one-line diff."""
    head = {key: value for key, value in document.items() if key != "prices"}
    lines = [json.dumps(head, indent=1)[:-2] + ',\n "prices": [']
    rows = [" " + json.dumps(row) for row in document["prices"]]
    return "\n".join([*lines, ",\n".join(rows), " ]", "}"]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--effective-from", default=datetime.now(UTC).date().isoformat())
    parser.add_argument("--output", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    rows = derive(json.loads(args.source.read_text()))
    document = {
        "schema": 1,
        "unit": "USD per 1M tokens",
        "effective_from": args.effective_from,
        "source": "LiteLLM model_prices_and_context_window (litellm 1.110.2), chat models only",
        "prices": rows,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(document))
    print(f"{len(rows)} prices written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
