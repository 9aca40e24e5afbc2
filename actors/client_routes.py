"""Which client speaks at which path: the inference endpoints by client format, the
model list, and the shape of the HTTP server's own errors for each path.

The HTTP server answers some requests itself, before any handler runs — a body over the
limit (413), one too slow (408), bad HTTP (400) — and ``render_error`` gives those the
shape of the client the path is for, so an Anthropic SDK reads an Anthropic error.
"""

from __future__ import annotations

from actors.client_headers import render_client_error
from actors.count_tokens import COUNT_TOKENS_PATHS
from actors.relay import JSON_HEADER
from messages.chat import ClientFormat
from messages.errors import ErrorInfo, ErrorKind

ENDPOINTS = {
    "/v1/responses": ClientFormat.RESPONSES,
    "/openai/v1/responses": ClientFormat.RESPONSES,
    "/responses": ClientFormat.RESPONSES,
    "/v1/chat/completions": ClientFormat.CHAT,
    "/openai/v1/chat/completions": ClientFormat.CHAT,
    "/chat/completions": ClientFormat.CHAT,
    "/v1/messages": ClientFormat.ANTHROPIC,
    "/anthropic/v1/messages": ClientFormat.ANTHROPIC,
}
MODELS = frozenset({"/v1/models", "/openai/v1/models", "/models"})
KEYED = {**ENDPOINTS, **dict.fromkeys(COUNT_TOKENS_PATHS, ClientFormat.ANTHROPIC)}
"""Every path that needs a virtual key, with the client format it speaks."""


def render_error(
    status: int, message: str, target: str | None
) -> tuple[list[tuple[str, str]], bytes]:
    """The HTTP server's own errors (413, 408, 400 on bad HTTP, 503) in the shape of the
    client the request's path is for (OpenAI's if the path is unknown or unread)."""
    kind = ErrorKind.PAYLOAD_TOO_LARGE if status == 413 else ErrorKind.BAD_REQUEST
    if status >= 500:
        kind = ErrorKind.SHED if status == 503 else ErrorKind.INTERNAL
    client_format = KEYED.get((target or "").partition("?")[0])
    error = ErrorInfo(kind=kind, status=status, message=message)
    return [JSON_HEADER], render_client_error(client_format, error)


__all__ = ["ENDPOINTS", "KEYED", "MODELS", "render_error"]
