"""OpenAI Responses requests (what Codex sends) decoded into the IR.

``decode_responses_request`` reads the body the ingress parsed once. Item grouping:
an assistant ``message`` and the ``reasoning`` / ``function_call`` / ``custom_tool_call``
items around it become ONE assistant ``Message`` (consecutive ones merge), which is how
every provider wants a turn; ``*_output`` items become ``Role.TOOL`` messages with the
called tool's name looked up by ``call_id``. ``namespace`` tools are flattened; hosted
tools (``web_search``, ``tool_search``, …) cannot run elsewhere and are dropped, each
noted in ``ChatRequest.dropped``. The reply side lives in ``responses_encoder``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
from providers.client_formats.reasoning_state import reasoning_from_item
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
from providers.client_formats.responses_encoder import ResponsesStreamEncoder
from providers.output_limit import requested_output_tokens

_ROLES = {"system": Role.SYSTEM, "developer": Role.SYSTEM, "user": Role.USER}
_CHOICE_MODES = {mode.value: mode for mode in ToolChoiceMode if mode is not ToolChoiceMode.NAMED}
_TEXT_PARTS = ("input_text", "output_text", "text", "summary_text", "reasoning_text")


class Conversation:
    """Builds the message list, merging each assistant turn's items into one message."""

    __slots__ = ("_calls", "_content", "_messages", "_reasoning", "_tool_calls")

    def __init__(self) -> None:
        self._messages: list[Message] = []
        self._content: list[ContentPart] = []
        self._tool_calls: list[ToolCall] = []
        self._reasoning: list[Reasoning] = []
        self._calls: dict[str, ToolCall] = {}

    def add(self, message: Message) -> None:
        self._flush()
        self._messages.append(message)

    def add_assistant(
        self,
        content: Sequence[ContentPart] = (),
        call: ToolCall | None = None,
        reasoning: Reasoning | None = None,
    ) -> None:
        self._content.extend(content)
        if call is not None:
            self._tool_calls.append(call)
            self._calls[call.id] = call
        if reasoning is not None:
            self._reasoning.append(reasoning)

    def call(self, call_id: str) -> ToolCall | None:
        """The earlier call with this id, if the history holds it."""
        return self._calls.get(call_id)

    def add_tool_result(
        self, call_id: str, content: tuple[ContentPart, ...], kind: ToolKind
    ) -> None:
        call = self._calls.get(call_id)
        self.add(
            Message(
                role=Role.TOOL,
                content=content,
                tool_call_id=call_id,
                tool_name=call.name if call else None,
                tool_kind=kind,
            )
        )

    def messages(self) -> tuple[Message, ...]:
        self._flush()
        return tuple(self._messages)

    def _flush(self) -> None:
        if self._content or self._tool_calls or self._reasoning:
            self._messages.append(
                Message(
                    role=Role.ASSISTANT,
                    content=tuple(self._content),
                    tool_calls=tuple(self._tool_calls),
                    reasoning=tuple(self._reasoning),
                )
            )
            self._content, self._tool_calls, self._reasoning = [], [], []


def decode_responses_request(body: object) -> ChatRequest:
    """A Responses ``POST /v1/responses`` body as a ``ChatRequest``; raises ``RequestInvalid``."""
    obj = as_object(body, None)
    model = required_model(obj)
    notes: list[str] = []
    conversation = Conversation()
    instructions = optional_str(obj, "instructions", "")
    if instructions:
        conversation.add(Message(role=Role.SYSTEM, content=(TextPart(text=instructions),)))
    _decode_input(obj.get("input"), conversation, notes)
    notes.extend(
        key
        for key in ("previous_response_id", "conversation", "prompt")
        if obj.get(key) is not None
    )
    _note_text_format(obj.get("text"), notes)
    reasoning = as_object(obj.get("reasoning") or {}, "reasoning")
    summary = optional_str(reasoning, "summary", "reasoning")
    return ChatRequest(
        model=model,
        messages=conversation.messages(),
        tools=decode_tools(obj.get("tools"), notes),
        tool_choice=_tool_choice(obj.get("tool_choice"), notes),
        parallel_tool_calls=optional_bool(obj, "parallel_tool_calls"),
        max_output_tokens=requested_output_tokens(ClientFormat.RESPONSES, obj),
        temperature=optional_number(obj, "temperature"),
        top_p=optional_number(obj, "top_p"),
        reasoning_effort=optional_str(reasoning, "effort", "reasoning"),
        reasoning_summary=summary or optional_str(reasoning, "generate_summary", "reasoning"),
        stream=optional_bool(obj, "stream") or False,
        dropped=tuple(dict.fromkeys(notes)),
    )


