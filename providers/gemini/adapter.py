"""The Google Gemini adapter (``type: gemini``): generativelanguage v1beta.

``POST {base_url}/models/{model}:generateContent``, or
``…:streamGenerateContent?alt=sse`` for a stream (every ``data:`` line a whole
``GenerateContentResponse`` with only the new parts; no event names, no ``[DONE]``).
The key goes in the ``x-goog-api-key`` header, never in the URL (URLs get logged).
``base_url`` is e.g. ``https://generativelanguage.googleapis.com/v1beta``.

The translation lives in underscore modules: ``_request`` (the request body),
``_schema`` (JSON Schema → Gemini's OpenAPI subset), ``_reply`` (replies →
deltas), ``_call_ids`` (minted call ids), ``_errors``; tool names and the
custom-tool emulation are the shared ``_tool_wire``.

Custom tools and namespaces are decoded exactly from the request's ``tools`` given to
``parse_reply``/``new_stream_decoder``. Without them, a function name ``a__b`` is read as
namespace ``a``, tool ``b``, and no call is taken for a custom one.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

import orjson

from messages.chat import ChatRequest, StreamDelta, ToolSpec
from messages.errors import ErrorInfo
from providers._tool_wire import ToolTable, plain_json
from providers.adapter import CallTarget, HttpCall
from providers.gemini._errors import map_gemini_error
from providers.gemini._reply import ReplyDecoder
from providers.gemini._request import PROVIDER, build_body
from providers.sse import SseEvent


class GeminiStreamDecoder:
    """One ``alt=sse`` stream: each event's data is a whole response document."""

    __slots__ = ("_reply",)

    def __init__(self, tools: ToolTable) -> None:
        self._reply = ReplyDecoder(tools)

    def feed(self, event: SseEvent) -> Sequence[StreamDelta]:
        data = event.data.strip()
        if not data:
            return []
        try:
            document = orjson.loads(data)
        except orjson.JSONDecodeError:
            return self._reply.unreadable("a stream event that is not JSON")
        return self._reply.document(document)

    def close(self) -> Sequence[StreamDelta]:
        return self._reply.end()


class GeminiAdapter:
    """The ``ProviderAdapter`` for ``type: gemini``."""

    @property
    def name(self) -> str:
        return PROVIDER

    def build_call(self, request: ChatRequest, target: CallTarget) -> HttpCall:
        model = target.model.removeprefix("models/")
        method = "streamGenerateContent?alt=sse" if target.stream else "generateContent"
        accept = "text/event-stream" if target.stream else "application/json"
        return HttpCall(
            method="POST",
            path=f"/models/{quote(model, safe='-._~')}:{method}",
            headers=(
                ("x-goog-api-key", target.api_key),
                ("content-type", "application/json"),
                ("accept", accept),
            ),
            body=orjson.dumps(build_body(request, model), default=plain_json),
        )

    def parse_reply(self, body: bytes, tools: Sequence[ToolSpec] = ()) -> Sequence[StreamDelta]:
        reply = ReplyDecoder(ToolTable(tools))
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            return reply.unreadable("a reply body that is not JSON")
        # a JSON array is what ``streamGenerateContent`` without ``alt=sse`` sends
        documents = document if isinstance(document, list) else [document]
        deltas = [delta for doc in documents for delta in reply.document(doc)]
        return [*deltas, *reply.end()]

    def new_stream_decoder(self, tools: Sequence[ToolSpec] = ()) -> GeminiStreamDecoder:
        return GeminiStreamDecoder(ToolTable(tools))

    def map_error(self, status: int, headers: Sequence[tuple[str, str]], body: bytes) -> ErrorInfo:
        return map_gemini_error(status, headers, body)


ADAPTER = GeminiAdapter()

__all__ = ["ADAPTER", "GeminiAdapter", "GeminiStreamDecoder"]
