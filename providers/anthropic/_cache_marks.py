"""Anthropic prompt-cache breakpoints (``cache_control``) on an encoded Messages body.

Anthropic bills a repeated prompt prefix in full unless the request marks where a cached
prefix may end; each Codex turn re-sends the whole conversation, so without marks every
turn pays for all of it again. The prefix runs in the order tools → system → messages,
and a mark caches everything up to and including its block. At most four marks are
allowed per request (more is a 400), and a prefix shorter than the model's minimum
(1024-4096 tokens) is simply not cached, without an error — so marking never fails a
request.

With ``prompt_cache: auto`` the gateway places, in this order of priority, as many
marks as the four allow after those already in the body (a client's own marks are
kept and counted, never moved; of more than four, the last four are kept);
``prompt_cache: off`` sends none, a client's included:

1. the last cacheable block of the last message — the latest point of the
   conversation: the next turn re-sends it unchanged and reads everything before it
   from the cache (Anthropic looks back ~20 blocks from a mark for an earlier entry);
2. the last tool definition (tools change least);
3. the system prompt (sent as one text block to carry the mark);
4. the end of the previous user turn, so a turn that added more than ~20 blocks
   still finds the prefix written one turn earlier.

Thinking blocks cannot carry a mark, nor can empty text; such blocks are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from functools import partial

from messages.json import Json

MAX_BREAKPOINTS = 4
_MARK = "cache_control"
_MARKABLE = frozenset({"text", "image", "document", "tool_use", "tool_result"})

Block = MutableMapping[str, Json]


def mark_breakpoints(body: dict[str, Json]) -> int:
    """Add marks to ``body`` (a freshly encoded request, changed in place); returns how
    many were added. A client's marks beyond four lose their earliest (Anthropic would
    refuse the request)."""
    marked = _marked_blocks(body)
    for extra in marked[: max(0, len(marked) - MAX_BREAKPOINTS)]:
        del extra[_MARK]
    room = MAX_BREAKPOINTS - min(len(marked), MAX_BREAKPOINTS)
    added: list[Block] = []
    for place in _places(body):
        if len(added) >= room:
            break
        block = place()
        if block is not None and _MARK not in block and all(block is not b for b in added):
            block[_MARK] = {"type": "ephemeral"}
            added.append(block)
    return len(added)


def count_marks(body: dict[str, Json]) -> int:
    """The ``cache_control`` marks already in ``body`` (tools, system, message blocks)."""
    return len(_marked_blocks(body))


def strip_marks(body: dict[str, Json]) -> None:
    """No marks at all (``prompt_cache: off``), a client's included."""
    for block in _marked_blocks(body):
        del block[_MARK]


def _marked_blocks(body: dict[str, Json]) -> list[Block]:
    """The blocks carrying a mark, in prompt order (tools, system, messages)."""
    blocks = [*_dicts(body.get("tools")), *_dicts(body.get("system"))]
    messages = body.get("messages")
    for message in messages if isinstance(messages, list) else []:
        if isinstance(message, dict):
            blocks.extend(_dicts(message.get("content")))
    return [block for block in blocks if _MARK in block]


def _places(body: dict[str, Json]) -> list[Callable[[], Block | None]]:
    """Where marks go, best first (see the module docstring); a string ``content`` or
    ``system`` becomes one text block only when it is marked."""
    messages = body.get("messages")
    turns = [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []
    tools = _dicts(body.get("tools"))
    users = [index for index, turn in enumerate(turns) if turn.get("role") == "user"]
    places: list[Callable[[], Block | None]] = []
    if turns:
        places.append(partial(_last_block, turns[-1]))
    if tools:
        places.append(partial(_identity, tools[-1]))
    places.append(partial(_system_block, body))
    if len(users) >= 2:
        places.append(partial(_last_block, turns[users[-2]]))
    return places


def _identity(block: Block) -> Block:
    return block


def _last_block(message: dict[str, Json]) -> Block | None:
    content = message.get("content")
    if isinstance(content, str):
        if not content.strip():
            return None
        block: dict[str, Json] = {"type": "text", "text": content}
        message["content"] = [block]
        return block
    for candidate in reversed(_dicts(content)):
        if _markable(candidate):
            return candidate
    return None


def _markable(block: Block) -> bool:
    kind = block.get("type")
    if kind not in _MARKABLE:
        return False
    text = block.get("text")
    return kind != "text" or (isinstance(text, str) and bool(text.strip()))


def _system_block(body: dict[str, Json]) -> Block | None:
    system = body.get("system")
    if isinstance(system, str):
        if not system.strip():
            return None
        block: dict[str, Json] = {"type": "text", "text": system}
        body["system"] = [block]
        return block
    blocks = [block for block in _dicts(system) if _markable(block)]
    return blocks[-1] if blocks else None


def _dicts(value: Json) -> list[Block]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


__all__ = ["MAX_BREAKPOINTS", "count_marks", "mark_breakpoints", "strip_marks"]
