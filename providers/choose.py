"""Which exchange serves a request: passthrough when the client already speaks the
upstream's format, translation through the IR otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from messages.chat import ClientFormat
from providers.chat_passthrough import ChatPassthrough
from providers.exchange import Exchange
from providers.passthrough import ResponsesPassthrough

RESPONSES_NATIVE = frozenset({"openai"})
CHAT_NATIVE = frozenset({"openai", "openai-compatible"})


class UnsupportedRoute(Exception):
    """No exchange can carry this client format to this provider type (yet)."""


def open_exchange(
    client_format: ClientFormat,
    body: Mapping[str, Any],
    *,
    provider_type: str,
    model: str,
    api_key: str,
) -> Exchange:
    if client_format is ClientFormat.RESPONSES and provider_type in RESPONSES_NATIVE:
        return ResponsesPassthrough(body, model=model, api_key=api_key, path="/responses")
    if client_format is ClientFormat.CHAT and provider_type in CHAT_NATIVE:
        return ChatPassthrough(body, model=model, api_key=api_key, path="/chat/completions")
    raise UnsupportedRoute(f"{client_format} requests cannot be sent to {provider_type} providers")


__all__ = ["CHAT_NATIVE", "RESPONSES_NATIVE", "UnsupportedRoute", "open_exchange"]