def _decode_input(value: object, conversation: Conversation, notes: list[str]) -> None:
    if isinstance(value, str):
        conversation.add(Message(role=Role.USER, content=(TextPart(text=value),)))
        return
    if value is None:
        raise RequestInvalid("missing required parameter: 'input'", "input")
    if not isinstance(value, list):
        raise RequestInvalid("'input' must be a string or an array of items", "input")
    for index, raw in enumerate(value):
        param = f"input[{index}]"
        _decode_item(as_object(raw, param), param, conversation, notes)


def _decode_item(
    item: Mapping[str, object], param: str, conversation: Conversation, notes: list[str]
) -> None:
    kind = item.get("type", "message" if "role" in item else None)
    if kind == "message":
        _decode_message(item, param, conversation, notes)
    elif kind in ("function_call", "custom_tool_call"):
        conversation.add_assistant(call=_decode_call(item, param, kind == "custom_tool_call"))
    elif kind == "reasoning":
        conversation.add_assistant(reasoning=_decode_reasoning(item, param))
    elif kind in ("function_call_output", "custom_tool_call_output"):
        call_id = field_str(item, "call_id", param)
        content = _decode_output(item.get("output"), f"{param}.output", notes)
        tool_kind = ToolKind.CUSTOM if kind == "custom_tool_call_output" else ToolKind.FUNCTION
        conversation.add_tool_result(call_id, content, tool_kind)
    elif isinstance(kind, str):
        notes.append(f"item:{kind}")
    else:
        raise RequestInvalid(f"'{param}.type' must be a string", f"{param}.type")


def _decode_message(
    item: Mapping[str, object], param: str, conversation: Conversation, notes: list[str]
) -> None:
    role = item.get("role")
    content = _decode_content(item.get("content"), f"{param}.content", notes)
    if role == "assistant":
        conversation.add_assistant(content=content)
    elif isinstance(role, str) and role in _ROLES:
        conversation.add(Message(role=_ROLES[role], content=content))
    else:
        raise RequestInvalid(
            f"'{param}.role' must be one of 'user', 'assistant', 'system', 'developer'",
            f"{param}.role",
        )


def _decode_content(value: object, param: str, notes: list[str]) -> tuple[ContentPart, ...]:
    if isinstance(value, str):
        return (TextPart(text=value),)
    if value is None:
        raise RequestInvalid(f"missing required parameter: '{param}'", param)
    parts: list[ContentPart] = []
    for index, raw in enumerate(as_list(value, param)):
        part = _decode_part(as_object(raw, f"{param}[{index}]"), f"{param}[{index}]", notes)
        if part is not None:
            parts.append(part)
    return tuple(parts)


def _decode_part(part: Mapping[str, object], param: str, notes: list[str]) -> ContentPart | None:
    kind = part.get("type")
    if kind in _TEXT_PARTS:
        return TextPart(text=field_str(part, "text", param))
    if kind == "refusal":
        return TextPart(text=field_str(part, "refusal", param))
    if kind == "input_image":
        url = optional_str(part, "image_url", param)
        if url is None:
            notes.append("input_image:file_id")
            return None
        return ImagePart(url=url, detail=optional_str(part, "detail", param))
    if isinstance(kind, str):
        notes.append(f"content:{kind}")
        return None
    raise RequestInvalid(f"'{param}.type' must be a string", f"{param}.type")


def _decode_output(value: object, param: str, notes: list[str]) -> tuple[ContentPart, ...]:
    if isinstance(value, str):
        return (TextPart(text=value),) if value else ()
    return _decode_content(value, param, notes)


def _decode_call(item: Mapping[str, object], param: str, custom: bool) -> ToolCall:
    call_id = field_str(item, "call_id", param)
    name = field_str(item, "name", param)
    namespace = optional_str(item, "namespace", param)
    if custom:
        text = field_str(item, "input", param)
        return ToolCall(
            id=call_id, name=name, arguments=text, kind=ToolKind.CUSTOM, namespace=namespace
        )
    arguments = field_str(item, "arguments", param)
    return ToolCall(id=call_id, name=name, arguments=arguments or "{}", namespace=namespace)


