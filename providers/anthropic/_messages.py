"""The IR conversation → Anthropic ``system`` + ``messages`` (SPEC §7 traps 1, 3, 6, 8, 13).

- Every system/developer message, wherever it stands, is joined (blank line between, in
  order) into the top-level ``system`` string: Anthropic has no mid-conversation slot, and
  keeping the instruction beats turning it into words the user never said.
- Turns alternate and start with ``user``: consecutive same-role messages are merged; if
  the first turn is the assistant's, a minimal user turn ``(continued)`` is put first.
- Tool results become ``tool_result`` blocks in the user turn right after the assistant
  turn that called them, before any user text. A result whose call is not in that
  assistant turn becomes plain text (Anthropic answers 400 otherwise); a call left without
  a result gets an ``is_error`` result saying so (same reason). The IR has no error flag
  on tool messages, so real results never carry ``is_error``.
- Assistant ``tool_calls`` → ``tool_use`` with ``input`` parsed from the JSON string;
  arguments that are not a JSON object are sent as ``{"input": <raw text>}`` so nothing
  the client sent is lost (custom calls are wrapped the same way, by design).
- Reasoning made by Anthropic (signed thinking, or redacted data) goes first in its
  assistant turn; unsigned or other providers' reasoning is dropped, and so is reasoning
  in a turn with nothing else (Anthropic rejects a turn ending in thinking).
- Images: ``data:`` URIs → base64 source; other URLs → url source.
- Ids are made safe for Anthropic's ``^[a-zA-Z0-9_-]+$``.
- A client's prompt-cache mark (``TextPart.cache_mark``) stays on its block: a text block,
  the text of an assistant turn, a tool result; on a system message, the system prompt
  (``system_marked``). ``_cache_marks`` counts them against Anthropic's four.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import orjson

from messages.chat import (
    ContentPart,
    ImagePart,
    Message,
    Reasoning,
    Role,
    TextPart,
    ToolCall,
    ToolKind,
)
from messages.json import Json
from providers._tool_wire import custom_arguments, wire_name

PROVIDER = "anthropic"
CONTINUED = "(continued)"
MISSING_RESULT = "No result was provided for this tool call."
_UNSAFE_ID = re.compile(r"[^a-zA-Z0-9_-]")

Block = dict[str, Json]


@dataclass(slots=True)
class _Turn:
    role: str
    blocks: list[Block] = field(default_factory=list)


def system_marked(messages: Sequence[Message]) -> bool:
    """Whether the client marked a prompt-cache breakpoint in a system message."""
    return any(m.role is Role.SYSTEM and _client_marked(m) for m in messages)


def encode_conversation(messages: Sequence[Message]) -> tuple[str, list[Json]]:
    system: list[str] = []
    turns: list[_Turn] = []
    for message in messages:
        if message.role is Role.SYSTEM:
            if message.text.strip():
                system.append(message.text)
            continue
        role = "assistant" if message.role is Role.ASSISTANT else "user"
        blocks = _blocks(message)
        if not blocks:
            continue
        if turns and turns[-1].role == role:
            turns[-1].blocks.extend(blocks)
        else:
            turns.append(_Turn(role=role, blocks=blocks))
    _pair_tool_results(turns)
    if not turns or turns[0].role != "user":
        turns.insert(0, _Turn(role="user", blocks=[{"type": "text", "text": CONTINUED}]))
    return "\n\n".join(system), [_message(turn) for turn in turns]


def _blocks(message: Message) -> list[Block]:
    if message.role is Role.ASSISTANT:
        return _assistant_blocks(message)
    if message.role is Role.TOOL:
        return [_tool_result(message)]
    return [block for part in message.content if (block := _part(part)) is not None]


def _part(part: ContentPart) -> Block | None:
    if isinstance(part, TextPart):
        if not part.text.strip():
            return None
        block: Block = {"type": "text", "text": part.text}
        return _marked(block) if part.cache_mark else block
    return _image(part)


def _marked(block: Block) -> Block:
    """A client's prompt-cache breakpoint, kept (``_cache_marks`` counts it)."""
    block["cache_control"] = {"type": "ephemeral"}
    return block


def _client_marked(message: Message) -> bool:
    return any(isinstance(part, TextPart) and part.cache_mark for part in message.content)


