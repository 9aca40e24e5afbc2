"""In-stream failure bytes in each client format, for when the head was already sent."""

from __future__ import annotations

import orjson

from messages.chat import ClientFormat
from messages.errors import ErrorInfo, client_message
from providers.client_formats.anthropic_errors import anthropic_stream_error
from providers.openai_errors import openai_error_code, openai_error_type


def responses_failure_events(error: ErrorInfo, sequence_number: int) -> tuple[bytes, bytes]:
    """An ``error`` event and a ``response.failed`` event; returns (bytes, response JSON)."""
    failed = {"code": openai_error_code(error) or "server_error", "message": client_message(error)}
    response = {"id": "resp_failed", "object": "response", "status": "failed", "error": failed}
    error_event = {"type": "error", "sequence_number": sequence_number, **failed, "param": None}
    failed_event = {
        "type": "response.failed",
        "sequence_number": sequence_number + 1,
        "response": response,
    }
    data = (
        b"event: error\ndata: "
        + orjson.dumps(error_event)
        + b"\n\nevent: response.failed\ndata: "
        + orjson.dumps(failed_event)
        + b"\n\n"
    )
    return data, orjson.dumps(response)


def chat_failure_chunk(error: ErrorInfo) -> bytes:
    """A ``data: {"error": …}`` line, then ``[DONE]``."""
    body = {
        "error": {
            "message": client_message(error),
            "type": openai_error_type(error.kind),
            "param": None,
            "code": openai_error_code(error),
        }
    }
    return b"data: " + orjson.dumps(body) + b"\n\ndata: [DONE]\n\n"


def stream_failure(client_format: ClientFormat, error: ErrorInfo, sequence_number: int) -> bytes:
    if client_format is ClientFormat.RESPONSES:
        return responses_failure_events(error, sequence_number)[0]
    if client_format is ClientFormat.ANTHROPIC:
        return anthropic_stream_error(error)
    return chat_failure_chunk(error)


__all__ = ["chat_failure_chunk", "responses_failure_events", "stream_failure"]
