"""Rebuild ``openai_schemas.json``: the schemas of OpenAI's published OpenAPI document that
the gateway's replies must follow, and everything they reference, without prose.

    .venv/bin/python -m tests.schema.vendor_openai_schemas ../shared/openai-openapi/openapi.yaml

Kept: every schema reachable by ``$ref`` from ``ROOTS``, unchanged except that
``description``, ``title``, ``example``/``examples`` and ``x-*`` annotations are dropped
(they never change what validates), and that the document's leftover OpenAPI 3.0
``nullable: true`` (not a JSON Schema 2020-12 keyword, so a validator would ignore it
and refuse the ``null`` the authors allow) becomes ``anyOf: [<the schema>, {type: null}]``.
The source's first comment lines (repository, commit) go into ``source``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOTS = (
    "Response",
    "ResponseStreamEvent",
    "CreateChatCompletionResponse",
    "CreateChatCompletionStreamResponse",
    "ErrorResponse",
)
PREFIX = "#/components/schemas/"
OUT = Path(__file__).with_name("openai_schemas.json")
_PROSE = frozenset({"description", "title", "example", "examples"})


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _plain(node: Any, *, names: bool = False) -> Any:
    """``node`` without annotations; ``names``: the keys are property names, kept."""
    if isinstance(node, list):
        return [_plain(value) for value in node]
    if not isinstance(node, dict):
        return node
    kept = {}
    for key, value in node.items():
        if not names and (key in _PROSE or key.startswith("x-")):
            continue
        kept[key] = _plain(value, names=(key in ("properties", "patternProperties")) and not names)
    if not names and kept.pop("nullable", False) is True:
        return {"anyOf": [kept, {"type": "null"}]}
    return kept


def reachable(schemas: dict[str, Any]) -> dict[str, Any]:
    seen: set[str] = set()
    stack = list(ROOTS)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        for ref in _refs(schemas[name]):
            if not ref.startswith(PREFIX):
                raise ValueError(f"{name}: a $ref outside the schemas: {ref}")
            stack.append(ref.removeprefix(PREFIX))
    return {name: _plain(schemas[name]) for name in sorted(seen)}


def main(source: str) -> None:
    text = Path(source).read_text("utf-8")
    header = [line.removeprefix("#").strip() for line in text.splitlines()[:2]]
    document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    kept = reachable(document["components"]["schemas"])
    vendored = {
        "source": " ".join(header),
        "openapi": document["openapi"],
        "roots": list(ROOTS),
        "components": {"schemas": kept},
    }
    OUT.write_text(json.dumps(vendored, indent=1, sort_keys=True) + "\n", "utf-8")
    print(f"{len(kept)} schemas → {OUT}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/openai-openapi/openapi.yaml")
