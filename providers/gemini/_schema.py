"""JSON Schema → the OpenAPI subset that Gemini's ``FunctionDeclaration.parameters`` takes.

Why ``parameters`` and not ``parametersJsonSchema``: ``parameters`` (the ``Schema``
message) is the declaration every Gemini model and API version accepts (v1 and v1beta,
AI Studio and Vertex), and its rules are documented, so a conversion can be checked
offline. ``parametersJsonSchema`` is v1beta-only, newer, and its accepted keyword set is
not pinned down. The price is a lossy conversion, with these rules (each one a 400
Gemini is known to give otherwise):

- one ``type`` per node, upper-case (``STRING``…); a type list becomes ``anyOf`` of one
  node per type, and ``"null"`` in it (or a ``{"type": "null"}`` branch) sets
  ``nullable``. Every node has a type ("must be specified when not using any_of"):
  an untyped, unconstrained node becomes ``STRING``; ``properties`` implies ``OBJECT``,
  ``items`` ``ARRAY``, a string ``enum``/``const`` ``STRING``.
- keywords stay only on the type they belong to (``items`` only on ``ARRAY``,
  ``properties``/``required`` only on ``OBJECT``; ``required`` keeps known names only);
  an ``ARRAY`` always has ``items`` (``STRING`` when the source has none).
- ``enum`` only on ``STRING``, values as strings; ``const`` → a one-value ``enum``;
  other enums move into the description ("Allowed values: …").
- ``format`` kept only where Gemini takes it (``enum``/``date-time`` on strings,
  ``float``/``double``, ``int32``/``int64``).
- ``$ref`` is inlined from ``$defs``/``definitions`` up to ``MAX_REF_DEPTH`` nested
  references (deeper: a bare ``OBJECT``); ``allOf`` is merged, ``oneOf`` becomes ``anyOf``.
- dropped: ``$schema``, ``$id``, ``$defs``, ``additionalProperties``, ``strict``,
  ``default``, ``examples``, ``title``, ``not``, ``if``/``then``/``else``, and anything
  else not in ``Schema``.
- the root must be an ``OBJECT`` with properties; a tool without any gets no
  ``parameters`` at all ("properties: should be non-empty for OBJECT type").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

MAX_REF_DEPTH = 6

_TYPES = {
    "string": "STRING",
    "number": "NUMBER",
    "integer": "INTEGER",
    "boolean": "BOOLEAN",
    "array": "ARRAY",
    "object": "OBJECT",
}
_FORMATS = {
    "STRING": frozenset({"enum", "date-time"}),
    "NUMBER": frozenset({"float", "double"}),
    "INTEGER": frozenset({"int32", "int64"}),
}
_LIMITS = {
    "STRING": ("minLength", "maxLength"),
    "NUMBER": ("minimum", "maximum"),
    "INTEGER": ("minimum", "maximum"),
    "ARRAY": ("minItems", "maxItems"),
    "OBJECT": ("minProperties", "maxProperties"),
}
_ANY_VALUE = {"type": "STRING"}


def gemini_parameters(schema: Mapping[str, object] | None) -> dict[str, object] | None:
    """The ``parameters`` of a declaration, or None when the tool takes no arguments."""
    if schema is None:
        return None
    definitions = {**_mapping(schema.get("definitions")), **_mapping(schema.get("$defs"))}
    converted = _Converter(definitions).convert(schema, 0)
    if converted.get("type") != "OBJECT" or not converted.get("properties"):
        return None
    return converted


class _Converter:
    __slots__ = ("_definitions",)

    def __init__(self, definitions: Mapping[str, object]) -> None:
        self._definitions = definitions

    def convert(self, node: object, depth: int) -> dict[str, object]:
        """One schema node; ``depth`` counts the references inlined on the way here."""
        if not isinstance(node, Mapping):
            return dict(_ANY_VALUE)
        if isinstance(node.get("$ref"), str):
            return self._reference(node, depth)
        node = _merge_all_of(node)
        names, nullable = _type_names(node)
        if len(names) == 1:
            out = self._typed(node, names[0], depth)
        elif names:
            out = {"anyOf": [self._typed(node, name, depth) for name in names]}
            _describe(out, node)
        else:
            out, nullable = self._untyped(node, depth, nullable)
        if nullable:
            out["nullable"] = True
        return out

    def _reference(self, node: Mapping[str, object], depth: int) -> dict[str, object]:
        ref = str(node["$ref"])
        target = self._definitions.get(ref.rsplit("/", 1)[-1])
        if depth >= MAX_REF_DEPTH or not isinstance(target, Mapping):
            out: dict[str, object] = {"type": "OBJECT"}
        else:
            out = self.convert(target, depth + 1)
        _describe(out, node)
        return out

    def _untyped(
        self, node: Mapping[str, object], depth: int, nullable: bool
    ) -> tuple[dict[str, object], bool]:
        variants = node.get("anyOf", node.get("oneOf"))
        branches = [b for b in _sequence(variants) if not _is_null_schema(b)]
        nullable = nullable or len(branches) < len(_sequence(variants))
        if len(branches) == 1:
            out = self.convert(branches[0], depth)
        elif branches:
            out = {"anyOf": [self.convert(branch, depth) for branch in branches]}
        else:
            out = dict(_ANY_VALUE)
        _describe(out, node)
        return out, nullable

    def _typed(self, node: Mapping[str, object], json_type: str, depth: int) -> dict[str, object]:
        gemini_type = _TYPES[json_type]
        out: dict[str, object] = {"type": gemini_type}
        _describe(out, node)
        for key in _LIMITS.get(gemini_type, ()):
            value = node.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                out[key] = value
        format_ = node.get("format")
        if isinstance(format_, str) and format_ in _FORMATS.get(gemini_type, ()):
            out["format"] = format_
        if gemini_type == "STRING" and isinstance(node.get("pattern"), str):
            out["pattern"] = node["pattern"]
        _enumerate(out, node)
        if gemini_type == "OBJECT":
            self._object(out, node, depth)
        elif gemini_type == "ARRAY":
            out["items"] = self._items(node.get("items"), depth)
        return out

    def _object(self, out: dict[str, object], node: Mapping[str, object], depth: int) -> None:
        properties = {
            name: self.convert(schema, depth)
            for name, schema in _mapping(node.get("properties")).items()
        }
        if properties:
            out["properties"] = properties
            required = [
                name
                for name in _sequence(node.get("required"))
                if isinstance(name, str) and name in properties
            ]
            if required:
                out["required"] = required

    def _items(self, items: object, depth: int) -> dict[str, object]:
        if isinstance(items, Sequence) and not isinstance(items, str):  # tuple form
            return self.convert({"anyOf": list(items)}, depth) if items else dict(_ANY_VALUE)
        return self.convert(items, depth) if isinstance(items, Mapping) else dict(_ANY_VALUE)


def _type_names(node: Mapping[str, object]) -> tuple[list[str], bool]:
    """The JSON types a node allows (null aside), and whether null is allowed."""
    declared = node.get("type")
    raw = [declared] if isinstance(declared, str) else list(_sequence(declared))
    names = [name for name in raw if isinstance(name, str) and name in _TYPES]
    nullable = "null" in raw
    if names or nullable:
        return names, nullable
    if "properties" in node:
        return ["object"], False
    if "items" in node:
        return ["array"], False
    values = _enum_values(node)
    if values and all(isinstance(value, str) for value in values):
        return ["string"], False
    return [], False


def _enumerate(out: dict[str, object], node: Mapping[str, object]) -> None:
    values = _enum_values(node)
    if not values:
        return
    if out["type"] == "STRING" and all(isinstance(value, str) for value in values):
        out["enum"] = values
        return
    listed = ", ".join(_plain(value) for value in values)
    out["description"] = f"{out.get('description', '')} Allowed values: {listed}.".strip()


def _enum_values(node: Mapping[str, object]) -> list[object]:
    if "const" in node:
        return [node["const"]]
    return [value for value in _sequence(node.get("enum")) if value is not None]


def _merge_all_of(node: Mapping[str, object]) -> Mapping[str, object]:
    """``allOf`` folded into the node: properties and required joined, the rest first-wins."""
    parts = [part for part in _sequence(node.get("allOf")) if isinstance(part, Mapping)]
    if not parts:
        return node
    merged: dict[str, object] = {key: value for key, value in node.items() if key != "allOf"}
    properties = dict(_mapping(node.get("properties")))
    required = list(_sequence(node.get("required")))
    for part in (_merge_all_of(part) for part in parts):
        properties.update(_mapping(part.get("properties")))
        required.extend(_sequence(part.get("required")))
        for key, value in part.items():
            merged.setdefault(key, value)
    if properties:
        merged["properties"] = properties
        merged.setdefault("type", "object")
    if required:
        merged["required"] = list(dict.fromkeys(name for name in required if isinstance(name, str)))
    return merged


def _describe(out: dict[str, object], node: Mapping[str, object]) -> None:
    description = node.get("description")
    if isinstance(description, str) and description and "description" not in out:
        out["description"] = description


def _is_null_schema(node: object) -> bool:
    return isinstance(node, Mapping) and node.get("type") == "null"


def _plain(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _sequence(value: object) -> Sequence[object]:
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return value
    return ()


__all__ = ["MAX_REF_DEPTH", "gemini_parameters"]
