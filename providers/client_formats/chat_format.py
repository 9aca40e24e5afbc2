"""OpenAI Chat Completions requests decoded into the IR.

``decode_chat_request`` reads ``messages`` (system/developer → ``Role.SYSTEM``), assistant
``tool_calls`` (function and custom) with any ``reasoning_content`` / ``reasoning`` text
(kept as ``Reasoning(provider="openai-chat")``: readable, never sent back as state),
``tool`` results with the called tool's name resolved from the earlier call, and
function/custom ``tools``. The reply side lives in ``chat_encoder``.
"""

from __future__ import annotations

from collections.abc import Mapping

from messages.chat import (
    ChatRequest,
    ClientFormat,
    ContentPart,
    ImagePart,
    Message,
    Reasoning,
    Role,
    TextPart,
    ToolCall,
    ToolChoice,
    ToolChoiceMode,
    ToolKind,
    ToolSpec,
)
from messages.json import JsonObject
from providers.client_formats.chat_encoder import ChatStreamEncoder
from providers.client_formats.request_fields import (
    RequestInvalid,
    as_list,
    as_object,
    field_str,
    optional_bool,
    optional_number,
    optional_str,
    required_model,
)
from providers.client_formats.responses_format import Conversation, custom_tool_description
from providers.output_limit import requested_output_tokens

CHAT_REASONING = "openai-chat"
"""Provider tag of reasoning text a Chat client sent back: no provider's state."""

_CHOICE_MODES = {mode.value: mode for mode in ToolChoiceMode if mode is not ToolChoiceMode.NAMED}
_TEXT_PARTS = ("text", "input_text", "output_text")


def decode_chat_request(body: object) -> ChatRequest:
    """A ``POST /v1/chat/completions`` body as a ``ChatRequest``; raises ``RequestInvalid``."""
    obj = as_object(body, None)
    model = required_model(obj)
    notes: list[str] = []
    messages = obj.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestInvalid("'messages' is required and must be a non-empty array", "messages")
    conversation = Conversation()
    for index, raw in enumerate(messages):
        param = f"messages[{index}]"
        _decode_message(as_object(raw, param), param, conversation, notes)
    n = obj.get("n")
    if n is not None and n != 1:
        raise RequestInvalid("only n=1 is supported", "n")
    _note_unsupported(obj, notes)
    return ChatRequest(
        model=model,
        messages=conversation.messages(),
        tools=_decode_tools(obj.get("tools")),
        tool_choice=_tool_choice(obj.get("tool_choice"), notes),
        parallel_tool_calls=optional_bool(obj, "parallel_tool_calls"),
        max_output_tokens=requested_output_tokens(ClientFormat.CHAT, obj),
        temperature=optional_number(obj, "temperature"),
        top_p=optional_number(obj, "top_p"),
        stop=_stop(obj.get("stop")),
        reasoning_effort=optional_str(obj, "reasoning_effort", ""),
        stream=optional_bool(obj, "stream") or False,
        dropped=tuple(dict.fromkeys(notes)),
    )


def chat_include_usage(body: Mapping[str, object]) -> bool:
    """Whether a streaming client asked for the final usage chunk."""
    options = body.get("stream_options")
    return isinstance(options, Mapping) and options.get("include_usage") is True


def _decode_message(
    message: Mapping[str, object], param: str, conversation: Conversation, notes: list[str]
) -> None:
    role = message.get("role")
    if role in ("system", "developer", "user"):
        content = _content(message.get("content"), f"{param}.content", notes, required=True)
        conversation.add(
            Message(role=Role.USER if role == "user" else Role.SYSTEM, content=content)
        )
    elif role == "assistant":
        content = _content(message.get("content"), f"{param}.content", notes, required=False)
        calls = _tool_calls(message.get("tool_calls"), f"{param}.tool_calls")
        reasoning = _reasoning(message, param)
        conversation.add_assistant(content=content, reasoning=reasoning)
        for call in calls:
            conversation.add_assistant(call=call)
    elif role == "tool":
        call_id = field_str(message, "tool_call_id", param)
        content = _content(message.get("content"), f"{param}.content", notes, required=True)
        conversation.add_tool_result(call_id, content, _kind_of(conversation, call_id))
    elif role == "function":
        notes.append("message:function")
    else:
        raise RequestInvalid(
            f"'{param}.role' must be one of 'system', 'developer', 'user', 'assistant', 'tool'",
            f"{param}.role",
        )


