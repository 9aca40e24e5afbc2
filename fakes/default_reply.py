"""What a fake answers when no turn is scripted: enough for Codex and the demo.

Rules, first match wins:

1. The conversation ends with a tool result → a text summarising it:
   ``"Done. The command printed: <output>"`` (for Codex's ``exec_command`` output,
   only the part after ``Output:`` is quoted).
2. The request offers a tool named ``exec_command`` (Codex) or ``Bash`` (Claude Code)
   and the last user text contains ``run: <shell command>`` (up to the end of that
   line) → a function call to ``exec_command`` with arguments ``{"cmd": "<shell
   command>"}``, or to ``Bash`` with ``{"command": "<shell command>"}``.
3. Otherwise → a short text echoing the first line of the last user text.

Each wire module reads its own request format into a ``Conversation``; the rules
here are format-neutral.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from fakes.script import FunctionCall, Reply, Text

RUN_PATTERN = re.compile(r"\brun:[ \t]*(\S[^\r\n]*)")
EXEC_TOOL = "exec_command"
BASH_TOOL = "Bash"
QUOTE_LIMIT = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class Conversation:
    """The parts of a request the default behaviour looks at."""

    last_user_text: str
    last_tool_output: str | None
    tool_names: frozenset[str]


def default_reply(conversation: Conversation) -> Reply:
    """The reply of the rules in the module docstring (usage left to the formula)."""
    if conversation.last_tool_output is not None:
        return Reply(items=(Text(text=_summarise(conversation.last_tool_output)),))
    command = _requested_command(conversation.last_user_text)
    if command is not None and EXEC_TOOL in conversation.tool_names:
        arguments = json.dumps({"cmd": command})
        return Reply(items=(FunctionCall(name=EXEC_TOOL, arguments=arguments),))
    if command is not None and BASH_TOOL in conversation.tool_names:
        arguments = json.dumps({"command": command})
        return Reply(items=(FunctionCall(name=BASH_TOOL, arguments=arguments),))
    return Reply(items=(Text(text=_echo(conversation.last_user_text)),))


def _requested_command(user_text: str) -> str | None:
    found = RUN_PATTERN.search(user_text)
    return None if found is None else found.group(1).strip()


def _summarise(tool_output: str) -> str:
    _, marker, after = tool_output.rpartition("Output:")
    printed = (after if marker else tool_output).strip()
    if not printed:
        return "Done. The command printed nothing."
    return f"Done. The command printed: {_clip(printed)}"


def _echo(user_text: str) -> str:
    lines = user_text.strip().splitlines()
    first = lines[0] if lines else ""
    return f"Hello from the fake provider. You said: {_clip(first)}"


def _clip(text: str) -> str:
    return text if len(text) <= QUOTE_LIMIT else text[:QUOTE_LIMIT] + "…"