def _decode_reasoning(item: Mapping[str, object], param: str) -> Reasoning:
    texts = _part_texts(item.get("summary"), f"{param}.summary")
    if not texts:
        texts = _part_texts(item.get("content"), f"{param}.content")
    return reasoning_from_item(
        item_id=optional_str(item, "id", param),
        text="\n\n".join(texts),
        encrypted=optional_str(item, "encrypted_content", param),
    )


def _part_texts(value: object, param: str) -> list[str]:
    if value is None:
        return []
    texts: list[str] = []
    for index, raw in enumerate(as_list(value, param)):
        texts.append(field_str(as_object(raw, f"{param}[{index}]"), "text", f"{param}[{index}]"))
    return texts


def decode_tools(value: object, notes: list[str]) -> tuple[ToolSpec, ...]:
    """Responses ``tools``: functions and custom tools kept, namespaces flattened."""
    if value is None:
        return ()
    specs: list[ToolSpec] = []
    for index, raw in enumerate(as_list(value, "tools")):
        param = f"tools[{index}]"
        specs.extend(_decode_tool(as_object(raw, param), param, None, notes))
    return tuple(specs)


def _decode_tool(
    tool: Mapping[str, object], param: str, namespace: str | None, notes: list[str]
) -> list[ToolSpec]:
    kind = tool.get("type")
    if kind == "function":
        return [_function_spec(tool, param, namespace)]
    if kind == "custom":
        return [_custom_spec(tool, param, namespace)]
    if kind == "namespace" and namespace is None:
        name = field_str(tool, "name", param)
        inner: list[ToolSpec] = []
        for index, raw in enumerate(as_list(tool.get("tools"), f"{param}.tools")):
            item_param = f"{param}.tools[{index}]"
            inner.extend(_decode_tool(as_object(raw, item_param), item_param, name, notes))
        return inner
    if isinstance(kind, str):
        notes.append(f"tool:{kind}")
        return []
    raise RequestInvalid(f"'{param}.type' must be a string", f"{param}.type")


def _function_spec(tool: Mapping[str, object], param: str, namespace: str | None) -> ToolSpec:
    parameters = tool.get("parameters")
    return ToolSpec(
        name=field_str(tool, "name", param),
        description=optional_str(tool, "description", param) or "",
        parameters=_schema(parameters, f"{param}.parameters"),
        namespace=namespace,
        strict=_strict(tool, param),
    )


def _custom_spec(tool: Mapping[str, object], param: str, namespace: str | None) -> ToolSpec:
    description = optional_str(tool, "description", param) or ""
    fmt = as_object(tool.get("format") or {}, f"{param}.format")
    return ToolSpec(
        name=field_str(tool, "name", param),
        description=custom_tool_description(
            description,
            optional_str(fmt, "syntax", f"{param}.format"),
            optional_str(fmt, "definition", f"{param}.format"),
        ),
        kind=ToolKind.CUSTOM,
        namespace=namespace,
    )


def custom_tool_description(description: str, syntax: str | None, definition: str | None) -> str:
    """A custom tool's description plus its input grammar, for providers that emulate it."""
    if not definition:
        return description
    note = f"Input format: text matching this {syntax or 'formal'} grammar:\n{definition}"
    return f"{description}\n\n{note}" if description else note


def _schema(value: object, param: str) -> JsonObject | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RequestInvalid(f"'{param}' must be a JSON Schema object", param)
    return value


def _strict(tool: Mapping[str, object], param: str) -> bool | None:
    value = tool.get("strict")
    if value is None or isinstance(value, bool):
        return value
    raise RequestInvalid(f"'{param}.strict' must be a boolean", f"{param}.strict")


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
        name = field_str(choice, "name", "tool_choice")
        return ToolChoice(mode=ToolChoiceMode.NAMED, name=name)
    if kind == "allowed_tools":
        notes.append("tool_choice:allowed_tools")
        mode = choice.get("mode")
        return ToolChoice(
            mode=ToolChoiceMode.REQUIRED if mode == "required" else ToolChoiceMode.AUTO
        )
    if isinstance(kind, str):
        notes.append(f"tool_choice:{kind}")
        return None
    raise RequestInvalid("'tool_choice.type' must be a string", "tool_choice.type")


def _note_text_format(value: object, notes: list[str]) -> None:
    if value is None:
        return
    fmt = as_object(value, "text").get("format")
    if isinstance(fmt, Mapping) and fmt.get("type") not in (None, "text"):
        notes.append(f"text.format:{fmt.get('type')}")


__all__ = [
    "Conversation",
    "RequestInvalid",
    "ResponsesStreamEncoder",
    "custom_tool_description",
    "decode_responses_request",
    "decode_tools",
]
