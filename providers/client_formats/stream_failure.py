"""In-stream failure bytes in each client format, for when the head was already sent.

A Responses stream ends with an ``error`` event and a ``response.failed`` whose
``response`` is a whole Response object (OpenAI's schema requires ``id``, ``created_at``,
``model``, ``output`` …): the one the stream began with when there was one (a
passthrough keeps the upstream's ``response.created``), else one named after the request
(``resp_<request id>``, as the translated stream names its response). Code and message
are ``responses_items.codex_error``'s, the ones Codex acts on, on every path.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import orjson

from messages.chat import ClientFormat
from messages.errors import ErrorInfo, client_message
from providers.client_formats.anthropic_errors import anthropic_stream_error
from providers.client_formats.responses_items import codex_error
from providers.openai_errors import openai_error_code, openai_error_type


def response_base(request_id: str, model: str) -> dict[str, object]:
    """A Response object with every field OpenAI's schema requires, named after the
    request (the id the translated stream gives its ``response.created``)."""
    return {
        "id": "resp_" + request_id.removeprefix("req_"),
        "object": "response",
        "created_at": int(time.time()),
        "status": "in_progress",
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "model": model,
        "output": [],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "store": False,
        "temperature": None,
        "top_p": None,
        "tool_choice": "auto",
        "tools": [],
        "metadata": {},
    }


def failed_response(
    base: Mapping[str, object], error: ErrorInfo, output: Sequence[object] = ()
) -> dict[str, object]:
    """``base`` (the stream's own Response object) as failed with ``error``; a null
    ``usage`` (which the schema does not allow) is left out."""
    code, message = codex_error(error)
    failed = {"code": code, "message": message}
    response = {**base, "status": "failed", "error": failed, "output": list(output)}
    if response.get("usage", 0) is None:
        del response["usage"]
    return response


def responses_failure_events(
    error: ErrorInfo, sequence_number: int, response: Mapping[str, object]
) -> tuple[bytes, bytes]:
    """An ``error`` event and a ``response.failed`` carrying ``response`` (a
    ``failed_response``); returns (the bytes, the response JSON)."""
    code, message = codex_error(error)
    flat = {"code": code, "message": message, "param": error.param}
    error_event = {
        "type": "error",
        "sequence_number": sequence_number,
        **flat,
        "error": {"type": code, **flat},
    }
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
            "param": error.param,
            "code": openai_error_code(error),
        }
    }
    return b"data: " + orjson.dumps(body) + b"\n\ndata: [DONE]\n\n"


def stream_failure(
    client_format: ClientFormat,
    error: ErrorInfo,
    sequence_number: int,
    *,
    request_id: str = "",
    model: str = "",
) -> bytes:
    """The failure of a stream whose own response object is not known here."""
    if client_format is ClientFormat.RESPONSES:
        response = failed_response(response_base(request_id, model), error)
        return responses_failure_events(error, sequence_number, response)[0]
    if client_format is ClientFormat.ANTHROPIC:
        return anthropic_stream_error(error)
    return chat_failure_chunk(error)


__all__ = [
    "chat_failure_chunk",
    "failed_response",
    "response_base",
    "responses_failure_events",
    "stream_failure",
]