def _kind_of(conversation: Conversation, call_id: str) -> ToolKind:
    call = conversation.call(call_id)
    return call.kind if call is not None else ToolKind.FUNCTION


def _content(
    value: object, param: str, notes: list[str], *, required: bool
) -> tuple[ContentPart, ...]:
    if isinstance(value, str):
        return (TextPart(text=value),) if value else ()
    if value is None:
        if required:
            raise RequestInvalid(f"missing required parameter: '{param}'", param)
        return ()
    parts: list[ContentPart] = []
    for index, raw in enumerate(as_list(value, param)):
        part = _part(as_object(raw, f"{param}[{index}]"), f"{param}[{index}]", notes)
        if part is not None:
            parts.append(part)
    return tuple(parts)


def _cache_mark(part: Mapping[str, object], param: str) -> bool:
    """Anthropic's ``cache_control: {"type": "ephemeral"}`` on a text part (as Anthropic-
    minded Chat clients send it): a breakpoint the Anthropic adapter keeps."""
    mark = part.get("cache_control")
    if mark is None:
        return False
    if isinstance(mark, Mapping) and mark.get("type") == "ephemeral":
        return True
    where = f"{param}.cache_control"
    raise RequestInvalid(f'\'{where}\' must be {{"type": "ephemeral"}}', where)


def _part(part: Mapping[str, object], param: str, notes: list[str]) -> ContentPart | None:
    kind = part.get("type")
    if kind in _TEXT_PARTS:
        return TextPart(text=field_str(part, "text", param), cache_mark=_cache_mark(part, param))
    if kind == "refusal":
        return TextPart(text=field_str(part, "refusal", param))
    if kind == "image_url":
        image = part.get("image_url")
        if isinstance(image, str):
            return ImagePart(url=image)
        image_obj = as_object(image, f"{param}.image_url")
        return ImagePart(
            url=field_str(image_obj, "url", f"{param}.image_url"),
            detail=optional_str(image_obj, "detail", f"{param}.image_url"),
        )
    if isinstance(kind, str):
        notes.append(f"content:{kind}")
        return None
    raise RequestInvalid(f"'{param}.type' must be a string", f"{param}.type")


def _tool_calls(value: object, param: str) -> list[ToolCall]:
    if value is None:
        return []
    calls: list[ToolCall] = []
    for index, raw in enumerate(as_list(value, param)):
        where = f"{param}[{index}]"
        call = as_object(raw, where)
        call_id = field_str(call, "id", where)
        if call.get("type") == "custom":
            custom = as_object(call.get("custom"), f"{where}.custom")
            name = field_str(custom, "name", f"{where}.custom")
            text = field_str(custom, "input", f"{where}.custom")
            calls.append(ToolCall(id=call_id, name=name, arguments=text, kind=ToolKind.CUSTOM))
            continue
        function = as_object(call.get("function"), f"{where}.function")
        name = field_str(function, "name", f"{where}.function")
        arguments = field_str(function, "arguments", f"{where}.function")
        calls.append(ToolCall(id=call_id, name=name, arguments=arguments or "{}"))
    return calls


def _reasoning(message: Mapping[str, object], param: str) -> Reasoning | None:
    for key in ("reasoning_content", "reasoning"):
        text = message.get(key)
        if isinstance(text, str) and text:
            return Reasoning(provider=CHAT_REASONING, text=text)
        if text is not None and not isinstance(text, str):
            raise RequestInvalid(f"'{param}.{key}' must be a string", f"{param}.{key}")
    return None


