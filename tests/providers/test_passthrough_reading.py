"""The passthroughs read each event's data in place (bytes, not text): every event is
still checked as before — JSON object, UTF-8 — and the outcome they report stays right
when asked several times and after a late failure."""

from __future__ import annotations

import pytest

from messages.errors import ErrorInfo, ErrorKind
from providers.exchanges.chat_passthrough import ChatPassthrough
from providers.exchanges.responses_passthrough import ResponsesPassthrough
from providers.garbage import ProviderGarbage

CHAT_BODY = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
RESPONSES_BODY = {"model": "m", "stream": True, "input": "hi"}


def chat() -> ChatPassthrough:
    return ChatPassthrough(CHAT_BODY, model="m", api_key="k", path="/v1/chat/completions")


def responses() -> ResponsesPassthrough:
    return ResponsesPassthrough(RESPONSES_BODY, model="m", api_key="k", path="/v1/responses")


def chunk(text: str) -> bytes:
    return (
        b'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"'
        + text.encode()
        + b'"}}]}\n\n'
    )


@pytest.mark.parametrize(
    "event",
    [
        b"data: [1,2]\n\n",  # not an object
        b'data: {"a":\n\n',  # not JSON
        b'data: {"a":"\xff"}\n\n',  # not UTF-8
        b'event: x\ndata: {"a":"\xff"}\n\n',  # the same with an event name (the other path)
    ],
    ids=["array", "cut", "not-utf8", "named-not-utf8"],
)
def test_a_chat_chunk_that_is_not_a_json_object_is_garbage(event: bytes) -> None:
    with pytest.raises(ProviderGarbage):
        chat().feed(event)


def test_a_chat_stream_is_forwarded_byte_for_byte_and_gathered() -> None:
    exchange = chat()
    stream = chunk("Hel") + b": keep-alive\n\n" + chunk("lo") + b"data: [DONE]\n\n"
    out = exchange.feed(stream)
    assert out == chunk("Hel") + chunk("lo") + b"data: [DONE]\n\n"  # the comment is dropped
    assert exchange.finish() == b""
    assert b'"content":"Hello"' in exchange.outcome().response


def test_after_done_a_chunk_must_still_be_text() -> None:
    exchange = chat()
    exchange.feed(b"data: [DONE]\n\n")
    assert exchange.feed(b"data: anything\n\n") == b"data: anything\n\n"
    with pytest.raises(ProviderGarbage, match="not UTF-8"):
        exchange.feed(b"data: \xff\n\n")


def test_the_chat_outcome_follows_the_stream_whenever_it_is_asked() -> None:
    exchange = chat()
    exchange.feed(chunk("a"))
    first = exchange.outcome()
    assert exchange.outcome() is first  # asked again, nothing changed: the same
    exchange.feed(chunk("b"))
    assert b'"content":"ab"' in exchange.outcome().response
    error = ErrorInfo(kind=ErrorKind.TIMEOUT, status=504, message="no data")
    exchange.fail(error)
    assert exchange.outcome().failure == error


@pytest.mark.parametrize(
    "event",
    [
        b"event: response.output_text.delta\ndata: [1]\n\n",
        b"event: response.output_text.delta\ndata: [DONE]\n\n",
        b'event: response.output_text.delta\ndata: {"a":\n\n',
        b'event: response.output_text.delta\ndata: {"a":"\xff"}\n\n',
        b"event: response.completed\ndata: 5\n\n",
        b"event: error\ndata: {\n\n",
    ],
    ids=["array", "done-in-a-delta", "cut", "not-utf8", "terminal-number", "error-cut"],
)
def test_a_responses_event_that_is_not_a_json_object_is_garbage(event: bytes) -> None:
    with pytest.raises(ProviderGarbage):
        responses().feed(event)


def test_a_terminal_event_read_in_place_gives_the_response_and_usage() -> None:
    exchange = responses()
    completed = (
        b'event: response.completed\ndata: {"type":"response.completed","response":'
        b'{"id":"r","output":[],"usage":{"input_tokens":3,"output_tokens":4}}}\n\n'
    )
    created = (
        b'event: response.created\ndata: {"type":"response.created","response":{"id":"r"}}\n\n'
    )
    done = b"event: response.completed\ndata: [DONE]\n\n"  # some servers end so: let through
    assert exchange.feed(created + completed + done) == created + completed + done
    assert exchange.finish() == b""
    outcome = exchange.outcome()
    assert (
        outcome.response == b'{"id":"r","output":[],"usage":{"input_tokens":3,"output_tokens":4}}'
    )
    assert outcome.usage is not None and outcome.usage.output_tokens == 4
