"""How tools look on the wire of a provider without namespaces or free-form tools.

Provider-neutral (any function-calling wire can use it), kept private to ``providers``:

- a ``ToolSpec.namespace`` is flattened into the function name ``"{namespace}__{name}"``
  and split back when the model calls it;
- a ``ToolKind.CUSTOM`` tool (Codex's ``apply_patch``) becomes a function with one string
  parameter named ``input``; the model's call is unwrapped back into that string.

Without the request's tool list a decoder still splits namespaces, but cannot tell an
emulated custom tool from a function: it then reports the call as a plain function.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import orjson

from messages.chat import ToolKind, ToolSpec
from messages.json import Json, JsonObject

NAMESPACE_SEPARATOR = "__"
CUSTOM_INPUT = "input"
_CUSTOM_NOTE = (
    "This tool takes free-form text, not JSON: pass the whole text, exactly as the tool "
    f"expects it, in the string parameter `{CUSTOM_INPUT}`."
)
_EMPTY_OBJECT_SCHEMA: JsonObject = {"type": "object", "properties": {}}


@dataclass(frozen=True, slots=True, kw_only=True)
class WireTool:
    """A tool as called on the wire, and who it really is."""

    wire_name: str
    name: str
    namespace: str | None = None
    kind: ToolKind = ToolKind.FUNCTION


def wire_name(name: str, namespace: str | None) -> str:
    return name if namespace is None else f"{namespace}{NAMESPACE_SEPARATOR}{name}"


def wire_description(spec: ToolSpec) -> str:
    if spec.kind is ToolKind.CUSTOM:
        return f"{spec.description}\n\n{_CUSTOM_NOTE}" if spec.description else _CUSTOM_NOTE
    return spec.description


def wire_schema(spec: ToolSpec) -> JsonObject:
    """The JSON Schema of a tool's arguments (a one-string object for custom tools)."""
    if spec.kind is ToolKind.CUSTOM:
        return {
            "type": "object",
            "properties": {CUSTOM_INPUT: {"type": "string", "description": "The free-form input."}},
            "required": [CUSTOM_INPUT],
        }
    return spec.parameters if spec.parameters is not None else _EMPTY_OBJECT_SCHEMA


def custom_arguments(text: str) -> JsonObject:
    """A custom call's raw text, wrapped as the emulating function's arguments."""
    return {CUSTOM_INPUT: text}


def unwrap_custom(arguments: Json) -> str:
    """The custom tool's text from the emulating function's arguments (object or JSON text).

    Takes the ``input`` string; an object with one other string field gives that string;
    anything else is passed on as the JSON text it was, so nothing the model wrote is lost.
    """
    value = arguments
    if isinstance(arguments, str):
        try:
            value = orjson.loads(arguments)
        except orjson.JSONDecodeError:
            return arguments
    if isinstance(value, Mapping):
        inner = value.get(CUSTOM_INPUT)
        if isinstance(inner, str):
            return inner
        strings = [item for item in value.values() if isinstance(item, str)]
        if len(value) == 1 and len(strings) == 1:
            return strings[0]
    if isinstance(arguments, str):
        return arguments
    return orjson.dumps(arguments, default=plain_json).decode()


class ToolTable:
    """Resolves a wire name back to the tool the client offered."""

    __slots__ = ("_by_wire_name",)

    def __init__(self, tools: Sequence[ToolSpec] = ()) -> None:
        self._by_wire_name = {
            wire_name(spec.name, spec.namespace): WireTool(
                wire_name=wire_name(spec.name, spec.namespace),
                name=spec.name,
                namespace=spec.namespace,
                kind=spec.kind,
            )
            for spec in tools
        }

    def resolve(self, name: str) -> WireTool:
        known = self._by_wire_name.get(name)
        if known is not None:
            return known
        namespace, separator, short = name.partition(NAMESPACE_SEPARATOR)
        if separator and namespace and short:
            return WireTool(wire_name=name, name=short, namespace=namespace)
        return WireTool(wire_name=name, name=name)

    def wire_name_for(self, name: str) -> str:
        """The wire name of a tool named ``name`` by the client (for a named tool choice)."""
        for tool in self._by_wire_name.values():
            if tool.name == name:
                return tool.wire_name
        return name


def plain_json(value: object) -> object:
    """``orjson`` ``default`` hook: read-only mappings and sequences as dicts and lists."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


__all__ = [
    "CUSTOM_INPUT",
    "NAMESPACE_SEPARATOR",
    "ToolTable",
    "WireTool",
    "custom_arguments",
    "plain_json",
    "unwrap_custom",
    "wire_description",
    "wire_name",
    "wire_schema",
]
