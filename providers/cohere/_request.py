"""``ChatRequest`` → a Cohere v2 ``/chat`` request body (SPEC §5).

- Messages keep their roles and order (Cohere takes ``system`` anywhere). User content is
  a string, or ``text`` / ``image_url`` parts when it has images.
- Assistant turns carry ``tool_calls`` in the OpenAI shape (wire names, arguments string,
  ``"{}"`` when empty; a custom call as its emulating function with ``{"input": …}``).
  Cohere's own reasoning goes back where it came from: its tool plan (a ``Reasoning`` with
  signature ``tool_plan``) as ``tool_plan`` on a turn that calls tools, its thinking as
  ``thinking`` content before the text. Other providers' reasoning is dropped.
- Tool results are ``{"role": "tool", "tool_call_id", "content": [{"type": "document",
  "document": {"data": <JSON object string>}}]}`` as Cohere's docs send them: the output
  itself when it is a JSON object, else ``{"output": <text>}``. Images in a result are
  dropped (tool content is text or documents).
- ``tool_choice`` is only ``REQUIRED`` or ``NONE``. Auto is left out; a named tool cannot
  be expressed, so it becomes ``REQUIRED`` plus a system note naming the tool (placed after
  the leading system messages). ``parallel_tool_calls`` has no Cohere switch.
- ``max_tokens``; ``stop_sequences`` (at most 5); ``temperature`` clamped to 0-1;
  ``top_p`` as ``p`` clamped to 0.01-0.99.
- ``thinking`` from ``reasoning_effort``, only for the models that reason (Command A
  Reasoning, Command A+; others may reject it): ``none``/``minimal`` → disabled,
  ``low``/``medium`` → enabled with a 2048/8192 ``token_budget``, ``high``/``xhigh`` →
  enabled without a budget.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from messages.chat import (
    ChatRequest,
    Message,
    Role,
    ToolCall,
    ToolChoiceMode,
    ToolKind,
    ToolSpec,
)
from messages.json import Json
from providers._tool_wire import (
    ToolTable,
    custom_arguments,
    wire_description,
    wire_name,
    wire_schema,
)
from providers.user_content import system_or_user

PROVIDER = "cohere"
TOOL_PLAN = "tool_plan"
"""``Reasoning.signature`` of a Cohere tool plan (told apart from thinking on the way back)."""
THINKING_MODELS = ("command-a-reasoning", "command-a-plus")
MAX_STOP_SEQUENCES = 5
_BUDGETS = {"low": 2048, "medium": 8192}
_UNBUDGETED = frozenset({"high", "xhigh"})
_DISABLED = frozenset({"none", "minimal"})

WireMessage = dict[str, Json]


def encode_body(request: ChatRequest, *, model: str, stream: bool) -> dict[str, Json]:
    messages = [wire for message in request.messages if (wire := _message(message)) is not None]
    body: dict[str, Json] = {"model": model}
    if request.tools:
        table = ToolTable(request.tools)
        body["tools"] = [_tool(spec) for spec in request.tools]
        choice = _tool_choice(request)
        if choice is not None:
            body["tool_choice"] = choice
        note = _named_tool_note(request, table)
        if note is not None:
            _insert_after_system(messages, {"role": "system", "content": note})
    body["messages"] = list(messages)
    body.update(_generation(request, model))
    if stream:
        body["stream"] = True
    return body


def _message(message: Message) -> WireMessage | None:
    if message.role in (Role.SYSTEM, Role.USER):
        return system_or_user(message)
    if message.role is Role.ASSISTANT:
        return _assistant(message)
    return {
        "role": "tool",
        "tool_call_id": message.tool_call_id or "",
        "content": [{"type": "document", "document": {"data": _document_data(message.text)}}],
    }


def _assistant(message: Message) -> WireMessage | None:
    own = [item for item in message.reasoning if item.provider == PROVIDER and item.text.strip()]
    thoughts: list[Json] = [
        {"type": "thinking", "thinking": item.text} for item in own if item.signature != TOOL_PLAN
    ]
    text = message.text
    if not text.strip() and not message.tool_calls:
        return None
    wire: WireMessage = {"role": "assistant"}
    if thoughts:
        text_part: list[Json] = [{"type": "text", "text": text}] if text.strip() else []
        wire["content"] = thoughts + text_part
    elif text.strip():
        wire["content"] = text
    if message.tool_calls:
        plans = [item.text for item in own if item.signature == TOOL_PLAN]
        if plans:
            wire["tool_plan"] = "\n".join(plans)
        wire["tool_calls"] = [_tool_call(call) for call in message.tool_calls]
    return wire


def _tool_call(call: ToolCall) -> Json:
    if call.kind is ToolKind.CUSTOM:
        arguments = orjson.dumps(custom_arguments(call.arguments)).decode()
    else:
        arguments = call.arguments if call.arguments.strip() else "{}"
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": wire_name(call.name, call.namespace), "arguments": arguments},
    }


def _document_data(output: str) -> str:
    try:
        value = orjson.loads(output)
    except orjson.JSONDecodeError:
        value = None
    if isinstance(value, Mapping):
        return output
    return orjson.dumps({"output": output}).decode()


def _tool(spec: ToolSpec) -> Json:
    function: dict[str, Json] = {"name": wire_name(spec.name, spec.namespace)}
    description = wire_description(spec)
    if description:
        function["description"] = description
    function["parameters"] = wire_schema(spec)
    return {"type": "function", "function": function}


def _tool_choice(request: ChatRequest) -> Json:
    mode = request.tool_choice.mode if request.tool_choice is not None else None
    if mode is ToolChoiceMode.NONE:
        return "NONE"
    if mode in (ToolChoiceMode.REQUIRED, ToolChoiceMode.NAMED):
        return "REQUIRED"
    return None


def _named_tool_note(request: ChatRequest, table: ToolTable) -> str | None:
    choice = request.tool_choice
    if choice is None or choice.mode is not ToolChoiceMode.NAMED or not choice.name:
        return None
    return f"Answer by calling the tool `{table.wire_name_for(choice.name)}`."


def _insert_after_system(messages: list[WireMessage], note: WireMessage) -> None:
    position = 0
    while position < len(messages) and messages[position].get("role") == "system":
        position += 1
    messages.insert(position, note)


def _generation(request: ChatRequest, model: str) -> dict[str, Json]:
    fields: dict[str, Json] = {}
    if request.max_output_tokens is not None and request.max_output_tokens > 0:
        fields["max_tokens"] = request.max_output_tokens
    stops = [stop for stop in request.stop if stop][:MAX_STOP_SEQUENCES]
    if stops:
        fields["stop_sequences"] = stops
    if request.temperature is not None:
        fields["temperature"] = min(max(request.temperature, 0.0), 1.0)
    if request.top_p is not None:
        fields["p"] = min(max(request.top_p, 0.01), 0.99)
    thinking = _thinking(request.reasoning_effort, model)
    if thinking is not None:
        fields["thinking"] = thinking
    return fields


def _thinking(effort: str | None, model: str) -> Json:
    if effort is None or not model.startswith(THINKING_MODELS):
        return None
    if effort in _DISABLED:
        return {"type": "disabled"}
    if effort in _BUDGETS:
        return {"type": "enabled", "token_budget": _BUDGETS[effort]}
    return {"type": "enabled"} if effort in _UNBUDGETED else None


__all__ = ["MAX_STOP_SEQUENCES", "PROVIDER", "THINKING_MODELS", "TOOL_PLAN", "encode_body"]
