"""Typed reads from YAML nodes, each failure a ``ConfigError`` with the node's line.

The loader composes the file into nodes (never plain Python data) so that every
value keeps its ``start_mark``; this module turns nodes into checked values.
Messages describe the problem and the place, never a value: values may be secrets.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import yaml

from config._interpolation import InterpolationError, has_references, interpolate

if TYPE_CHECKING:
    from collections.abc import Mapping

_NULL_TAG = "tag:yaml.org,2002:null"
_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_TAG_NAMES = {
    _STR_TAG: "a string",
    _INT_TAG: "an integer",
    _FLOAT_TAG: "a number",
    _BOOL_TAG: "a boolean",
    _NULL_TAG: "null",
    "tag:yaml.org,2002:timestamp": "a timestamp",
    "tag:yaml.org,2002:binary": "binary data",
}


class ConfigError(Exception):
    """A config file that cannot be used; ``str()`` is ``"{source}:{line}: {problem}"``.

    ``line`` is 1-based, 0 when unknown. ``problem`` never holds a secret's value.
    """

    def __init__(self, source: str, line: int, problem: str) -> None:
        super().__init__(source, line, problem)
        self.source = source
        self.line = line
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.problem}"


def line_of(node: yaml.Node) -> int:
    """The node's 1-based line (0 if the node carries no mark)."""
    mark = node.start_mark
    return 0 if mark is None else mark.line + 1


