"""Anthropic Messages requests (what Claude Code and the ``anthropic`` SDK send) decoded
into the IR. The reply side lives in ``anthropic_encoder``.

What each field becomes (the README lists the same, for users):

- ``system`` (a string or text blocks) → a leading ``Role.SYSTEM`` message; a ``system``
  message *inside* ``messages`` (Claude Code's mid-conversation system beta) → a
  ``Role.SYSTEM`` message at that point (a provider with one system slot joins them).
- ``user`` blocks: ``text``; ``image`` (base64 → a ``data:`` URI, url → the URL);
  ``tool_result`` → a ``Role.TOOL`` message placed before the turn's other content
  (``is_error`` results keep their text, prefixed ``Error:`` when it does not say so).
  ``document``, ``search_result`` and other blocks are dropped, noted in ``dropped``.
- ``assistant`` blocks: ``text``; ``tool_use`` → a tool call with ``input`` as JSON;
  ``thinking`` / ``redacted_thinking`` → ``Reasoning`` owned by Anthropic, or, for a
  signature the gateway wrapped (``swy1:<provider>:…``), by the provider that made it.
- ``tools``: custom tools (``name``, ``description``, ``input_schema``; ``strict`` kept;
  ``cache_control``, ``defer_loading``, ``input_examples`` dropped); Anthropic's own
  tool types (``web_search_…``, ``bash_…``, ``text_editor_…``) cannot run elsewhere and
  are dropped, noted.
- ``tool_choice`` ``auto``/``any``/``tool``/``none``; ``disable_parallel_tool_use`` →
  ``parallel_tool_calls: false``.
- ``max_tokens`` (required) → the output bound; ``temperature``, ``top_p``,
  ``stop_sequences`` carried; ``top_k`` dropped (no other provider has it).
- ``thinking`` → a reasoning effort: ``enabled`` by its ``budget_tokens`` (< 4096 low,
  < 16384 medium, else high), ``adaptive`` by ``output_config.effort`` (default high),
  ``disabled`` or absent → none.
- Dropped on purpose, noted: ``metadata`` (the trail keeps the body),
  ``context_management``, ``output_config.format``, ``container``, ``mcp_servers``,
  ``service_tier``, ``cache_control`` marks (prompt caching is each provider's own).
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

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
    ToolKind,
)
from providers.client_formats.anthropic_tools import decode_tool_choice, decode_tools
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
from providers.client_formats.responses_format import Conversation
from providers.output_limit import requested_output_tokens

ANTHROPIC = "anthropic"
_WRAPPED = ("swy1:", "swy1r:")
_DROPPED_FIELDS = (
    "metadata",
    "context_management",
    "container",
    "mcp_servers",
    "service_tier",
    "top_k",
)


def decode_anthropic_request(body: object) -> ChatRequest:
    """A ``POST /v1/messages`` body as a ``ChatRequest``; raises ``RequestInvalid``."""
    obj = as_object(body, None)
    model = required_model(obj)
    notes: list[str] = []
    conversation = Conversation()
    system = _system_parts(obj.get("system"), "system", notes)
    if system:
        conversation.add(Message(role=Role.SYSTEM, content=system))
    messages = obj.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestInvalid("'messages' is required and must be a non-empty array", "messages")
    for index, raw in enumerate(messages):
        param = f"messages[{index}]"
        _decode_message(as_object(raw, param), param, conversation, notes)
    notes.extend(name for name in _DROPPED_FIELDS if obj.get(name) is not None)
    tool_choice, parallel = decode_tool_choice(obj.get("tool_choice"))
    return ChatRequest(
        model=model,
        messages=conversation.messages(),
        tools=decode_tools(obj.get("tools"), notes),
        tool_choice=tool_choice,
        parallel_tool_calls=parallel,
        max_output_tokens=requested_output_tokens(ClientFormat.ANTHROPIC, obj),
        temperature=optional_number(obj, "temperature"),
        top_p=optional_number(obj, "top_p"),
        stop=_stop_sequences(obj.get("stop_sequences")),
        reasoning_effort=_effort(obj, notes),
        stream=optional_bool(obj, "stream") or False,
        dropped=tuple(dict.fromkeys(notes)),
    )


def _decode_message(
    message: Mapping[str, object], param: str, conversation: Conversation, notes: list[str]
) -> None:
    role = message.get("role")
    content = message.get("content")
    where = f"{param}.content"
    if role == "system":
        parts = _system_parts(content, where, notes)
        if parts:
            conversation.add(Message(role=Role.SYSTEM, content=parts))
    elif role == "user":
        _decode_user(_blocks(content, where), where, conversation, notes)
    elif role == "assistant":
        _decode_assistant(_blocks(content, where), where, conversation, notes)
    else:
        raise RequestInvalid(
            f"'{param}.role' must be 'user', 'assistant' or 'system'", f"{param}.role"
        )


def _blocks(content: object, param: str) -> list[tuple[Mapping[str, object], str]]:
    """``content`` as (block, param) pairs; a string is one text block."""
    if isinstance(content, str):
        return [({"type": "text", "text": content}, param)]
    if content is None:
        raise RequestInvalid(f"missing required parameter: '{param}'", param)
    pairs = []
    for index, raw in enumerate(as_list(content, param)):
        where = f"{param}[{index}]"
        block = as_object(raw, where)
        if not isinstance(block.get("type"), str):
            raise RequestInvalid(
                f"'{where}.type' is required and must be a string", f"{where}.type"
            )
        pairs.append((block, where))
    return pairs


def _system_parts(value: object, param: str, notes: list[str]) -> tuple[ContentPart, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (TextPart(text=value),) if value else ()
    parts: list[ContentPart] = []
    for block, where in _blocks(value, param):
        if block["type"] != "text":
            raise RequestInvalid(f"'{where}.type' must be 'text' in a system prompt", where)
        _note_cache_mark(block, notes)
        parts.append(TextPart(text=field_str(block, "text", where)))
    return tuple(parts)


def _decode_user(
    blocks: list[tuple[Mapping[str, object], str]],
    param: str,
    conversation: Conversation,
    notes: list[str],
) -> None:
    content: list[ContentPart] = []
    for block, where in blocks:
        _note_cache_mark(block, notes)
        kind = block["type"]
        if kind == "tool_result":
            call_id = field_str(block, "tool_use_id", where)
            result = _tool_result_content(block, where, notes)
            call = conversation.call(call_id)
            kind_of = call.kind if call is not None else ToolKind.FUNCTION
            conversation.add_tool_result(call_id, result, kind_of)
            continue
        part = _content_part(block, where, notes)
        if part is not None:
            content.append(part)
    if content:
        conversation.add(Message(role=Role.USER, content=tuple(content)))


def _tool_result_content(
    block: Mapping[str, object], param: str, notes: list[str]
) -> tuple[ContentPart, ...]:
    raw = block.get("content")
    is_error = optional_bool(block, "is_error", param)
    parts: list[ContentPart] = []
    if isinstance(raw, str):
        parts.append(TextPart(text=raw))
    elif raw is not None:
        for inner, where in _blocks(raw, f"{param}.content"):
            part = _content_part(inner, where, notes)
            if part is not None:
                parts.append(part)
    if is_error:
        text = "".join(p.text for p in parts if isinstance(p, TextPart))
        if not text.lower().startswith("error"):
            parts.insert(0, TextPart(text="Error: "))
    return tuple(parts)


def _content_part(block: Mapping[str, object], param: str, notes: list[str]) -> ContentPart | None:
    kind = block["type"]
    if kind == "text":
        return TextPart(text=field_str(block, "text", param))
    if kind == "image":
        return _image(as_object(block.get("source"), f"{param}.source"), f"{param}.source")
    assert isinstance(kind, str)
    notes.append(f"content:{kind}")
    return None


def _image(source: Mapping[str, object], param: str) -> ImagePart:
    kind = source.get("type")
    if kind == "base64":
        media_type = field_str(source, "media_type", param)
        return ImagePart(url=f"data:{media_type};base64,{field_str(source, 'data', param)}")
    if kind == "url":
        return ImagePart(url=field_str(source, "url", param))
    raise RequestInvalid(f"'{param}.type' must be 'base64' or 'url'", f"{param}.type")


def _decode_assistant(
    blocks: list[tuple[Mapping[str, object], str]],
    param: str,
    conversation: Conversation,
    notes: list[str],
) -> None:
    for block, where in blocks:
        _note_cache_mark(block, notes)
        kind = block["type"]
        if kind == "text":
            text = field_str(block, "text", where)
            conversation.add_assistant(content=(TextPart(text=text),) if text else ())
        elif kind == "tool_use":
            conversation.add_assistant(call=_tool_use(block, where))
        elif kind == "thinking":
            text = field_str(block, "thinking", where)
            signature = optional_str(block, "signature", where) or ""
            conversation.add_assistant(reasoning=_reasoning(text, signature, redacted=False))
        elif kind == "redacted_thinking":
            data = field_str(block, "data", where)
            conversation.add_assistant(reasoning=_reasoning("", data, redacted=True))
        else:
            assert isinstance(kind, str)
            notes.append(f"content:{kind}")


def _tool_use(block: Mapping[str, object], param: str) -> ToolCall:
    call_id = field_str(block, "id", param)
    name = field_str(block, "name", param)
    arguments = as_object(block.get("input", {}), f"{param}.input")
    return ToolCall(id=call_id, name=name, arguments=orjson.dumps(arguments).decode())


def _reasoning(text: str, signature: str, *, redacted: bool) -> Reasoning:
    """Anthropic's own state as is; state the gateway wrapped goes back to its maker."""
    if signature.startswith(_WRAPPED):
        return reasoning_from_item(item_id=None, text=text, encrypted=signature)
    return Reasoning(provider=ANTHROPIC, text=text, signature=signature or None, redacted=redacted)


