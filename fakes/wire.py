"""The contract between the fake server and one wire-format module.

The server owns sockets, the script queue, faults and recording; a wire format
owns bytes. Adding a provider means one new ``<name>_wire.py`` module with an
object satisfying ``WireFormat`` and one line in ``fakes.server.FORMATS``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

import orjson

from fakes.default_reply import Conversation
from fakes.script import (
    CustomToolCall,
    FakeUsage,
    Fault,
    FunctionCall,
    Item,
    Reasoning,
    Reply,
    Text,
)

JsonBody = Mapping[str, object]


@dataclass(frozen=True, slots=True, kw_only=True)
class WireContext:
    """Everything besides the reply that an encoder needs; all of it decided by the server."""

    model: str
    token: str
    created: int
    usage: FakeUsage
    request: JsonBody

    def mint_id(self, prefix: str, index: int, *, sep: str = "_") -> str:
        """A deterministic id such as ``msg_<token>0001`` for the item at ``index``."""
        return f"{prefix}{sep}{self.token}{index:04x}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """A complete (non-streamed) answer: status and body bytes."""

    status: int
    body: bytes


class WireFormat(Protocol):
    """One provider wire format, as the server needs it. All methods are pure."""

    @property
    def name(self) -> str: ...

    def matches(self, method: str, path: str) -> bool:
        """Whether this format serves ``method path`` (path without the query)."""
        ...

    def wants_stream(self, path: str, body: JsonBody) -> bool: ...

    def requested_model(self, path: str, body: JsonBody) -> str: ...

    def conversation(self, body: JsonBody) -> Conversation:
        """The request read for the default behaviour."""
        ...

    def stream_events(
        self, reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None
    ) -> Sequence[bytes]:
        """The whole stream, one element per event, terminal event(s) included."""
        ...

    def complete_answer(
        self, reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None
    ) -> Answer: ...

    def error_body(self, status: int, fault: Fault) -> bytes:
        """The body of an error answer with HTTP ``status``."""
        ...


@runtime_checkable
class PrefixCached(Protocol):
    """A format whose provider caches marked prompt prefixes (``fakes.prompt_cache``)."""

    def cache_scope(self, headers: Sequence[tuple[str, str]]) -> str:
        """Which requests may share cache entries (e.g. the API key)."""
        ...


class BodyDescribed:
    """For formats whose body says ``stream`` and ``model`` (all but Gemini's)."""

    def wants_stream(self, path: str, body: JsonBody) -> bool:
        return body.get("stream") is True

    def requested_model(self, path: str, body: JsonBody) -> str:
        model = body.get("model")
        return model if isinstance(model, str) else "unknown"


def sse_event(name: str | None, data: object) -> bytes:
    """One server-sent event: optional ``event:`` line, compact JSON ``data:`` line."""
    payload = orjson.dumps(data)
    if name is None:
        return b"data: " + payload + b"\n\n"
    return b"event: " + name.encode() + b"\ndata: " + payload + b"\n\n"


def split_text(text: str) -> list[str]:
    """Word-sized fragments (each with its leading whitespace), like a model's deltas."""
    pieces: list[str] = []
    start = 0
    for index in range(1, len(text)):
        if text[index].isspace() and not text[index - 1].isspace():
            pieces.append(text[start:index])
            start = index
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def split_fragments(text: str) -> list[str]:
    """Argument-style fragments: up to four slices, at least two when the text allows."""
    if len(text) < 2:
        return [text] if text else []
    size = -(-len(text) // 4)
    return [text[i : i + size] for i in range(0, len(text), size)]


def cut_in_half(text: str) -> str:
    """The first half of ``text``: how a ``finish="length"`` reply ends its last item."""
    return text[: (len(text) + 1) // 2]


def cut_last_item(items: tuple[Item, ...]) -> tuple[Item, ...]:
    """The items of a ``finish="length"`` reply: the last one stops half-way."""
    if not items:
        return items
    last = items[-1]
    match last:
        case Text(text=text):
            cut: Item = replace(last, text=cut_in_half(text))
        case FunctionCall(arguments=arguments):
            cut = replace(last, arguments=cut_in_half(arguments))
        case CustomToolCall(input=freeform):
            cut = replace(last, input=cut_in_half(freeform))
        case Reasoning(summary=summary):
            cut = replace(last, summary=cut_in_half(summary))
    return (*items[:-1], cut)
