"""The Anthropic Messages adapter (``type: anthropic``): ``POST {base_url}/messages``.

Sans-I/O like every provider module: ``build_call`` encodes a ``ChatRequest``,
``parse_reply`` / ``new_stream_decoder`` decode what comes back into ``StreamDelta``
values, ``map_error`` maps a non-2xx reply into ``messages.errors``. The translation
decisions are documented where they are made:

- ``_messages``: system placement, turn order, tool results, reasoning, images;
- ``_request``: ``max_tokens``, thinking, sampling, tool choice;
- ``_cache_marks``: prompt-cache breakpoints (``cache_control``);
- ``_models``: per-model output ceilings and thinking style;
- ``_reply``: stream and body decoding, usage arithmetic, stop reasons;
- ``_errors``: the error mapping;
- ``_tool_wire``: namespace flattening and the custom-tool emulation.

Decoding an emulated custom tool (``apply_patch``) needs the request's tools: pass
``tools=request.tools`` to ``parse_reply`` / ``new_stream_decoder``. Without them a custom
call comes back as a plain function call with its ``{"input": …}`` JSON.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from messages.chat import ChatRequest, StreamDelta, ToolSpec
from messages.errors import ErrorInfo
from providers._tool_wire import ToolTable, plain_json
from providers.adapter import CallTarget, HttpCall
from providers.anthropic._errors import map_http_error
from providers.anthropic._reply import AnthropicStreamDecoder, parse_message
from providers.anthropic._request import encode_body

API_VERSION = "2023-06-01"
MESSAGES_PATH = "/messages"


class AnthropicAdapter:
    """``providers.REGISTRY["anthropic"]``."""

    __slots__ = ()

    @property
    def name(self) -> str:
        return "anthropic"

    def build_call(self, request: ChatRequest, target: CallTarget) -> HttpCall:
        body = encode_body(
            request, model=target.model, stream=target.stream, prompt_cache=target.prompt_cache
        )
        headers = (
            ("x-api-key", target.api_key),
            ("anthropic-version", API_VERSION),
            ("content-type", "application/json"),
        )
        return HttpCall(
            method="POST",
            path=MESSAGES_PATH,
            headers=headers,
            body=orjson.dumps(body, default=plain_json),
        )

    def parse_reply(self, body: bytes, tools: Sequence[ToolSpec] = ()) -> Sequence[StreamDelta]:
        return parse_message(body, ToolTable(tools))

    def new_stream_decoder(self, tools: Sequence[ToolSpec] = ()) -> AnthropicStreamDecoder:
        return AnthropicStreamDecoder(ToolTable(tools))

    def map_error(self, status: int, headers: Sequence[tuple[str, str]], body: bytes) -> ErrorInfo:
        return map_http_error(status, headers, body)


ADAPTER = AnthropicAdapter()

__all__ = ["ADAPTER", "API_VERSION", "AnthropicAdapter"]
