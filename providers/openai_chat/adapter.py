"""The OpenAI Chat Completions family through the IR: one adapter, one ``ChatQuirks`` each.

``POST {base_url}/chat/completions`` with ``Authorization: Bearer <key>`` (left out when
the key is empty, as for a local server). OpenAI itself, Mistral, Groq, Cerebras,
Perplexity and any OpenAI-compatible server speak this format; what differs between them
is data (``ChatQuirks``, declared by each provider's own module), never a branch on a
provider's name here. The translation decisions are documented where they are made:

- ``_messages``: roles, tool calls and results, images, reasoning echo, the
  tool-less transcript, role bridging and alternation;
- ``_request``: tools, tool choice, token limit field, reasoning effort,
  ``stream_options``;
- ``_reply``: stream and body decoding (tolerant of every member's shape),
  usage, finish reasons;
- ``_tool_wire``: namespace flattening and the custom-tool emulation;
- errors: the OpenAI error shape (``openai_errors.map_openai_error``), which the family
  shares (Mistral's top-level ``{"object": "error", "message"}`` included).

Decoding an emulated custom tool (``apply_patch``) needs the request's tools: pass
``tools=request.tools`` to ``parse_reply`` / ``new_stream_decoder``.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from messages.chat import ChatRequest, StreamDelta, ToolSpec
from messages.errors import ErrorInfo
from providers._tool_wire import ToolTable, plain_json
from providers.adapter import CallTarget, HttpCall
from providers.openai_chat._quirks import ChatQuirks, same_id
from providers.openai_chat._reply import ChatReplyDecoder, parse_completion
from providers.openai_chat._request import encode_body
from providers.openai_errors import map_openai_error

CHAT_PATH = "/chat/completions"


class OpenAIChatAdapter:
    """A ``ProviderAdapter`` for one Chat Completions provider, set by its quirks."""

    __slots__ = ("_quirks",)

    def __init__(self, quirks: ChatQuirks) -> None:
        self._quirks = quirks

    @property
    def name(self) -> str:
        return self._quirks.name

    @property
    def quirks(self) -> ChatQuirks:
        return self._quirks

    def build_call(self, request: ChatRequest, target: CallTarget) -> HttpCall:
        body = encode_body(request, self._quirks, model=target.model, stream=target.stream)
        headers = [
            ("content-type", "application/json"),
            ("accept", "text/event-stream" if target.stream else "application/json"),
        ]
        if target.api_key:
            headers.insert(0, ("authorization", "Bearer " + target.api_key))
        return HttpCall(
            method="POST",
            path=CHAT_PATH,
            headers=tuple(headers),
            body=orjson.dumps(body, default=plain_json),
        )

    def parse_reply(self, body: bytes, tools: Sequence[ToolSpec] = ()) -> Sequence[StreamDelta]:
        return parse_completion(body, ToolTable(tools), provider=self._quirks.name)

    def new_stream_decoder(self, tools: Sequence[ToolSpec] = ()) -> ChatReplyDecoder:
        return ChatReplyDecoder(
            ToolTable(tools),
            provider=self._quirks.name,
            ends_with_done=self._quirks.ends_with_done,
        )

    def map_error(self, status: int, headers: Sequence[tuple[str, str]], body: bytes) -> ErrorInfo:
        return map_openai_error(status, _lowered(headers), body)


def _lowered(headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """``map_openai_error`` looks headers up by lower-case name."""
    return [(name.lower(), value) for name, value in headers]


__all__ = ["CHAT_PATH", "ChatQuirks", "OpenAIChatAdapter", "same_id"]
