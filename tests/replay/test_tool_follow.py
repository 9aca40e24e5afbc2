"""Tool follow-through: a call counts when the session's next turn carries its successful
result; failures, missing results and hostile bodies do not."""

from __future__ import annotations

import orjson

from replay.report_model import ModelKey
from replay.tool_follow import SessionTurn, succeeded, tool_follow_counts

GPT = ModelKey(provider="p", provider_type="openai", model="gpt-5.5")
CLAUDE = ModelKey(provider="a", provider_type="anthropic", model="claude")


def _response(*call_ids: str) -> bytes:
    items = [{"type": "function_call", "call_id": c, "name": "exec_command"} for c in call_ids]
    return orjson.dumps({"output": [{"type": "message", "content": []}, *items]})


def _body(**outputs: str) -> bytes:
    items = [
        {"type": "function_call_output", "call_id": c, "output": o} for c, o in outputs.items()
    ]
    return orjson.dumps({"input": [{"type": "message", "role": "user"}, *items]})


def _turn(session: str, model: ModelKey, body: bytes | None, response: bytes | None) -> SessionTurn:
    return SessionTurn(session_id=session, model=model, body=body, response=response)


def test_calls_followed_by_successful_results_per_model() -> None:
    turns = [
        _turn("s1", GPT, _body(), _response("c1", "c2", "c3")),
        _turn(
            "s1",
            CLAUDE,
            _body(
                c1="Chunk ID: 1\nProcess exited with code 0\nOutput:\nok",
                c2="Process exited with code 2\nOutput:\nno such file",
            ),  # c3 never answered
            _response("c4"),
        ),
        _turn("s2", GPT, _body(c4="Process exited with code 0"), _response("c5")),  # other session
        _turn("s2", GPT, b"not json", None),  # a hostile body: no results
    ]
    assert tool_follow_counts(turns) == {GPT: (4, 1), CLAUDE: (1, 0)}


def test_what_counts_as_success() -> None:
    assert succeeded("Process exited with code 0\nOutput:\nerror: in the output is fine")
    assert not succeeded("Exit code: 1\nWall time: 0.1 seconds")
    assert succeeded('{"output": "done", "metadata": {"exit_code": 0}}')
    assert not succeeded("aborted by user")
    assert not succeeded("apply_patch verification failed: no such hunk")
    assert succeeded("Success. Updated the following files:\nM a.py")
    assert succeeded([{"type": "input_text", "text": "Process exited with code 0"}])
    assert not succeeded(None) and not succeeded(5)
