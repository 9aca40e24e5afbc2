"""Which finished answers may be cached, and a cached one replayed through the encoders."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from providers.client_formats.cached_answer import answer_usage, replay_answer, storable_answer


def _responses(*output: dict[str, Any], **extra: Any) -> bytes:
    body = {
        "id": "resp_1",
        "status": "completed",
        "error": None,
        "incomplete_details": None,
        "output": list(output),
        "usage": {"input_tokens": 7, "output_tokens": 3},
        **extra,
    }
    return orjson.dumps(body)


def _message(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"type": "message", "status": "completed", "role": "assistant", "content": list(parts)}


TEXT = {"type": "output_text", "text": "hello"}


def test_a_complete_text_answer_is_kept_and_replayed_with_fresh_ids() -> None:
    answer = storable_answer("responses", _responses(_message(TEXT)))
    assert answer is not None
    assert answer_usage(answer).input_tokens == 7
    body = orjson.loads(
        replay_answer(
            answer,
            client_format="responses",
            streaming=False,
            response_id="resp_new",
            model="m",
            created_at=1,
        )
    )
    assert body["id"] == "resp_new" and body["status"] == "completed"
    assert body["output"][0]["content"][0]["text"] == "hello"
    assert body["usage"]["input_tokens"] == 7


@pytest.mark.parametrize(
    "response",
    [
        _responses(_message(TEXT), status="incomplete"),
        _responses(_message(TEXT), status="failed", error={"code": "x"}),
        _responses(_message({"type": "refusal", "refusal": "no"})),
        _responses({"type": "web_search_call", "id": "ws_1"}),
        _responses(
            {"type": "function_call", "status": "in_progress", "name": "f", "arguments": ""}
        ),
        b"not json",
        b"[1, 2]",
        orjson.dumps({"choices": [{"finish_reason": "length", "message": {"content": "x"}}]}),
        orjson.dumps(
            {"choices": [{"finish_reason": "content_filter", "message": {"content": ""}}]}
        ),
        orjson.dumps({"choices": [{"finish_reason": "stop", "message": {"refusal": "no"}}]}),
        orjson.dumps({"choices": []}),
    ],
    ids=[
        "incomplete",
        "failed",
        "refusal",
        "unknown-item",
        "call-in-progress",
        "not-json",
        "not-object",
        "chat-length",
        "chat-filter",
        "chat-refusal",
        "chat-no-choice",
    ],
)
def test_what_is_never_kept(response: bytes) -> None:
    fmt = "chat" if b"choices" in response else "responses"
    assert storable_answer(fmt, response) is None


def test_a_chat_answer_with_a_tool_call_replays_as_a_stream() -> None:
    body = {
        "choices": [
            {
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_old",
                            "type": "function",
                            "function": {"name": "ls", "arguments": "{}"},
                        }
                    ],
                },
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2},
    }
    answer = storable_answer("chat", orjson.dumps(body))
    assert answer is not None
    stream = replay_answer(
        answer,
        client_format="chat",
        streaming=True,
        response_id="chatcmpl-new",
        model="m",
        created_at=1,
        include_usage=True,
    )
    lines = [line for line in stream.decode().splitlines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [orjson.loads(line[6:]) for line in lines[:-1]]
    call = chunks[1]["choices"][0]["delta"]["tool_calls"][0]
    assert call["id"] != "call_old" and call["function"]["name"] == "ls"
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["usage"]["prompt_tokens"] == 5
