"""Which exchange serves a request: a passthrough when the client already speaks the
upstream's format, a translation through the IR otherwise."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from messages.chat import ClientFormat
from providers.adapter import CallTarget
from providers.client_formats.anthropic_encoder import AnthropicStreamEncoder
from providers.client_formats.anthropic_format import decode_anthropic_request
from providers.client_formats.chat_encoder import ChatStreamEncoder
from providers.client_formats.chat_format import chat_include_usage, decode_chat_request
from providers.client_formats.request_fields import RequestInvalid
from providers.client_formats.responses_encoder import ResponsesStreamEncoder
from providers.client_formats.responses_format import decode_responses_request
from providers.exchanges.anthropic_passthrough import AnthropicPassthrough
from providers.exchanges.chat_passthrough import ChatPassthrough
from providers.exchanges.protocol import Exchange
from providers.exchanges.responses_passthrough import ResponsesPassthrough
from providers.exchanges.translated import ClientEncoder, TranslatedExchange
from providers.registry import REGISTRY

_TOO_DEEP = "the request body is nested too deeply to forward"
_ORJSON_DEPTH = "Recursion limit reached"  # orjson's message when writing over 254 levels
RESPONSES_NATIVE = frozenset({"openai"})
CHAT_NATIVE = frozenset({"openai", "openai-compatible"})
ANTHROPIC_NATIVE = frozenset({"anthropic"})


class UnsupportedRoute(Exception):
    """No exchange can carry this client format to this provider type."""


def open_exchange(
    client_format: ClientFormat,
    body: Mapping[str, Any],
    *,
    provider_type: str,
    model: str,
    api_key: str,
    request_id: str,
    client_headers: Sequence[tuple[str, str]] = (),
) -> Exchange:
    """Raises ``RequestInvalid`` when the body cannot be translated (a 400), including a
    body nested deeper than JSON can be written back (orjson writes 254 levels, reads
    1024) or than a schema converter can walk. ``client_headers``: what the client sent
    that a passthrough forwards (``anthropic-beta``)."""
    try:
        return _open(
            client_format,
            body,
            provider_type=provider_type,
            model=model,
            api_key=api_key,
            request_id=request_id,
            client_headers=client_headers,
        )
    except RecursionError as exc:
        raise RequestInvalid(_TOO_DEEP) from exc
    except TypeError as exc:  # orjson.JSONEncodeError is TypeError itself: only its depth
        if _ORJSON_DEPTH not in str(exc):
            raise
        raise RequestInvalid(_TOO_DEEP) from exc


def _open(
    client_format: ClientFormat,
    body: Mapping[str, Any],
    *,
    provider_type: str,
    model: str,
    api_key: str,
    request_id: str,
    client_headers: Sequence[tuple[str, str]] = (),
) -> Exchange:
    if client_format is ClientFormat.RESPONSES and provider_type in RESPONSES_NATIVE:
        return ResponsesPassthrough(body, model=model, api_key=api_key, path="/responses")
    if client_format is ClientFormat.CHAT and provider_type in CHAT_NATIVE:
        return ChatPassthrough(body, model=model, api_key=api_key, path="/chat/completions")
    if client_format is ClientFormat.ANTHROPIC and provider_type in ANTHROPIC_NATIVE:
        return AnthropicPassthrough(
            body, model=model, api_key=api_key, client_headers=client_headers
        )
    adapter = REGISTRY.get(provider_type)
    if adapter is None:
        raise UnsupportedRoute(f"no adapter for provider type {provider_type!r}")
    stream = bool(body.get("stream"))
    if client_format is ClientFormat.RESPONSES:
        request = decode_responses_request(body)
    elif client_format is ClientFormat.ANTHROPIC:
        request = decode_anthropic_request(body)
    else:
        request = decode_chat_request(body)
    target = CallTarget(model=model, api_key=api_key, stream=stream)
    return TranslatedExchange(
        request, adapter, target, _encoder(client_format, body, model, request_id)
    )


def _encoder(
    client_format: ClientFormat, body: Mapping[str, Any], model: str, request_id: str
) -> ClientEncoder:
    stream = bool(body.get("stream"))
    created = int(time.time())
    suffix = request_id.removeprefix("req_")
    if client_format is ClientFormat.ANTHROPIC:
        return AnthropicStreamEncoder(message_id="msg_" + suffix, model=model, streaming=stream)
    if client_format is ClientFormat.RESPONSES:
        return ResponsesStreamEncoder(
            response_id="resp_" + suffix, model=model, created_at=created, streaming=stream
        )
    return ChatStreamEncoder(
        response_id="chatcmpl-" + suffix,
        model=model,
        created_at=created,
        streaming=stream,
        include_usage=chat_include_usage(body),
    )


__all__ = [
    "ANTHROPIC_NATIVE",
    "CHAT_NATIVE",
    "RESPONSES_NATIVE",
    "UnsupportedRoute",
    "open_exchange",
]
