"""The IR conversation → Chat Completions ``messages``, shaped by the provider's quirks.

- System/developer messages stay where they are as ``system`` messages (except with
  ``alternates_roles``, which hoists them to the front in order).
- User content is a string, or a list of ``text`` / ``image_url`` parts when it has images.
- Assistant ``tool_calls`` carry the function's wire name (``namespace__name``) and the
  arguments string as the client gave it (``"{}"`` when empty); a custom call (Codex's
  ``apply_patch``) goes as its emulating function with ``{"input": <text>}``.
- Tool results are ``{"role": "tool", "tool_call_id", "content": <text>}``; images in a
  tool result are dropped (Chat tool messages carry text only).
- Call ids go through ``quirks.call_id`` on both sides, so pairs stay matched.
- Reasoning: only the provider's own readable reasoning, and only with
  ``echoes_reasoning``, goes back (as ``thinking`` chunks first in the assistant
  content); any other reasoning is dropped. Chat has no field for opaque state.
- Without ``tools`` (Perplexity) a call becomes a line of assistant text and a result a
  user message, so the conversation still reads right to a model that has no tools.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from messages.chat import Message, Role, ToolCall, ToolKind
from messages.json import Json
from providers._tool_wire import custom_arguments, wire_name
from providers.openai_chat._quirks import ChatQuirks
from providers.user_content import system_or_user

CONTINUED = "(continued)"
TOOL_TURN_DONE = "(tool results received)"

WireMessage = dict[str, Json]


def encode_messages(messages: Sequence[Message], quirks: ChatQuirks) -> list[Json]:
    wire: list[WireMessage] = []
    for message in messages:
        encoded = _message(message, quirks)
        if encoded is not None:
            wire.append(encoded)
    if quirks.bridges_tool_to_user:
        wire = _bridge_tool_to_user(wire)
    if quirks.alternates_roles:
        wire = _alternate(wire)
    return list(wire)


def _message(message: Message, quirks: ChatQuirks) -> WireMessage | None:
    if message.role in (Role.SYSTEM, Role.USER):
        return system_or_user(message)
    if message.role is Role.ASSISTANT:
        return _assistant(message, quirks)
    return _tool_result(message, quirks)


def _assistant(message: Message, quirks: ChatQuirks) -> WireMessage | None:
    text = message.text
    calls: list[Json] = []
    if quirks.tools:
        calls = [_tool_call(call, quirks) for call in message.tool_calls]
    elif message.tool_calls:
        said = [text] if text.strip() else []
        text = "\n".join(said + [_call_as_text(call) for call in message.tool_calls])
    if not text.strip() and not calls:
        return None
    wire: WireMessage = {"role": "assistant", "content": _assistant_content(message, text, quirks)}
    if calls:
        wire["tool_calls"] = calls
    return wire


def _assistant_content(message: Message, text: str, quirks: ChatQuirks) -> Json:
    thoughts = [
        item.text
        for item in message.reasoning
        if quirks.echoes_reasoning and item.provider == quirks.name and item.text.strip()
    ]
    if not thoughts:
        return text if text.strip() else None
    chunks: list[Json] = [
        {"type": "thinking", "thinking": [{"type": "text", "text": thought}]}
        for thought in thoughts
    ]
    if text.strip():
        chunks.append({"type": "text", "text": text})
    return chunks


def _tool_call(call: ToolCall, quirks: ChatQuirks) -> Json:
    return {
        "id": quirks.call_id(call.id),
        "type": "function",
        "function": {"name": wire_name(call.name, call.namespace), "arguments": _arguments(call)},
    }


def _arguments(call: ToolCall) -> str:
    if call.kind is ToolKind.CUSTOM:
        return orjson.dumps(custom_arguments(call.arguments)).decode()
    return call.arguments if call.arguments.strip() else "{}"


def _call_as_text(call: ToolCall) -> str:
    return f"[called tool {wire_name(call.name, call.namespace)} with {_arguments(call)}]"


def _tool_result(message: Message, quirks: ChatQuirks) -> WireMessage:
    call_id = message.tool_call_id or ""
    if quirks.tools:
        return {"role": "tool", "tool_call_id": quirks.call_id(call_id), "content": message.text}
    name = message.tool_name or "tool"
    return {"role": "user", "content": f"[result of {name} call {call_id}]\n{message.text}"}


def _bridge_tool_to_user(wire: list[WireMessage]) -> list[WireMessage]:
    bridged: list[WireMessage] = []
    for message in wire:
        if bridged and bridged[-1]["role"] == "tool" and message["role"] == "user":
            bridged.append({"role": "assistant", "content": TOOL_TURN_DONE})
        bridged.append(message)
    return bridged


def _alternate(wire: list[WireMessage]) -> list[WireMessage]:
    """System messages first; then merged same-role runs, starting with the user."""
    system = [message for message in wire if message["role"] == "system"]
    turns: list[WireMessage] = []
    for message in wire:
        if message["role"] == "system":
            continue
        if turns and turns[-1]["role"] == message["role"]:
            turns[-1] = _merged(turns[-1], message)
        else:
            turns.append(message)
    if turns and turns[0]["role"] != "user":
        turns.insert(0, {"role": "user", "content": CONTINUED})
    return system + turns


def _merged(first: WireMessage, second: WireMessage) -> WireMessage:
    left, right = first.get("content"), second.get("content")
    if isinstance(left, str) and isinstance(right, str):
        return {"role": first["role"], "content": f"{left}\n\n{right}"}
    return {"role": first["role"], "content": [*_parts(left), *_parts(right)]}


def _parts(content: Json) -> list[Json]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return list(content) if isinstance(content, list) else []


__all__ = ["CONTINUED", "TOOL_TURN_DONE", "encode_messages"]
