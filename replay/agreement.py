"""Did a replayed turn answer as the original did? (pure)

An answer is read from a response as the trail stores it, in the client's format: a
Responses object (``output``: ``function_call``, ``custom_tool_call``,
``local_shell_call`` and ``message`` items), a Chat completion (``choices[0].message``:
``tool_calls`` and ``content``) or an Anthropic message (``content``: ``tool_use`` and
``text`` blocks). Then:

- both called tools: the same names (as a multiset: parallel calls may come in another
  order) with arguments equal as parsed JSON (key order and spacing do not matter; a
  freeform input is compared as text) → same tools, same arguments; same names, other
  arguments → same tools, different arguments; other names → different tools;
- one called a tool where the other answered in text → text vs tool;
- both answered in text → both text, with a similarity in [0, 1]: difflib's ratio over
  the two texts' words (the first ``SIMILARITY_MAX_WORDS`` of each);
- a side that failed or whose answer cannot be read → not compared.
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass
from typing import Any

import orjson

from replay.report_model import Verdict

SIMILARITY_MAX_WORDS = 2_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """A turn's answer: its tool calls ``(name, arguments as parsed JSON or text)`` and
    its text (the message parts joined)."""

    tool_calls: tuple[tuple[str, Any], ...] = ()
    text: str = ""


def read_answer(response: bytes | None) -> Answer | None:
    """The answer in a stored response, or ``None`` if it is not one we can read."""
    if not response:
        return None
    try:
        document = orjson.loads(response)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(document, dict):
        return None
    if isinstance(document.get("output"), list):
        return _responses_answer(document["output"])
    if document.get("type") == "message" and isinstance(document.get("content"), list):
        return _anthropic_answer(document["content"])
    choices = document.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        message = choices[0].get("message")
        if isinstance(message, dict):
            return _chat_answer(message)
    return None


def compare(original: Answer | None, replay: Answer | None) -> tuple[Verdict, float | None]:
    """The verdict, and the text similarity when both answered in text."""
    if original is None or replay is None:
        return Verdict.NOT_COMPARED, None
    if original.tool_calls and replay.tool_calls:
        return _tools_verdict(original, replay), None
    if original.tool_calls or replay.tool_calls:
        return Verdict.TEXT_VS_TOOL, None
    return Verdict.BOTH_TEXT, text_similarity(original.text, replay.text)


def text_similarity(first: str, second: str) -> float:
    a = first.split()[:SIMILARITY_MAX_WORDS]
    b = second.split()[:SIMILARITY_MAX_WORDS]
    if not a and not b:
        return 1.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _tools_verdict(original: Answer, replay: Answer) -> Verdict:
    names = Counter(name for name, _ in original.tool_calls)
    if names != Counter(name for name, _ in replay.tool_calls):
        return Verdict.DIFFERENT_TOOLS
    if _calls(original) == _calls(replay):
        return Verdict.SAME_TOOLS_SAME_ARGS
    return Verdict.SAME_TOOLS_DIFFERENT_ARGS


def _calls(answer: Answer) -> Counter[tuple[str, bytes]]:
    return Counter(
        (name, orjson.dumps(arguments, option=orjson.OPT_SORT_KEYS))
        for name, arguments in answer.tool_calls
    )


def _arguments(raw: object) -> Any:
    """Arguments as parsed JSON; text that is not JSON stays text."""
    if not isinstance(raw, str):
        return raw
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw


def _responses_answer(output: list[Any]) -> Answer:
    calls: list[tuple[str, Any]] = []
    texts: list[str] = []
    for item in output:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "function_call":
            calls.append((str(item.get("name")), _arguments(item.get("arguments"))))
        elif kind == "custom_tool_call":
            calls.append((str(item.get("name")), item.get("input")))
        elif kind == "local_shell_call":
            calls.append(("local_shell", item.get("action")))
        elif kind == "message":
            texts.extend(_parts_text(item.get("content")))
    return Answer(tool_calls=tuple(calls), text="\n".join(texts))


def _anthropic_answer(content: list[Any]) -> Answer:
    calls = [
        (str(block.get("name")), block.get("input"))
        for block in content
        if isinstance(block, dict) and block.get("type") == "tool_use"
    ]
    return Answer(tool_calls=tuple(calls), text="\n".join(_parts_text(content)))


def _chat_answer(message: dict[str, Any]) -> Answer:
    calls: list[tuple[str, Any]] = []
    for call in message.get("tool_calls") or ():
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            calls.append((str(function.get("name")), _arguments(function.get("arguments"))))
    content = message.get("content")
    text = content if isinstance(content, str) else "\n".join(_parts_text(content))
    return Answer(tool_calls=tuple(calls), text=text)


def _parts_text(content: object) -> list[str]:
    if not isinstance(content, list):
        return []
    return [
        part["text"]
        for part in content
        if isinstance(part, dict) and isinstance(part.get("text"), str)
    ]


__all__ = ["SIMILARITY_MAX_WORDS", "Answer", "compare", "read_answer", "text_similarity"]