def _image(part: ImagePart) -> Block:
    header, comma, data = part.url.partition(",")
    if part.url.startswith("data:") and comma and header.endswith(";base64"):
        media_type = header[len("data:") : -len(";base64")]
        source: Block = {"type": "base64", "media_type": media_type, "data": data}
    else:
        source = {"type": "url", "url": part.url}
    return {"type": "image", "source": source}


def _assistant_blocks(message: Message) -> list[Block]:
    text = message.text
    said: list[Block] = [{"type": "text", "text": text}] if text.strip() else []
    if said and _client_marked(message):
        _marked(said[0])
    said.extend(_tool_use(call) for call in message.tool_calls)
    if not said:
        return []
    thoughts = [block for item in message.reasoning if (block := _thinking(item)) is not None]
    return thoughts + said


def _thinking(reasoning: Reasoning) -> Block | None:
    if reasoning.provider != PROVIDER or not reasoning.signature:
        return None
    if reasoning.redacted:
        return {"type": "redacted_thinking", "data": reasoning.signature}
    return {"type": "thinking", "thinking": reasoning.text, "signature": reasoning.signature}


def _tool_use(call: ToolCall) -> Block:
    if call.kind is ToolKind.CUSTOM:
        arguments: Json = custom_arguments(call.arguments)
    else:
        arguments = _arguments_object(call.arguments)
    return {
        "type": "tool_use",
        "id": safe_id(call.id),
        "name": wire_name(call.name, call.namespace),
        "input": arguments,
    }


def _arguments_object(arguments: str) -> Json:
    if not arguments.strip():
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return custom_arguments(arguments)
    return value if isinstance(value, dict) else custom_arguments(arguments)


def _tool_result(message: Message) -> Block:
    block: Block = {"type": "tool_result", "tool_use_id": safe_id(message.tool_call_id or "")}
    if any(isinstance(part, ImagePart) for part in message.content):
        block["content"] = [b for part in message.content if (b := _part(part)) is not None]
    elif message.text:
        block["content"] = message.text
    return _marked(block) if _client_marked(message) else block


def safe_id(raw: str) -> str:
    return _UNSAFE_ID.sub("_", raw) or "call"


def _pair_tool_results(turns: list[_Turn]) -> None:
    """Orphan results → text; missing results → error results; results before user text."""
    for position, turn in enumerate(turns):
        if turn.role != "user":
            continue
        previous = turns[position - 1] if position else None
        called = _called_ids(previous)
        answered = {b.get("tool_use_id") for b in turn.blocks if b.get("type") == "tool_result"}
        blocks = [_orphan_as_text(b) if _is_orphan(b, called) else b for b in turn.blocks]
        blocks.extend(_missing_result(call_id) for call_id in called if call_id not in answered)
        results = [b for b in blocks if b.get("type") == "tool_result"]
        turn.blocks = results + [b for b in blocks if b.get("type") != "tool_result"]


def _called_ids(turn: _Turn | None) -> list[str]:
    if turn is None or turn.role != "assistant":
        return []
    ids = [b.get("id") for b in turn.blocks if b.get("type") == "tool_use"]
    return [call_id for call_id in ids if isinstance(call_id, str)]


def _is_orphan(block: Block, called: Sequence[str]) -> bool:
    return block.get("type") == "tool_result" and block.get("tool_use_id") not in called


def _orphan_as_text(block: Block) -> Block:
    content = block.get("content", "")
    if not isinstance(content, str):
        parts = content if isinstance(content, list) else []
        content = "".join(
            str(p.get("text", "")) for p in parts if isinstance(p, Mapping) and "text" in p
        )
    return {"type": "text", "text": f"Result of tool call {block.get('tool_use_id')}:\n{content}"}


def _missing_result(call_id: str) -> Block:
    return {
        "type": "tool_result",
        "tool_use_id": call_id,
        "content": MISSING_RESULT,
        "is_error": True,
    }


def _message(turn: _Turn) -> Json:
    blocks = turn.blocks
    if len(blocks) == 1 and blocks[0].get("type") == "text" and "cache_control" not in blocks[0]:
        return {"role": turn.role, "content": blocks[0]["text"]}
    content: list[Json] = list(blocks)
    return {"role": turn.role, "content": content}


__all__ = [
    "CONTINUED",
    "MISSING_RESULT",
    "PROVIDER",
    "encode_conversation",
    "safe_id",
    "system_marked",
]