def _decode_tools(value: object) -> tuple[ToolSpec, ...]:
    if value is None:
        return ()
    specs: list[ToolSpec] = []
    for index, raw in enumerate(as_list(value, "tools")):
        param = f"tools[{index}]"
        tool = as_object(raw, param)
        kind = tool.get("type", "function")
        if kind == "custom":
            specs.append(_custom_spec(as_object(tool.get("custom"), f"{param}.custom"), param))
        elif kind == "function":
            specs.append(
                _function_spec(as_object(tool.get("function"), f"{param}.function"), param)
            )
        else:
            raise RequestInvalid(f"'{param}.type' must be 'function' or 'custom'", f"{param}.type")
    return tuple(specs)


def _function_spec(function: Mapping[str, object], param: str) -> ToolSpec:
    where = f"{param}.function"
    strict = function.get("strict")
    if strict is not None and not isinstance(strict, bool):
        raise RequestInvalid(f"'{where}.strict' must be a boolean", f"{where}.strict")
    return ToolSpec(
        name=field_str(function, "name", where),
        description=optional_str(function, "description", where) or "",
        parameters=_schema(function.get("parameters"), f"{where}.parameters"),
        strict=strict,
    )


def _custom_spec(custom: Mapping[str, object], param: str) -> ToolSpec:
    where = f"{param}.custom"
    fmt = as_object(custom.get("format") or {}, f"{where}.format")
    grammar = as_object(fmt.get("grammar") or {}, f"{where}.format.grammar")
    description = optional_str(custom, "description", where) or ""
    return ToolSpec(
        name=field_str(custom, "name", where),
        description=custom_tool_description(
            description,
            optional_str(grammar, "syntax", f"{where}.format.grammar"),
            optional_str(grammar, "definition", f"{where}.format.grammar"),
        ),
        kind=ToolKind.CUSTOM,
    )


def _schema(value: object, param: str) -> JsonObject | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RequestInvalid(f"'{param}' must be a JSON Schema object", param)
    return value


def _tool_choice(value: object, notes: list[str]) -> ToolChoice | None:
    if value is None:
        return None
    if isinstance(value, str):
        if value in _CHOICE_MODES:
            return ToolChoice(mode=_CHOICE_MODES[value])
        raise RequestInvalid("'tool_choice' must be 'auto', 'none' or 'required'", "tool_choice")
    choice = as_object(value, "tool_choice")
    kind = choice.get("type")
    if kind in ("function", "custom"):
        named = as_object(choice.get(kind), f"tool_choice.{kind}")
        return ToolChoice(
            mode=ToolChoiceMode.NAMED, name=field_str(named, "name", f"tool_choice.{kind}")
        )
    if kind == "allowed_tools":
        notes.append("tool_choice:allowed_tools")
        allowed = as_object(choice.get("allowed_tools") or {}, "tool_choice.allowed_tools")
        required = allowed.get("mode") == "required"
        return ToolChoice(mode=ToolChoiceMode.REQUIRED if required else ToolChoiceMode.AUTO)
    raise RequestInvalid("'tool_choice.type' must be 'function' or 'custom'", "tool_choice.type")


def _stop(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    stops = as_list(value, "stop")
    if not all(isinstance(stop, str) for stop in stops):
        raise RequestInvalid("'stop' must be a string or an array of strings", "stop")
    return tuple(str(stop) for stop in stops)


def _note_unsupported(obj: Mapping[str, object], notes: list[str]) -> None:
    fmt = obj.get("response_format")
    if isinstance(fmt, Mapping) and fmt.get("type") not in (None, "text"):
        notes.append(f"response_format:{fmt.get('type')}")
    notes.extend(key for key in ("functions", "audio", "prediction") if obj.get(key) is not None)


__all__ = [
    "CHAT_REASONING",
    "ChatStreamEncoder",
    "RequestInvalid",
    "chat_include_usage",
    "decode_chat_request",
]