def _stop_sequences(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    stops = as_list(value, "stop_sequences")
    if not all(isinstance(stop, str) for stop in stops):
        raise RequestInvalid("'stop_sequences' must be an array of strings", "stop_sequences")
    return tuple(str(stop) for stop in stops)


def _effort(obj: Mapping[str, object], notes: list[str]) -> str | None:
    config = obj.get("output_config")
    output = as_object(config, "output_config") if config is not None else {}
    if output.get("format") is not None:
        notes.append("output_config.format")
    thinking = obj.get("thinking")
    if thinking is None:
        return None
    kind = as_object(thinking, "thinking").get("type")
    if kind == "disabled":
        return None
    if kind == "adaptive":
        effort = optional_str(output, "effort", "output_config") or "high"
        return "high" if effort == "max" else effort
    budget = as_object(thinking, "thinking").get("budget_tokens")
    if type(budget) is not int:  # inbound_checks has said so already, with its bounds
        raise RequestInvalid(
            "'thinking.budget_tokens' must be an integer", "thinking.budget_tokens"
        )
    return "low" if budget < 4096 else "medium" if budget < 16384 else "high"


def _note_cache_mark(block: Mapping[str, object], notes: list[str]) -> None:
    if block.get("cache_control") is not None:
        notes.append("cache_control")


__all__ = ["ANTHROPIC", "decode_anthropic_request"]
