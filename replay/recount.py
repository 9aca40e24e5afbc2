"""Re-counting logged tokens with the target model's tokenizer, on a sample of bodies.

A logged request's token counts are its original model's. When a what-if moves it to a
model that counts with another tokenizer available offline (``replay.tokenizers``), up
to 50 stored bodies and responses of the original model are re-counted with the target's
tokenizer: the prompt's texts (``input``/``messages``, ``instructions``, tool
definitions) against the logged input tokens, the answer's visible output (texts, tool
arguments) against the logged output tokens less reasoning. The two ratios scale every
request of that model — still an estimate, and the report's note says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from replay.mix import TargetMix
from replay.report_model import ModelKey
from replay.tokenizers import count_tokens, encoding_for, tokenizer_available
from replay.traffic import LoggedRequest
from replay.whatif import Recount

SAMPLE = 50
_SKIPPED_KEYS = frozenset(
    {"id", "call_id", "encrypted_content", "type", "role", "model", "status", "object"}
)
_SKIPPED_KEYS |= {"prompt_cache_key", "previous_response_id", "tool_choice", "store", "stream"}


@dataclass(frozen=True, slots=True, kw_only=True)
class BodySample:
    """One logged request's counts, and its body and response as stored."""

    input_tokens: int
    output_tokens: int
    reasoning_tokens: int
    body: bytes | None
    response: bytes | None


def needed(logged: Iterable[LoggedRequest], mix: TargetMix) -> dict[ModelKey, set[str]]:
    """Original models whose counts a target would count otherwise, with those encodings
    (each distinct served model, key, account and model asked for looked at once)."""
    distinct: dict[tuple[str | None, ...], LoggedRequest] = {}
    for r in logged:
        slot = (
            r.provider,
            r.provider_type,
            r.model,
            r.virtual_key,
            r.account_id,
            r.model_requested,
        )
        distinct.setdefault(slot, r)
    wanted: dict[ModelKey, set[str]] = {}
    probe = Recount()
    for request in distinct.values():
        original = ModelKey(
            provider=request.provider, provider_type=request.provider_type, model=request.model
        )
        for share in mix.shares(request):
            encoding = encoding_for(share.model.provider_type, share.model.model)
            if encoding is not None and probe.factor(original, share.model) is None:
                wanted.setdefault(original, set()).add(encoding)
    return wanted


def measure(
    samples: Mapping[ModelKey, Sequence[BodySample]], wanted: Mapping[ModelKey, set[str]]
) -> Recount:
    """The factors for each original model and encoding that has samples and a tokenizer."""
    factors: dict[tuple[ModelKey, str], tuple[float, float]] = {}
    notes = []
    for original, encodings in sorted(wanted.items(), key=lambda item: item[0].label):
        for encoding in sorted(encodings):
            if not tokenizer_available(encoding):
                notes.append(f"no offline {encoding} tokenizer to re-count {original.label}")
                continue
            factor, used = _factor(samples.get(original, ()), encoding)
            if factor is None:
                continue
            factors[original, encoding] = factor
            notes.append(
                f"{original.label} re-counted with {encoding} on {used} logged bodies "
                f"(input x{factor[0]:.3f}, output x{factor[1]:.3f})"
            )
    return Recount(factors=factors, notes=tuple(notes))


def _factor(samples: Sequence[BodySample], encoding: str) -> tuple[tuple[float, float] | None, int]:
    logged_in = recounted_in = logged_out = recounted_out = 0
    used = 0
    for sample in samples[:SAMPLE]:
        body = _load(sample.body)
        if body is None or sample.input_tokens <= 0:
            continue
        used += 1
        logged_in += sample.input_tokens
        recounted_in += count_tokens(encoding, "\n".join(_texts(body)))
        visible = sample.output_tokens - sample.reasoning_tokens
        answer = _load(sample.response)
        if answer is not None and visible > 0:
            logged_out += visible
            recounted_out += count_tokens(encoding, "\n".join(_texts(answer.get("output"))))
    if not used:
        return None, 0
    fin = recounted_in / logged_in
    fout = recounted_out / logged_out if logged_out and recounted_out else 1.0
    return (fin, fout), used


def _load(document: bytes | None) -> dict[str, Any] | None:
    if not document:
        return None
    try:
        loaded = orjson.loads(document)
    except orjson.JSONDecodeError:
        return None
    return loaded if isinstance(loaded, dict) else None


def _texts(value: object, depth: int = 0) -> Iterator[str]:
    """Every string of a JSON document but ids, opaque reasoning and protocol words."""
    if depth > 64:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in _SKIPPED_KEYS:
                yield from _texts(item, depth + 1)


__all__ = ["SAMPLE", "BodySample", "measure", "needed"]
