"""``ChatRequest`` → a Chat Completions request body, for one provider's quirks.

- Tools are ``{"type": "function", "function": {name, description, parameters, strict}}``
  with the ``_tool_wire`` names and schemas (namespaces flattened, custom tools emulated as
  a one-string-parameter function). Without ``quirks.tools`` the tools, ``tool_choice``
  and ``parallel_tool_calls`` are left out: the request still goes, and the model answers
  in text.
- ``tool_choice``: ``auto``/``none`` as such, ``required`` as ``quirks.required_choice``,
  a named tool as ``{"type": "function", "function": {"name"}}``; unset stays unset.
- ``max_output_tokens`` goes in ``quirks.max_tokens_field``; ``temperature``, ``top_p``
  and ``stop`` as given; ``reasoning_effort`` through ``quirks.effort_for``.
- Streaming sets ``stream: true`` and, where the provider takes it,
  ``stream_options: {"include_usage": true}`` so usage always arrives.
"""

from __future__ import annotations

from messages.chat import ChatRequest, ToolChoiceMode, ToolSpec
from messages.json import Json
from providers._tool_wire import ToolTable, wire_description, wire_name, wire_schema
from providers.openai_chat._messages import encode_messages
from providers.openai_chat._quirks import ChatQuirks


def encode_body(
    request: ChatRequest, quirks: ChatQuirks, *, model: str, stream: bool
) -> dict[str, Json]:
    body: dict[str, Json] = {"model": model, "messages": encode_messages(request.messages, quirks)}
    if quirks.tools and request.tools:
        body.update(_tools(request, quirks))
    if request.max_output_tokens is not None and request.max_output_tokens > 0:
        body[quirks.max_tokens_field] = request.max_output_tokens
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.stop:
        body["stop"] = list(request.stop)
    effort = quirks.effort_for(request.reasoning_effort, model)
    if effort is not None:
        body["reasoning_effort"] = effort
    if stream:
        body["stream"] = True
        if quirks.asks_stream_usage:
            body["stream_options"] = {"include_usage": True}
    return body


def _tools(request: ChatRequest, quirks: ChatQuirks) -> dict[str, Json]:
    table = ToolTable(request.tools)
    fields: dict[str, Json] = {"tools": [_tool(spec) for spec in request.tools]}
    choice = _tool_choice(request, table, quirks)
    if choice is not None:
        fields["tool_choice"] = choice
    if request.parallel_tool_calls is not None:
        fields["parallel_tool_calls"] = request.parallel_tool_calls
    return fields


def _tool(spec: ToolSpec) -> Json:
    function: dict[str, Json] = {"name": wire_name(spec.name, spec.namespace)}
    description = wire_description(spec)
    if description:
        function["description"] = description
    function["parameters"] = wire_schema(spec)
    if spec.strict is not None:
        function["strict"] = spec.strict
    return {"type": "function", "function": function}


def _tool_choice(request: ChatRequest, table: ToolTable, quirks: ChatQuirks) -> Json:
    choice = request.tool_choice
    if choice is None:
        return None
    if choice.mode is ToolChoiceMode.NAMED and choice.name:
        return {"type": "function", "function": {"name": table.wire_name_for(choice.name)}}
    if choice.mode is ToolChoiceMode.REQUIRED:
        return quirks.required_choice
    return "none" if choice.mode is ToolChoiceMode.NONE else "auto"


__all__ = ["encode_body"]
