"""Malformed request bodies: every wrong type (and an absurd value) for every client field
the gateway reads or rewrites, on both endpoints, streaming and not — each with the
``param`` the 400 must name. Shared by the isolation tests, the property test and the
fuzz targets' seed corpus."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

RESPONSES = "/v1/responses"
CHAT = "/v1/chat/completions"

BASES: dict[str, dict[str, Any]] = {
    RESPONSES: {"model": "gpt-5.5", "input": "hi"},
    CHAT: {"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}]},
}

# one value of each JSON type (and a few shapes): what a field gets when it is wrong
SAMPLES: tuple[Any, ...] = ("x", 7, 1.5, True, [], {}, ["x"], [7], {"a": 1})

Valid = Callable[[Any], bool]


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _is_object(value: Any) -> bool:
    return isinstance(value, dict)


def _str_or_list(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(each, str) for each in value)
    )


def _never(value: Any) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class Field:
    """A field the gateway reads: where it sits, what is valid, absurd values to try."""

    path: str  # "reasoning.effort": nested one level
    valid: Valid
    absurd: tuple[Any, ...] = ()
    param_of: Callable[[Any], str] | None = None  # the param a wrong value is named by


def _first_item(name: str) -> Callable[[Any], str]:
    def param(value: Any) -> str:
        return f"{name}[0]" if isinstance(value, list) else name

    return param


_COMMON = (
    Field("model", lambda v: isinstance(v, str) and bool(v), ("", "m" * 10_000)),
    Field("stream", _is_bool),
    Field("parallel_tool_calls", _is_bool),
    Field("temperature", _is_number, (-1, 2.5, 1e300)),
    Field("top_p", _is_number, (-0.5, 1.5, 1e300)),
    Field(
        "tools",
        lambda v: isinstance(v, list) and all(map(_is_object, v)),
        param_of=_first_item("tools"),
    ),
    Field("tool_choice", lambda v: isinstance(v, str)),
)
_RESPONSES_FIELDS = (
    *_COMMON,
    Field("max_output_tokens", _is_count, (0, -5, 10**12, 10**30)),
    Field("instructions", _is_str),
    Field("input", lambda v: isinstance(v, str), param_of=_first_item("input")),
    Field("reasoning", _is_object),
    Field("reasoning.effort", _is_str),
    Field("reasoning.summary", _is_str),
    Field("reasoning.generate_summary", _is_str),
    Field("text", _is_object),
)
_CHAT_FIELDS = (
    *_COMMON,
    Field("max_tokens", _is_count, (0, -5, 10**12, 10**30)),
    Field("max_completion_tokens", _is_count, (0, 10**12)),
    Field("n", _is_count, (0, 10**6)),
    Field("stop", _str_or_list),
    Field("stream_options", _is_object),
    Field("stream_options.include_usage", _is_bool),
    Field("reasoning_effort", _is_str),
    Field("response_format", _is_object),
    Field("messages", _never, ([],), param_of=lambda v: "messages"),
    Field("messages.0.role", _is_str),
)
FIELDS = {RESPONSES: _RESPONSES_FIELDS, CHAT: _CHAT_FIELDS}

# Anthropic's Messages API: its errors name the field inside the message (the shape has
# no ``param``), so these cases are apart from FIELDS (see test_anthropic_hostile.py)
ANTHROPIC = "/v1/messages"
ANTHROPIC_BASE: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 100,
    "messages": [{"role": "user", "content": "hi"}],
}
ANTHROPIC_FIELDS = (
    Field("model", lambda v: isinstance(v, str) and bool(v), ("", "m" * 10_000)),
    Field("stream", _is_bool),
    Field("max_tokens", _is_count, (0, -5, 10**12, 10**30)),
    Field("temperature", _is_number, (-1, 1.5, 1e300)),
    Field("top_p", _is_number, (-0.5, 1.5, 1e300)),
    Field("top_k", lambda v: isinstance(v, int) and not isinstance(v, bool), (-1, 10**12)),
    Field("system", lambda v: v == [] or isinstance(v, str)),
    Field("stop_sequences", lambda v: v == [] or v == ["x"]),
    Field("tools", lambda v: v == []),
    Field("tool_choice", _never),
    Field("tool_choice.type", _never),
    Field("thinking", _never),
    Field("thinking.type", _never),
    Field("output_config", _is_object),
    Field("output_config.effort", _never),
    Field("metadata", _is_object),
    Field("metadata.user_id", _is_str, ("u" * 1000,)),
    Field("context_management", _is_object),
    Field("messages", _never, ([],)),
    Field("messages.0.role", _never),
    Field("messages.0.content", lambda v: isinstance(v, str) or v == []),
)


def anthropic_cases() -> Iterator[Case]:
    """Every wrong sample and absurd value of every Messages field the gateway reads,
    streaming and not; ``param`` is the field the error message must name."""
    for field in ANTHROPIC_FIELDS:
        for value in [v for v in SAMPLES if not field.valid(v)] + list(field.absurd):
            for stream in (False, True):
                body = with_field(ANTHROPIC_BASE, field.path, value)
                if field.path != "stream":
                    body["stream"] = stream
                param = field.path.replace("messages.0.", "messages[0].")
                yield Case(ANTHROPIC, stream, field.path, body, param)


@dataclass(frozen=True, slots=True)
class Case:
    endpoint: str
    stream: bool
    field: str
    body: dict[str, Any]
    param: str


def with_field(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    body = (
        {**base, "messages": [dict(m) for m in base["messages"]]}
        if "messages" in base
        else dict(base)
    )
    if path.startswith("messages.0."):
        body["messages"][0][path.removeprefix("messages.0.")] = value
        return body
    outer, _, inner = path.partition(".")
    if inner:
        body[outer] = {inner: value}
    else:
        body[outer] = value
    return body


def _expected_param(field: Field, value: Any) -> str:
    if field.path == "messages.0.role":
        return "messages[0].role"
    if field.param_of is not None and not isinstance(value, str | dict):
        return field.param_of(value)
    if field.path == "tool_choice" and isinstance(value, dict):
        return "tool_choice.type"
    if field.path == "tools" and isinstance(value, list):
        return "tools[0]"
    return field.path


def malformed_cases() -> Iterator[Case]:
    """Every wrong sample and absurd value for every field, by stream, by endpoint."""
    for endpoint, fields in FIELDS.items():
        for field in fields:
            wrong = [v for v in SAMPLES if not field.valid(v)] + list(field.absurd)
            for value in wrong:
                if value == [] and field.path in ("input", "tools"):
                    continue  # an empty list of items or tools is valid
                if field.path == "messages" and isinstance(value, list) and value:
                    value = [value[0]]  # a message that is not an object
                for stream in (False, True):
                    body = with_field(BASES[endpoint], field.path, value)
                    if field.path != "stream":
                        body["stream"] = stream
                    yield Case(endpoint, stream, field.path, body, _expected_param(field, value))


@dataclass(frozen=True, slots=True)
class DeepCase:
    """A field only a translation reads (the decoders check it in the worker)."""

    endpoint: str
    body_patch: dict[str, Any]
    param: str


DEEP_CASES = (
    DeepCase(RESPONSES, {"input": [{"role": "user", "content": 5}]}, "input[0].content"),
    DeepCase(RESPONSES, {"input": [{"role": 5, "content": "hi"}]}, "input[0].role"),
    DeepCase(
        RESPONSES,
        {"input": [{"type": "function_call", "call_id": 5, "name": "f", "arguments": "{}"}]},
        "input[0].call_id",
    ),
    DeepCase(RESPONSES, {"tools": [{"type": "function", "name": 5}]}, "tools[0].name"),
    DeepCase(
        RESPONSES,
        {"tools": [{"type": "function", "name": "f", "parameters": "x"}]},
        "tools[0].parameters",
    ),
    DeepCase(RESPONSES, {"tool_choice": {"type": "function", "name": 5}}, "tool_choice.name"),
    DeepCase(CHAT, {"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
    DeepCase(
        CHAT,
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "tool_calls": "x"}]},
        "messages[1].tool_calls",
    ),
    DeepCase(CHAT, {"tools": [{"type": "function", "function": "x"}]}, "tools[0].function"),
    DeepCase(CHAT, {"n": 2}, "n"),
)


__all__ = [
    "ANTHROPIC",
    "ANTHROPIC_BASE",
    "ANTHROPIC_FIELDS",
    "BASES",
    "CHAT",
    "DEEP_CASES",
    "FIELDS",
    "RESPONSES",
    "Case",
    "DeepCase",
    "anthropic_cases",
    "malformed_cases",
]
