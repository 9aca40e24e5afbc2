"""A passthrough Responses stream that fails midway ends as the response it began."""

from __future__ import annotations

import orjson
import pytest

from messages.errors import ErrorInfo, ErrorKind
from providers.exchanges.responses_passthrough import ResponsesPassthrough
from tests.schema.openai_schema import stream_event_problems

CREATED = {
    "id": "resp_upstream123",
    "object": "response",
    "created_at": 1765552659,
    "status": "in_progress",
    "error": None,
    "incomplete_details": None,
    "instructions": None,
    "model": "gpt-5.5-2026-01-01",
    "output": [],
    "parallel_tool_calls": True,
    "tool_choice": "auto",
    "tools": [],
    "temperature": 1.0,
    "top_p": 1.0,
    "metadata": {},
    "usage": None,
}
ITEM = {
    "id": "msg_1",
    "type": "message",
    "status": "completed",
    "role": "assistant",
    "content": [{"type": "output_text", "text": "hi", "annotations": [], "logprobs": []}],
}
CUT = ErrorInfo(kind=ErrorKind.PROTOCOL, status=502, message="upstream stream ended early")


def _event(kind: str, named: bool, **fields: object) -> bytes:
    data = orjson.dumps({"type": kind, **fields})
    return (b"event: " + kind.encode() + b"\n" if named else b"") + b"data: " + data + b"\n\n"


def _events(data: bytes) -> list[dict[str, object]]:
    return [orjson.loads(line[6:]) for line in data.split(b"\n") if line.startswith(b"data: ")]


@pytest.mark.parametrize("named", [True, False], ids=["event-lines", "data-only"])
def test_a_cut_stream_fails_with_its_own_id_model_and_items(named: bool) -> None:
    exchange = ResponsesPassthrough(
        {"model": "gpt-5.5", "stream": True},
        model="gpt-5.5",
        api_key="k",
        path="/responses",
        request_id="req_abc",
    )
    exchange.feed(_event("response.created", named, sequence_number=0, response=CREATED))
    exchange.feed(
        _event("response.output_item.done", named, sequence_number=1, output_index=0, item=ITEM)
    )
    error_event, failed_event = _events(exchange.fail(CUT))
    failed = failed_event["response"]
    assert isinstance(failed, dict)
    assert (failed["id"], failed["created_at"], failed["model"]) == (
        "resp_upstream123",
        1765552659,
        "gpt-5.5-2026-01-01",
    )
    assert failed["status"] == "failed" and failed["output"] == [ITEM]
    assert failed["error"] == {"code": "server_error", "message": error_event["message"]}
    assert "usage" not in failed  # a null usage is not in the schema
    assert (error_event["sequence_number"], failed_event["sequence_number"]) == (2, 3)
    assert stream_event_problems(error_event) == stream_event_problems(failed_event) == []
    assert orjson.loads(exchange.outcome().response) == failed  # the trail gets the same


def test_a_stream_cut_before_response_created_is_named_after_the_request() -> None:
    exchange = ResponsesPassthrough(
        {"model": "gpt-5.5", "stream": True},
        model="gpt-5.5",
        api_key="k",
        path="/responses",
        request_id="req_abc",
    )
    _, failed_event = _events(exchange.finish())
    failed = failed_event["response"]
    assert isinstance(failed, dict)
    assert (failed["id"], failed["model"], failed["output"]) == ("resp_abc", "gpt-5.5", [])
    assert stream_event_problems(failed_event) == []
