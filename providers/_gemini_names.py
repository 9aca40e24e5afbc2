"""Names on Gemini's wire: tool names (namespaces, emulated custom tools) and call ids.

Tool names: a ``ToolSpec`` with a namespace travels as ``"{namespace}__{name}"``; a
custom (free-form) tool travels as a function of one string parameter, ``input``.
``WireTools`` maps wire names back to what the client offered. Without the request at
hand, a wire name is split at its first ``__`` and taken for a function.

Call ids: Gemini usually sends none. The gateway keeps no state, so ids are minted from
the reply itself: ``call_`` + 24 hex digits of a hash of the response id, the call's
position in the reply and its name — the same reply always gives the same ids, two
calls never share one. On the way back only the name and the order matter to Gemini;
an id that is not minted here (Gemini sent it) is echoed on ``functionCall`` and
``functionResponse``. When a reply has no ``responseId`` the decoder salts with a random
token instead, so ids stay unique (not reproducible).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from messages.chat import ToolKind, ToolSpec

NAMESPACE_SEPARATOR = "__"
CUSTOM_INPUT = "input"
_MINTED = re.compile(r"call_[0-9a-f]{24}")


def wire_name(name: str, namespace: str | None) -> str:
    return name if namespace is None else f"{namespace}{NAMESPACE_SEPARATOR}{name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class WireTool:
    """What a function name on the wire stands for."""

    name: str
    kind: ToolKind = ToolKind.FUNCTION
    namespace: str | None = None


class WireTools:
    """Wire name → offered tool; built from the request's tools."""

    __slots__ = ("_by_wire_name", "_known")

    def __init__(self, tools: Iterable[ToolSpec] = ()) -> None:
        self._by_wire_name = {
            wire_name(tool.name, tool.namespace): WireTool(
                name=tool.name, kind=tool.kind, namespace=tool.namespace
            )
            for tool in tools
        }
        self._known = bool(self._by_wire_name)

    def lookup(self, name: str) -> WireTool:
        found = self._by_wire_name.get(name)
        if found is not None:
            return found
        if not self._known:
            namespace, separator, rest = name.partition(NAMESPACE_SEPARATOR)
            if separator and namespace and rest:
                return WireTool(name=rest, namespace=namespace)
        return WireTool(name=name)


def mint_call_id(salt: str, index: int, name: str) -> str:
    digest = hashlib.sha256(f"{salt}\x1f{index}\x1f{name}".encode()).hexdigest()
    return "call_" + digest[:24]


def is_minted_call_id(call_id: str) -> bool:
    return _MINTED.fullmatch(call_id) is not None


__all__ = [
    "CUSTOM_INPUT",
    "NAMESPACE_SEPARATOR",
    "WireTool",
    "WireTools",
    "is_minted_call_id",
    "mint_call_id",
    "wire_name",
]
