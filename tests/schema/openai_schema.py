"""OpenAI's published schemas (vendored in ``openai_schemas.json``, see
``vendor_openai_schemas.py``) as validators: OpenAPI 3.1 schemas are JSON Schema 2020-12."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

URI = "urn:openai-openapi"
DOCUMENT: dict[str, Any] = json.loads(
    (Path(__file__).with_name("openai_schemas.json")).read_text("utf-8")
)
SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]


@cache
def _registry() -> Registry[Any]:
    resource = Resource(contents=DOCUMENT, specification=DRAFT202012)
    return Registry().with_resource(URI, resource)


@cache
def validator(name: str) -> Draft202012Validator:
    schema = {"$ref": f"{URI}#/components/schemas/{name}"}
    return Draft202012Validator(schema, registry=_registry())


def problems(name: str, document: object) -> list[str]:
    """What is wrong with ``document`` as a ``name`` (empty: it conforms)."""
    found = []
    for error in validator(name).iter_errors(document):
        best = best_match([error])  # inside an anyOf/oneOf: the branch that came closest
        where = "/".join(str(part) for part in best.absolute_path) or "(top)"
        found.append(f"{name} at {where}: {best.message[:300]}")
    return found


@cache
def stream_event_schemas() -> dict[str, str]:
    """Each Responses stream event ``type`` → the name of its schema."""
    found: dict[str, str] = {}
    for option in SCHEMAS["ResponseStreamEvent"]["anyOf"]:
        name = option["$ref"].rsplit("/", 1)[-1]
        for kind in SCHEMAS[name]["properties"]["type"].get("enum", []):
            found[kind] = name
    return found


def stream_event_problems(event: dict[str, Any]) -> list[str]:
    """An event of a Responses stream, against the schema its ``type`` names."""
    name = stream_event_schemas().get(str(event.get("type")))
    if name is None:
        return [f"an event type the spec does not have: {event.get('type')!r}"]
    return problems(name, event)
