"""What determines an answer, hashed: the exact cache key and the semantic context.

Pure. The exact key is a BLAKE2b-256 of a canonical document: the client format, the
scope (account, team, customer) and the request body with

- every field that does not change the answer removed (``IGNORED_FIELDS``: the client's
  cache routing, metadata, storage and streaming options, Codex's per-turn metadata),
  so a streamed request and a non-streamed one share their key;
- the ids a client makes for its input items removed (Codex gives every input message
  a fresh ``msg_<uuid>``), and tool call ids replaced by their order of first
  appearance (``call_0``, ``call_1``…): they pair a call with its result, and a cached
  answer is served with fresh call ids;
- sampling numbers written as integers when they are whole (``1`` and ``1.0`` agree);

serialised with sorted keys (orjson), so neither key order nor whitespace matters.
Everything else in the body counts, unknown fields included: a field this module does
not know can only cost a miss, never a wrong answer.

The semantic context (``semantic_context``) is the same canonical document without the
latest user message: its fingerprint must match exactly for a semantic hit, and the
latest user text is what gets embedded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

IGNORED_FIELDS = frozenset(
    {
        "stream",
        "stream_options",
        "store",
        "prompt_cache_key",
        "prompt_cache_retention",
        "client_metadata",
        "metadata",
        "user",
        "safety_identifier",
        "service_tier",
        "background",
        "x-codex-turn-metadata",
    }
)
"""Top-level body fields that do not change the answer."""

_NUMBERS = ("temperature", "top_p", "frequency_penalty", "presence_penalty", "seed", "n")
_CALL_ID_FIELDS = ("call_id", "tool_call_id")
_TOOL_RESULT_TYPES = frozenset({"function_call_output", "custom_tool_call_output"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """Whose entries a request may see: never another account, team or customer."""

    account: str
    team: str | None = None
    customer: str | None = None

    def label(self) -> str:
        return f"{self.account}/{self.team or '-'}/{self.customer or '-'}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SemanticContext:
    """What the semantic layer needs: the fingerprint everything but the latest user
    message hashes to, and that message's text (``""``: nothing to embed)."""

    fingerprint: bytes
    latest_user_text: str
    tool_results: bool  # the request carries a tool's result


def exact_key(client_format: str, scope: Scope, body: Mapping[str, Any]) -> bytes:
    """The request's exact cache key (32 bytes)."""
    return _digest(client_format, scope, canonical_body(body))


def canonical_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` without what does not change the answer (see the module docstring)."""
    calls = _CallIds()
    out: dict[str, Any] = {}
    for name, value in body.items():
        if name in IGNORED_FIELDS:
            continue
        if name in ("input", "messages") and isinstance(value, list):
            out[name] = [_item(item, calls) for item in value]
        elif name in _NUMBERS and isinstance(value, float) and value.is_integer():
            out[name] = int(value)
        else:
            out[name] = value
    return out


def semantic_context(client_format: str, scope: Scope, body: Mapping[str, Any]) -> SemanticContext:
    """The fingerprint of everything but the latest user message, and its text."""
    canonical = canonical_body(body)
    field = "messages" if "messages" in canonical else "input"
    items = canonical.get(field)
    if isinstance(items, str):  # Responses' short form: the whole input is one user text
        canonical[field] = []
        fingerprint = _digest(client_format, scope, canonical)
        return SemanticContext(fingerprint=fingerprint, latest_user_text=items, tool_results=False)
    if not isinstance(items, list):
        return SemanticContext(
            fingerprint=_digest(client_format, scope, canonical),
            latest_user_text="",
            tool_results=False,
        )
    latest = _latest_user(items)
    text = "" if latest is None else user_text(items[latest])
    canonical[field] = items if latest is None else items[:latest]
    return SemanticContext(
        fingerprint=_digest(client_format, scope, canonical),
        latest_user_text=text,
        tool_results=any(_is_tool_result(item) for item in items),
    )


def user_text(item: object) -> str:
    """The text of a user message item (string content, or its text parts joined)."""
    if not isinstance(item, Mapping):
        return ""
    content = item.get("content")
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = [
        part.get("text")
        for part in content
        if isinstance(part, Mapping) and part.get("type") in ("input_text", "text")
    ]
    return "\n".join(part for part in parts if isinstance(part, str))


def _latest_user(items: Sequence[object]) -> int | None:
    for index in range(len(items) - 1, -1, -1):
        item = items[index]
        if isinstance(item, Mapping) and item.get("role") == "user":
            kind = item.get("type", "message")
            if kind == "message":
                return index
    return None


def _is_tool_result(item: object) -> bool:
    if not isinstance(item, Mapping):
        return False
    return item.get("type") in _TOOL_RESULT_TYPES or item.get("role") == "tool"


class _CallIds:
    """Tool call ids → ``call_<n>`` by order of first appearance."""

    def __init__(self) -> None:
        self._seen: dict[object, str] = {}

    def __call__(self, value: object) -> object:
        if not isinstance(value, str):
            return value
        name = self._seen.get(value)
        if name is None:
            name = self._seen[value] = f"call_{len(self._seen)}"
        return name


def _item(item: object, calls: _CallIds) -> object:
    """An input item (Responses) or message (Chat) without its own id, calls renamed."""
    if not isinstance(item, Mapping):
        return item
    out: dict[str, Any] = {}
    for name, value in item.items():
        if name == "id":
            continue
        if name in _CALL_ID_FIELDS:
            out[name] = calls(value)
        elif name == "tool_calls" and isinstance(value, list):
            out[name] = [_chat_call(call, calls) for call in value]
        else:
            out[name] = value
    return out


def _chat_call(call: object, calls: _CallIds) -> object:
    if not isinstance(call, Mapping):
        return call
    return {name: calls(value) if name == "id" else value for name, value in call.items()}


def _digest(client_format: str, scope: Scope, canonical: Mapping[str, Any]) -> bytes:
    document = {
        "format": client_format,
        "scope": [scope.account, scope.team, scope.customer],
        "body": canonical,
    }
    return hashlib.blake2b(
        orjson.dumps(document, option=orjson.OPT_SORT_KEYS), digest_size=32
    ).digest()


__all__ = [
    "IGNORED_FIELDS",
    "Scope",
    "SemanticContext",
    "canonical_body",
    "exact_key",
    "semantic_context",
    "user_text",
]
