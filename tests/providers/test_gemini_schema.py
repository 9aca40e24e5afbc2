"""Gemini adapter: JSON Schema → the OpenAPI subset Gemini accepts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from messages.chat import ChatRequest
from providers.gemini._schema import gemini_parameters
from tests.providers.gemini_support import body_of, codex_tool_specs, user

ALLOWED_KEYS = {
    "type", "format", "description", "nullable", "enum", "items", "properties", "required",
    "anyOf", "minItems", "maxItems", "minimum", "maximum", "minLength", "maxLength",
    "pattern", "minProperties", "maxProperties",
}  # fmt: skip
GEMINI_TYPES = {"STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT"}


def nodes(schema: object, path: str = "$") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every schema node of a converted schema, with its path."""
    assert isinstance(schema, Mapping), path
    yield path, schema
    for name, child in (schema.get("properties") or {}).items():
        yield from nodes(child, f"{path}.{name}")
    if "items" in schema:
        yield from nodes(schema["items"], f"{path}[]")
    for index, branch in enumerate(schema.get("anyOf") or []):
        yield from nodes(branch, f"{path}|{index}")


def assert_gemini_accepts(schema: object) -> None:
    for path, node in nodes(schema):
        assert set(node) <= ALLOWED_KEYS, (path, set(node) - ALLOWED_KEYS)
        assert node.get("type") in GEMINI_TYPES or "anyOf" in node, path
        if node.get("type") == "ARRAY":
            assert "items" in node, path
        if "enum" in node:
            assert node["type"] == "STRING", path
            assert all(isinstance(v, str) for v in node["enum"]), path
        if "properties" in node or "required" in node:
            assert node["type"] == "OBJECT", path
            assert node["properties"], path
            assert set(node.get("required", [])) <= set(node["properties"]), path


def test_codex_tools_convert_to_schemas_gemini_accepts() -> None:
    specs = codex_tool_specs()
    declarations = body_of(ChatRequest(model="m", messages=(user("x"),), tools=specs))["tools"][0][
        "functionDeclarations"
    ]
    by_name = {d["name"]: d for d in declarations}
    assert set(by_name) == {s.name for s in specs}
    for declaration in declarations:
        if "parameters" in declaration:
            assert_gemini_accepts(declaration["parameters"])
    exec_command = by_name["exec_command"]["parameters"]
    assert exec_command["required"] == ["cmd"]
    assert exec_command["properties"]["sandbox_permissions"]["enum"] == [
        "use_default",
        "require_escalated",
    ]
    assert exec_command["properties"]["prefix_rule"]["items"] == {"type": "STRING"}
    assert exec_command["properties"]["yield_time_ms"]["type"] == "NUMBER"
    assert "parameters" not in by_name["get_goal"]
    assert by_name["apply_patch"]["parameters"]["properties"]["input"]["type"] == "STRING"
    questions = by_name["request_user_input"]["parameters"]["properties"]["questions"]
    assert questions["items"]["properties"]["options"]["items"]["required"] == [
        "label",
        "description",
    ]


def test_schema_conversion_of_awkward_json_schema() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "$defs": {"node": {"type": "object", "properties": {
            "child": {"$ref": "#/$defs/node"}, "v": {"type": "integer", "format": "int64"}}}},
        "properties": {
            "tree": {"$ref": "#/$defs/node", "description": "A tree."},
            "maybe": {"type": ["string", "null"], "format": "uri", "default": "x",
                      "examples": ["y"]},
            "either": {"type": ["string", "integer"], "minLength": 1, "minimum": 0},
            "pick": {"oneOf": [{"type": "string"}, {"type": "null"}]},
            "fixed": {"const": "yes"},
            "level": {"type": "integer", "enum": [1, 2, 3], "description": "Level."},
            "merged": {"allOf": [{"properties": {"a": {"type": "string"}}, "required": ["a"]},
                                 {"properties": {"b": {"type": "boolean"}}}]},
            "bare": {"type": "array"},
            "anything": {},
        },
        "required": ["tree", "ghost"],
        "strict": True,
    }  # fmt: skip
    converted = gemini_parameters(schema)
    assert_gemini_accepts(converted)
    assert converted is not None
    props = converted["properties"]
    assert isinstance(props, dict)
    assert converted["required"] == ["tree"]
    assert props["tree"]["description"] == "A tree."
    assert props["tree"]["properties"]["v"] == {"type": "INTEGER", "format": "int64"}
    assert props["maybe"] == {"type": "STRING", "nullable": True}
    assert props["either"] == {
        "anyOf": [{"type": "STRING", "minLength": 1}, {"type": "INTEGER", "minimum": 0}]
    }
    assert props["pick"] == {"type": "STRING", "nullable": True}
    assert props["fixed"] == {"type": "STRING", "enum": ["yes"]}
    assert props["level"] == {"type": "INTEGER", "description": "Level. Allowed values: 1, 2, 3."}
    assert props["merged"]["required"] == ["a"]
    assert set(props["merged"]["properties"]) == {"a", "b"}
    assert props["bare"] == {"type": "ARRAY", "items": {"type": "STRING"}}
    assert props["anything"] == {"type": "STRING"}
    depth = 0
    node = props["tree"]
    while "properties" in node:
        node, depth = node["properties"]["child"], depth + 1
    assert node == {"type": "OBJECT"}
    assert depth <= 8


def test_tools_without_parameters_omit_them() -> None:
    assert gemini_parameters(None) is None
    assert gemini_parameters({"type": "object", "properties": {}}) is None
    assert gemini_parameters({"type": "object"}) is None
