"""The client fields the gateway itself reads or rewrites, checked once at parse time.

Both endpoints, streaming or not, whichever route serves the request (a passthrough
forwards the body; a translation decodes it): every top-level field that the ingress,
the budget estimate, a passthrough exchange or a decoder reads gets its type, range and
size checked here, so a wrong one is a 400 naming its ``param`` before the request is
routed — never an exception later in a worker. What only a translation reads deeper
(each item's content, a tool's schema) is checked by the decoders
(``responses_format``, ``chat_format``) with the same ``RequestInvalid``, still before
anything is sent upstream. Fields the gateway never reads are the provider's to judge.

Each check is a dictionary lookup and an ``isinstance`` (a loop over ``input`` items,
``messages`` and ``tools``): about a microsecond for a typical Codex request.
"""

from __future__ import annotations

from collections.abc import Mapping

from messages.chat import ClientFormat
from providers.client_formats.anthropic_checks import check_anthropic
from providers.client_formats.request_fields import (
    RequestInvalid,
    as_object,
    optional_bool,
    optional_str,
)

MAX_MODEL_CHARS = 256
MAX_OUTPUT_TOKENS = 100_000_000
"""Far above any model's output limit; a larger bound is a client's mistake."""
MAX_CHOICES = 128  # ``n``, as OpenAI caps it
_OUTPUT_LIMITS = {
    ClientFormat.RESPONSES: ("max_output_tokens",),
    ClientFormat.CHAT: ("max_completion_tokens", "max_tokens"),
    ClientFormat.ANTHROPIC: ("max_tokens",),
}


def check_fields(body: Mapping[str, object], fmt: ClientFormat) -> None:
    """Raises ``RequestInvalid`` naming the first field that is wrong."""
    model = body.get("model")
    if isinstance(model, str) and len(model) > MAX_MODEL_CHARS:
        raise RequestInvalid(f"'model' must be at most {MAX_MODEL_CHARS} characters", "model")
    optional_bool(body, "stream")
    optional_bool(body, "parallel_tool_calls")
    _number_within(body, "temperature", 1.0 if fmt is ClientFormat.ANTHROPIC else 2.0)
    _number_within(body, "top_p", 1.0)
    for name in _OUTPUT_LIMITS[fmt]:
        _count_within(body, name, MAX_OUTPUT_TOKENS)
    _check_tools(body.get("tools"))
    _check_tool_choice(body.get("tool_choice"))
    if fmt is ClientFormat.ANTHROPIC:
        check_anthropic(body)
    elif fmt is ClientFormat.RESPONSES:
        _check_responses(body)
    else:
        _check_chat(body)


def _check_responses(body: Mapping[str, object]) -> None:
    optional_str(body, "instructions", "")
    items = body.get("input")
    if isinstance(items, list):
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise RequestInvalid(f"'input[{index}]' must be an object", f"input[{index}]")
    reasoning = body.get("reasoning")
    if reasoning is not None:
        reasoning = as_object(reasoning, "reasoning")
        for name in ("effort", "summary", "generate_summary"):
            optional_str(reasoning, name, "reasoning")
    if body.get("text") is not None:
        as_object(body["text"], "text")


def _check_chat(body: Mapping[str, object]) -> None:
    messages = body.get("messages")
    if isinstance(messages, list):
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or not isinstance(message.get("role"), str):
                where = f"messages[{index}].role"
                raise RequestInvalid(f"'{where}' is required and must be a string", where)
    _count_within(body, "n", MAX_CHOICES)
    _check_stop(body.get("stop"))
    options = body.get("stream_options")
    if options is not None:
        optional_bool(as_object(options, "stream_options"), "include_usage", "stream_options")
    optional_str(body, "reasoning_effort", "")
    if body.get("response_format") is not None:
        as_object(body["response_format"], "response_format")


def _number_within(body: Mapping[str, object], name: str, top: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= top:
        raise RequestInvalid(f"'{name}' must be a number from 0 to {top:g}", name)


def _count_within(body: Mapping[str, object], name: str, top: int) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
        raise RequestInvalid(f"'{name}' must be an integer from 1 to {top}", name)


def _check_tools(tools: object) -> None:
    if tools is None:
        return
    if not isinstance(tools, list):
        raise RequestInvalid("'tools' must be an array", "tools")
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise RequestInvalid(f"'tools[{index}]' must be an object", f"tools[{index}]")
        kind = tool.get("type")
        if kind is not None and not isinstance(kind, str):
            where = f"tools[{index}].type"
            raise RequestInvalid(f"'{where}' must be a string", where)


def _check_tool_choice(choice: object) -> None:
    if choice is None or isinstance(choice, str):
        return
    kind = as_object(choice, "tool_choice").get("type")
    if not isinstance(kind, str):
        raise RequestInvalid("'tool_choice.type' must be a string", "tool_choice.type")


def _check_stop(stop: object) -> None:
    if stop is None or isinstance(stop, str):
        return
    if not isinstance(stop, list) or not all(isinstance(each, str) for each in stop):
        raise RequestInvalid("'stop' must be a string or an array of strings", "stop")


__all__ = ["MAX_CHOICES", "MAX_MODEL_CHARS", "MAX_OUTPUT_TOKENS", "check_fields"]
