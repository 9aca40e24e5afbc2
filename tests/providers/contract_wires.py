"""Which fake wire format speaks each registered provider type's protocol."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from fakes import Reply
from fakes.anthropic_wire import ANTHROPIC
from fakes.cohere_wire import COHERE
from fakes.gemini_wire import GEMINI
from fakes.mistral_wire import MISTRAL
from fakes.openai_wire import CHAT
from fakes.wire import Answer, WireContext, WireFormat


class ChatWithUsage:
    """The Chat fake as our adapters call it: they always ask for streamed usage."""

    def __getattr__(self, name: str) -> object:
        return getattr(CHAT, name)

    def stream_events(
        self, reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None
    ) -> Sequence[bytes]:
        request = {**ctx.request, "stream_options": {"include_usage": True}}
        return CHAT.stream_events(reply, _with_request(ctx, request), failure=failure)

    def complete_answer(
        self, reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None
    ) -> Answer:
        return CHAT.complete_answer(reply, ctx, failure=failure)


def _with_request(ctx: WireContext, request: dict[str, object]) -> WireContext:
    return WireContext(
        model=ctx.model, token=ctx.token, created=ctx.created, usage=ctx.usage, request=request
    )


class PerplexityLike(ChatWithUsage):
    """Perplexity's stream shape (see its recordings): every chunk repeats the cumulative
    usage, and there is no usage-only chunk and no ``[DONE]``."""

    def stream_events(
        self, reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None
    ) -> Sequence[bytes]:
        events = super().stream_events(reply, ctx, failure=failure)
        chunks = [orjson.loads(e[6:]) for e in events if e.startswith(b"data: {")]
        usage = next((c["usage"] for c in chunks if c.get("usage")), None)
        return [
            b"data: " + orjson.dumps({**chunk, "usage": usage}) + b"\n\n"
            for chunk in chunks
            if chunk.get("choices")
        ]


CHAT_WITH_USAGE: WireFormat = ChatWithUsage()  # type: ignore[assignment]

WIRE_FOR_TYPE: dict[str, WireFormat] = {
    "anthropic": ANTHROPIC,
    "cerebras": CHAT_WITH_USAGE,
    "cohere": COHERE,
    "gemini": GEMINI,
    "groq": CHAT_WITH_USAGE,
    "mistral": MISTRAL,
    "openai": CHAT_WITH_USAGE,
    "openai-compatible": CHAT_WITH_USAGE,
    "perplexity": PerplexityLike(),  # type: ignore[dict-item]
}

TOOLLESS = frozenset({"perplexity"})
"""Provider types without tool calling: the contract's tool checks do not apply."""
