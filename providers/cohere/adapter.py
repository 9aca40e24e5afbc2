"""The Cohere v2 Chat adapter (``type: cohere``): ``POST {base_url}/chat``.

``base_url`` already ends in ``/v2`` (``https://api.cohere.com/v2``). The key goes in
``Authorization: Bearer``; streaming is ``stream: true`` in the body (SSE events named
after each data's ``type``). The translation decisions are documented where they are made:

- ``_request``: messages, tool results as documents, tool choice (``REQUIRED`` /
  ``NONE`` only), sampling, ``thinking``;
- ``_reply``: the stream grammar and the body, the tool plan and thinking as
  reasoning, usage on ``billed_units``, finish reasons;
- ``_errors``: the error mapping (status codes; ``{"message"}`` bodies);
- ``_tool_wire``: namespace flattening and the custom-tool emulation.

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
from providers.cohere._errors import map_cohere_error
from providers.cohere._reply import CohereStreamDecoder, parse_chat_body
from providers.cohere._request import PROVIDER, encode_body

CHAT_PATH = "/chat"


class CohereAdapter:
    """``providers.REGISTRY["cohere"]``."""

    __slots__ = ()

    @property
    def name(self) -> str:
        return PROVIDER

    def build_call(self, request: ChatRequest, target: CallTarget) -> HttpCall:
        body = encode_body(request, model=target.model, stream=target.stream)
        headers = (
            ("authorization", "Bearer " + target.api_key),
            ("content-type", "application/json"),
            ("accept", "text/event-stream" if target.stream else "application/json"),
        )
        return HttpCall(
            method="POST",
            path=CHAT_PATH,
            headers=headers,
            body=orjson.dumps(body, default=plain_json),
        )

    def parse_reply(self, body: bytes, tools: Sequence[ToolSpec] = ()) -> Sequence[StreamDelta]:
        return parse_chat_body(body, ToolTable(tools))

    def new_stream_decoder(self, tools: Sequence[ToolSpec] = ()) -> CohereStreamDecoder:
        return CohereStreamDecoder(ToolTable(tools))

    def map_error(self, status: int, headers: Sequence[tuple[str, str]], body: bytes) -> ErrorInfo:
        return map_cohere_error(status, headers, body)


ADAPTER = CohereAdapter()

__all__ = ["ADAPTER", "CHAT_PATH", "CohereAdapter"]
