"""A structure-aware mutator for JSON inputs (atheris ``custom_mutator``).

A byte-level mutator mostly breaks JSON syntax, so it rarely reaches past the parser;
this one, on an input that parses (after its one control byte), replaces a node with a
value of another type, drops or adds a key (from the fields clients send), or copies a
node elsewhere, and only falls back to libFuzzer's byte mutations otherwise — or one
time in five, so the syntax keeps being fuzzed too.
"""

from __future__ import annotations

import json
import random
from typing import Any

import atheris

FIELDS = (
    "model",
    "stream",
    "stream_options",
    "include_usage",
    "input",
    "messages",
    "role",
    "content",
    "type",
    "text",
    "tools",
    "tool_choice",
    "function",
    "name",
    "arguments",
    "parameters",
    "call_id",
    "output",
    "reasoning",
    "effort",
    "summary",
    "instructions",
    "max_output_tokens",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "n",
    "stop",
    "parallel_tool_calls",
    "tool_calls",
    "tool_call_id",
    "response_format",
    "reasoning_effort",
    "image_url",
    "url",
    "custom",
    "format",
    "strict",
    "namespace",
    "encrypted_content",
    "id",
    "detail",
    "refusal",
    "generate_summary",
)
SCALARS: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    1,
    -1,
    2,
    1.5,
    1e300,
    -1e300,
    2**63,
    2**64 - 1,
    "",
    "x",
    "function",
    "custom",
    "user",
    "assistant",
    "tool",
    "message",
    "function_call",
    "function_call_output",
    "reasoning",
    "input_text",
    "image_url",
    "auto",
    "required",
)


def mutate(data: bytes, max_size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    if len(data) < 2 or rng.random() < 0.2:
        return bytes(atheris.Mutate(data, max_size))
    try:
        document = json.loads(data[1:])
    except ValueError:
        return bytes(atheris.Mutate(data, max_size))
    control = bytes([rng.randrange(256)]) if rng.random() < 0.1 else data[:1]
    out = control + json.dumps(_mutated(document, rng)).encode()
    return out if len(out) <= max_size else bytes(atheris.Mutate(data, max_size))


def _nodes(value: Any, found: list[Any]) -> list[Any]:
    found.append(value)
    if isinstance(value, dict):
        for child in value.values():
            _nodes(child, found)
    elif isinstance(value, list):
        for child in value:
            _nodes(child, found)
    return found


def _mutated(document: Any, rng: random.Random) -> Any:
    nodes = _nodes(document, [])
    containers = [node for node in nodes if isinstance(node, dict | list) and node]
    if not containers or rng.random() < 0.05:
        return _value(rng, nodes)
    target = rng.choice(containers)
    if isinstance(target, dict):
        key = rng.choice(list(target))
        action = rng.randrange(3)
        if action == 0:
            del target[key]
        elif action == 1:
            target[rng.choice(FIELDS)] = _value(rng, nodes)
        else:
            target[key] = _value(rng, nodes)
    else:
        index = rng.randrange(len(target))
        if rng.random() < 0.3:
            target.insert(index, _value(rng, nodes))
        else:
            target[index] = _value(rng, nodes)
    return document


def _value(rng: random.Random, nodes: list[Any]) -> Any:
    roll = rng.random()
    if roll < 0.5:
        return rng.choice(SCALARS)
    if roll < 0.7:
        return json.loads(json.dumps(rng.choice(nodes)))  # a copy of another node
    if roll < 0.85:
        return [rng.choice(SCALARS)]
    return {rng.choice(FIELDS): rng.choice(SCALARS)}
