"""What each client format carries in its headers: the virtual key, the session id.

OpenAI clients send the key as ``Authorization: Bearer …`` and Codex its session as
``session-id``. Anthropic clients (the SDK, Claude Code) send the key as ``x-api-key``
(or ``Authorization: Bearer …`` with ``ANTHROPIC_AUTH_TOKEN``) and Claude Code its
session as ``x-claude-code-session-id``; on an Anthropic endpoint ``x-api-key`` wins
when both are given, as at Anthropic. Errors go back in each format's own shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from budgets.keys import KeyLookup
from messages.chat import ClientFormat
from messages.errors import ErrorInfo
from providers.client_formats.anthropic_errors import render_anthropic_error
from providers.openai_errors import render_openai_error

CLAUDE_CODE_SESSION = "x-claude-code-session-id"
CODEX_SESSION = "session-id"
ANTHROPIC_KEY = "x-api-key"
ANTHROPIC_BETA = "anthropic-beta"

Header = Callable[[str], str | None]


def header_in(headers: Sequence[tuple[str, str]]) -> Header:
    """A header getter over a request head's (lower-case name, value) pairs."""
    return lambda name: next((value for key, value in headers if key == name), None)


def presented_key(header: Header, client_format: ClientFormat | None) -> str | None:
    """The key the request presents, as an ``Authorization`` value."""
    if client_format is ClientFormat.ANTHROPIC:
        api_key = header(ANTHROPIC_KEY)
        if api_key is not None:
            return "Bearer " + api_key.strip()
    return header("authorization")


def session_id(header: Header, client_format: ClientFormat | None) -> str | None:
    """The agent's session id: Claude Code's on an Anthropic endpoint, else Codex's."""
    if client_format is ClientFormat.ANTHROPIC:
        return header(CLAUDE_CODE_SESSION) or header(CODEX_SESSION)
    return header(CODEX_SESSION)


def forwarded_headers(header: Header, client_format: ClientFormat) -> tuple[tuple[str, str], ...]:
    """What a passthrough to the client's own provider forwards: ``anthropic-beta``."""
    if client_format is not ClientFormat.ANTHROPIC:
        return ()
    beta = header(ANTHROPIC_BETA)
    return () if beta is None else ((ANTHROPIC_BETA, beta),)


def key_error(lookup: KeyLookup, client_format: ClientFormat | str | None) -> ErrorInfo:
    """The 401 for a request without a valid key, telling where the format sends it."""
    error = lookup.error()
    if client_format == ClientFormat.ANTHROPIC and lookup.problem == "missing":
        where = "'x-api-key' (or 'Authorization: Bearer …')"
        return replace(error, message=f"invalid API key: send a Switchyard virtual key as {where}")
    return error


def render_client_error(
    client_format: ClientFormat | str | None, error: ErrorInfo, request_id: str | None = None
) -> bytes:
    """``error`` as a response body in the client's shape."""
    if client_format == ClientFormat.ANTHROPIC:
        return render_anthropic_error(error, request_id)
    return render_openai_error(error)


__all__ = [
    "ANTHROPIC_BETA",
    "ANTHROPIC_KEY",
    "CLAUDE_CODE_SESSION",
    "CODEX_SESSION",
    "forwarded_headers",
    "header_in",
    "key_error",
    "presented_key",
    "render_client_error",
    "session_id",
]
