"""OpenAI's wire formats for the fake server: Responses and Chat Completions.

The encoders live in ``openai_responses_wire`` and ``openai_chat_wire``; this module
adds what both share (the error body, reading a request for the default behaviour)
and the two ``WireFormat`` objects the server routes to: ``RESPONSES`` serves any
``POST …/responses``, ``CHAT`` any ``POST …/chat/completions`` (with or without
``/v1``, under any prefix).

A failed non-streamed answer (``Fault.failed_event`` without ``stream``) is HTTP 500
with the error body, as OpenAI answers a generation that fails before its body.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from fakes.default_reply import Conversation
from fakes.openai_chat_wire import chat_answer, chat_stream
from fakes.openai_responses_wire import responses_answer, responses_stream
from fakes.script import Fault, Reply
from fakes.wire import Answer, BodyDescribed, JsonBody, WireContext

# status → (type, code, message) used when the Fault names none
DEFAULT_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Not supported."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


def error_body(status: int, fault: Fault) -> bytes:
    """``{"error": {message, type, param, code}}``, per-status defaults unless the fault says."""
    fallback = (
        "server_error" if status >= 500 else "invalid_request_error",
        None,
        f"HTTP {status}",
    )
    kind, code, message = DEFAULT_ERRORS.get(status, fallback)
    error = {
        "message": fault.error_message or message,
        "type": fault.error_type or kind,
        "param": None,
        "code": fault.error_code or code,
    }
    return orjson.dumps({"error": error})


def _failed_answer(failure: tuple[str, str]) -> Answer:
    code, message = failure
    fault = Fault(error_type="server_error", error_code=code, error_message=message)
    return Answer(status=500, body=error_body(500, fault))


def _text_of(content: object) -> str:
    """The text of a message content: a string, or the text of its parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _entries(body: JsonBody, key: str) -> list[dict[str, object]]:
    value = body.get(key)
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def _last_user_text(entries: Sequence[dict[str, object]]) -> str:
    for entry in reversed(entries):
        if entry.get("role") == "user":
            return _text_of(entry.get("content"))
    return ""


class ResponsesFormat(BodyDescribed):
    """OpenAI Responses (``POST /v1/responses``)."""

    name = "openai-responses"

    def matches(self, method: str, path: str) -> bool:
        return method == "POST" and path.endswith("/responses")

    def conversation(self, body: JsonBody) -> Conversation:
        tools = frozenset(str(tool.get("name")) for tool in _entries(body, "tools"))
        prompt = body.get("input")
        if isinstance(prompt, str):
            return Conversation(last_user_text=prompt, last_tool_output=None, tool_names=tools)
        items = _entries(body, "input")
        tool_output = None
        if items and items[-1].get("type") in ("function_call_output", "custom_tool_call_output"):
            tool_output = _text_of(items[-1].get("output"))
        return Conversation(
            last_user_text=_last_user_text(items), last_tool_output=tool_output, tool_names=tools
        )

    def stream_events(
        self, reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None
    ) -> Sequence[bytes]:
        return responses_stream(reply, ctx, failure=failure)

    def complete_answer(
        self, reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None
    ) -> Answer:
        return responses_answer(reply, ctx) if failure is None else _failed_answer(failure)

    def error_body(self, status: int, fault: Fault) -> bytes:
        return error_body(status, fault)


class ChatFormat(BodyDescribed):
    """OpenAI Chat Completions (``POST /v1/chat/completions``)."""

    name = "openai-chat"

    def matches(self, method: str, path: str) -> bool:
        return method == "POST" and path.endswith("/chat/completions")

    def conversation(self, body: JsonBody) -> Conversation:
        functions = [tool.get("function") for tool in _entries(body, "tools")]
        tools = frozenset(str(f.get("name")) for f in functions if isinstance(f, dict))
        messages = _entries(body, "messages")
        tool_output = None
        if messages and messages[-1].get("role") == "tool":
            tool_output = _text_of(messages[-1].get("content"))
        return Conversation(
            last_user_text=_last_user_text(messages), last_tool_output=tool_output, tool_names=tools
        )

    def stream_events(
        self, reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None
    ) -> Sequence[bytes]:
        return chat_stream(reply, ctx, failure=failure)

    def complete_answer(
        self, reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None
    ) -> Answer:
        return chat_answer(reply, ctx) if failure is None else _failed_answer(failure)

    def error_body(self, status: int, fault: Fault) -> bytes:
        return error_body(status, fault)


RESPONSES = ResponsesFormat()
CHAT = ChatFormat()
