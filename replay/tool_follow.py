"""How often a model's tool call was followed by a successful tool result (Codex sessions).

A turn's response lists the calls the model made (``function_call`` and
``custom_tool_call`` items, each with a ``call_id``). Codex runs them and sends their
results in the session's next turn (``function_call_output`` / ``custom_tool_call_output``
with the same ``call_id``). A call counts as *followed* when the next turn carries its
result and the result does not say it failed: an exit code other than 0 (``Process
exited with code 1``, ``Exit code: 2``, ``"exit_code": 1``) or a result that opens with
a refusal or an error (``error``, ``failed``, ``aborted``, ``rejected``…). Bodies are
hostile input: anything that is not the expected shape counts as no call, no result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from replay.report_model import ModelKey

_CALLS = frozenset({"function_call", "custom_tool_call"})
_RESULTS = frozenset({"function_call_output", "custom_tool_call_output"})
_EXIT = re.compile(r'(?:exited with code|exit code:?|"exit_code"\s*:)\s*(-?\d+)', re.IGNORECASE)
_FAILED = re.compile(
    r"^\W*(error|failed|failure|aborted|rejected|denied|execution error|exec error|"
    r"apply_patch verification failed|invalid)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionTurn:
    session_id: str
    model: ModelKey
    body: bytes | None
    response: bytes | None


def tool_follow_counts(turns: Iterable[SessionTurn]) -> dict[ModelKey, tuple[int, int]]:
    """Per serving model: (tool calls made, calls followed by a successful result).
    ``turns`` come in session order, oldest first within a session."""
    counts: dict[ModelKey, list[int]] = {}
    previous: SessionTurn | None = None
    pending: list[str] = []
    for turn in turns:
        if previous is not None and previous.session_id == turn.session_id and pending:
            results = _results(turn.body)
            tally = counts.setdefault(previous.model, [0, 0])
            tally[1] += sum(1 for call in pending if results.get(call) is True)
        pending = _calls(turn.response)
        if pending:
            counts.setdefault(turn.model, [0, 0])[0] += len(pending)
        previous = turn
    return {model: (made, followed) for model, (made, followed) in counts.items()}


def _load(document: bytes | None) -> dict[str, Any] | None:
    if not document:
        return None
    try:
        loaded = orjson.loads(document)
    except orjson.JSONDecodeError:
        return None
    return loaded if isinstance(loaded, dict) else None


def _items(document: dict[str, Any] | None, field: str) -> list[dict[str, Any]]:
    found = None if document is None else document.get(field)
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def _calls(response: bytes | None) -> list[str]:
    return [
        item["call_id"]
        for item in _items(_load(response), "output")
        if item.get("type") in _CALLS and isinstance(item.get("call_id"), str)
    ]


def _results(body: bytes | None) -> dict[str, bool]:
    """Each result's ``call_id`` and whether it reports success."""
    return {
        item["call_id"]: succeeded(item.get("output"))
        for item in _items(_load(body), "input")
        if item.get("type") in _RESULTS and isinstance(item.get("call_id"), str)
    }


def succeeded(output: object) -> bool:
    """Whether a tool result's output reports success (see the module docstring)."""
    if isinstance(output, list):  # content parts: their texts
        output = " ".join(str(p.get("text", "")) for p in output if isinstance(p, dict))
    if isinstance(output, dict):
        output = orjson.dumps(output).decode()
    if not isinstance(output, str):
        return False
    code = _EXIT.search(output[:4096])
    if code is not None:
        return code.group(1) == "0"
    return _FAILED.search(output[:200]) is None


__all__ = ["SessionTurn", "succeeded", "tool_follow_counts"]