def describe(node: yaml.Node) -> str:
    """What kind of YAML value ``node`` is, for messages ("a list", "an integer")."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return _TAG_NAMES.get(node.tag, f"a value tagged {node.tag}")


def is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeReader:
    """Reads nodes of one document; knows its source name and environment."""

    source: str
    environ: Mapping[str, str]

    def error(self, node: yaml.Node | None, problem: str) -> ConfigError:
        return ConfigError(self.source, 0 if node is None else line_of(node), problem)

    def fields(self, node: yaml.Node, where: str, allowed: frozenset[str]) -> Fields:
        """Check ``node`` is a mapping of known, unique string keys."""
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{_at(where)}expected a mapping, got {describe(node)}")
        values: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, where)
            if key in values:
                raise self.error(key_node, f"{_at(where)}duplicate key '{key}'")
            if key not in allowed:
                raise self.error(key_node, _unknown_key(where, key, allowed))
            values[key] = value_node
        return Fields(reader=self, node=node, where=where, values=values)

    def items(self, node: yaml.Node, where: str) -> list[yaml.Node]:
        """Check ``node`` is a list and return its item nodes."""
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, f"{_at(where)}expected a list, got {describe(node)}")
        return list(node.value)

    def string(self, node: yaml.Node, where: str) -> str:
        """A non-empty string, with ``${NAME}`` references filled in."""
        if not isinstance(node, yaml.ScalarNode) or node.tag != _STR_TAG:
            raise self.error(node, f"{_at(where)}expected a string, got {describe(node)}")
        text = self._interpolate(node, where)
        if not text:
            raise self.error(node, f"{_at(where)}must not be empty")
        return text

    def integer(
        self, node: yaml.Node, where: str, *, minimum: int, maximum: int | None = None
    ) -> int:
        value = self._number(node, where, integer=True)
        if not isinstance(value, int):
            raise self.error(node, f"{_at(where)}expected an integer, got {describe(node)}")
        if value < minimum:
            raise self.error(node, f"{_at(where)}must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise self.error(node, f"{_at(where)}must be at most {maximum}")
        return value

    def number(self, node: yaml.Node, where: str, *, positive: bool) -> float:
        """A finite number; ``positive`` demands > 0, otherwise >= 0."""
        value = float(self._number(node, where, integer=False))
        if not math.isfinite(value):
            raise self.error(node, f"{_at(where)}must be a finite number")
        if positive and value <= 0:
            raise self.error(node, f"{_at(where)}must be greater than 0")
        if value < 0:
            raise self.error(node, f"{_at(where)}must not be negative")
        return value

    def _number(self, node: yaml.Node, where: str, *, integer: bool) -> int | float:
        """An int or float scalar; a quoted ``"${NAME}"`` is filled in, then parsed."""
        noun = "an integer" if integer else "a number"
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, f"{_at(where)}expected {noun}, got {describe(node)}")
        if node.tag == _STR_TAG and has_references(node.value):
            text = self._interpolate(node, where).strip()
            try:
                return int(text) if integer else float(text)
            except ValueError:
                problem = f"{_at(where)}expected {noun} after filling in environment variables"
                raise self.error(node, problem) from None
        if node.tag in (_INT_TAG, _FLOAT_TAG):
            value = yaml.constructor.SafeConstructor().construct_object(node)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
        raise self.error(node, f"{_at(where)}expected {noun}, got {describe(node)}")

    def _interpolate(self, node: yaml.ScalarNode, where: str) -> str:
        text: str = node.value
        try:
            return interpolate(text, self.environ)
        except InterpolationError as exc:
            raise self.error(node, f"{_at(where)}{exc}") from None

    def _key(self, key_node: yaml.Node, where: str) -> str:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR_TAG:
            raise self.error(
                key_node, f"{_at(where)}keys must be strings, got {describe(key_node)}"
            )
        key: str = key_node.value
        return key


def _at(where: str) -> str:
    """The message prefix naming a place ("" at the top level)."""
    return f"{where}: " if where else ""


def _unknown_key(where: str, key: str, allowed: frozenset[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"{_at(where)}unknown key '{key}' (allowed: {', '.join(sorted(allowed))}){hint}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Fields:
    """The checked keys of one mapping; a key with a null value counts as absent."""

    reader: NodeReader
    node: yaml.MappingNode
    where: str
    values: Mapping[str, yaml.Node]

    @property
    def line(self) -> int:
        return line_of(self.node)

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def has(self, key: str) -> bool:
        """Whether the key is written, even with a null value."""
        return key in self.values

    def get(self, key: str) -> yaml.Node | None:
        node = self.values.get(key)
        return None if node is None or is_null(node) else node

    def require(self, key: str) -> yaml.Node:
        node = self.values.get(key)
        if node is None:
            where = self.where or "the top level"
            raise self.reader.error(self.node, f"{_at(where)}missing required key '{key}'")
        if is_null(node):
            raise self.reader.error(node, f"{self.path(key)}: has no value")
        return node

    def string(self, key: str) -> str:
        return self.reader.string(self.require(key), self.path(key))

    def optional_string(self, key: str) -> str | None:
        node = self.get(key)
        return None if node is None else self.reader.string(node, self.path(key))

    def integer(self, key: str, *, default: int, minimum: int, maximum: int | None = None) -> int:
        value = self.optional_integer(key, minimum=minimum, maximum=maximum)
        return default if value is None else value

    def optional_integer(self, key: str, *, minimum: int, maximum: int | None = None) -> int | None:
        node = self.get(key)
        if node is None:
            return None
        return self.reader.integer(node, self.path(key), minimum=minimum, maximum=maximum)

    def number(self, key: str, *, default: float, positive: bool) -> float:
        value = self.optional_number(key, positive=positive)
        return default if value is None else value

    def optional_number(self, key: str, *, positive: bool) -> float | None:
        node = self.get(key)
        if node is None:
            return None
        return self.reader.number(node, self.path(key), positive=positive)

    def boolean(self, key: str, *, default: bool) -> bool:
        node = self.get(key)
        if node is None:
            return default
        if not isinstance(node, yaml.ScalarNode) or node.tag != _BOOL_TAG:
            problem = f"{self.path(key)}: expected true or false, got {describe(node)}"
            raise self.reader.error(node, problem)
        return node.value.lower() in ("true", "yes", "on")

    def items(self, key: str) -> list[yaml.Node]:
        return self.reader.items(self.require(key), self.path(key))

    def mapping(self, key: str, allowed: frozenset[str]) -> Fields | None:
        node = self.get(key)
        return None if node is None else self.reader.fields(node, self.path(key), allowed)
