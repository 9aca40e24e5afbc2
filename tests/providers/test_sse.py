"""The SSE parser: every framing the spec allows, and the fast path for the common shape."""

from __future__ import annotations

import orjson
import pytest

from providers.passthrough import ResponsesPassthrough
from providers.sse import SseEvent, SseParser, common_block_name

STREAM_CASES = [
    # (bytes as sent, [(event, data)] expected)
    (b'event: response.created\ndata: {"a":1}\n\n', [("response.created", '{"a":1}')]),
    (b"data: [DONE]\n\n", [(None, "[DONE]")]),
    (b"data: one\ndata: two\n\n", [(None, "one\ntwo")]),
    (b"event: only-a-name\n\n", [("only-a-name", "")]),
    (b": ping\n\n", []),
    (b"event:tight\ndata:tight\n\n", [("tight", "tight")]),
    (b"event: padded \ndata:  two spaces\n\n", [("padded", " two spaces")]),
    (b"data: \n\n", [(None, "")]),
    (b"id: 3\ndata: z\n\n", [(None, "z")]),
    (b"event: a\nid: 1\ndata: z\n\n", [("a", "z")]),
    (b"data: a: b: c\n\n", [(None, "a: b: c")]),
    (b"event: crlf\r\ndata: x\r\n\r\n", [("crlf", "x")]),
    (b"event: cr\rdata: x\r\r", [("cr", "x")]),
    (b"event: \xff\ndata: caf\xc3\xa9 \xe2\x82\n\n", [("\ufffd", "caf\u00e9 \ufffd")]),
    (b"data: 1\n\ndata: 2\n\nevent: e\ndata: 3\n\n", [(None, "1"), (None, "2"), ("e", "3")]),
]


@pytest.mark.parametrize(("sent", "expected"), STREAM_CASES)
def test_events_parse_whole_and_byte_by_byte(
    sent: bytes, expected: list[tuple[str | None, str]]
) -> None:
    whole = SseParser().feed(sent)
    assert [(event.event, event.data) for event in whole] == expected
    parser = SseParser()
    trickled: list[SseEvent] = []
    for index in range(len(sent)):
        trickled.extend(parser.feed(sent[index : index + 1]))
    assert [(event.event, event.data) for event in trickled] == expected


def test_raw_bytes_are_kept_for_passthrough() -> None:
    sent = b'event: response.output_text.delta\ndata: {"delta":"hi"}\n\n: ping\n\n'
    (event,) = SseParser().feed(sent)
    assert event.raw == b'event: response.output_text.delta\ndata: {"delta":"hi"}\n\n'


def test_an_unterminated_event_stays_pending() -> None:
    parser = SseParser()
    assert parser.feed(b"data: complete\n\ndata: cut") == [
        SseEvent(event=None, data="complete", raw=b"data: complete\n\n")
    ]
    assert parser.pending() == b"data: cut"


@pytest.mark.parametrize(
    ("block", "name"),
    [
        (b'event: response.output_text.delta\ndata: {"d":1}\n\n', b"response.output_text.delta"),
        (b"event: padded \ndata: x\n\n", b"padded"),
        (b"data: x\n\n", None),
        (b"event: two\ndata: a\ndata: b\n\n", None),
        (b"event: only-a-name\n\n", None),
        (b": ping\n\n", None),
        (b"event: a\nid: 1\ndata: z\n\n", None),
    ],
)
def test_the_common_shape_is_named_without_decoding(block: bytes, name: bytes | None) -> None:
    assert common_block_name(block) == name


@pytest.mark.parametrize(("sent", "expected"), STREAM_CASES)
def test_the_responses_passthrough_forwards_exactly_the_events(
    sent: bytes, expected: list[tuple[str | None, str]]
) -> None:
    whole = _passthrough().feed(sent)
    one_by_one = _passthrough()
    pieces = b"".join(one_by_one.feed(sent[i : i + 1]) for i in range(len(sent)))
    raw = b"".join(event.raw for event in SseParser().feed(sent))
    assert whole == pieces == raw
    assert len(SseParser().feed(whole)) == len(expected)


def test_the_passthrough_reads_a_terminal_event_whatever_its_spacing() -> None:
    completed = {"type": "response.completed", "response": {"id": "r", "usage": USAGE}}
    stream = (
        b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta"}\n\n'
        b": keep-alive\n\n"
        b"event: response.completed \ndata: " + orjson.dumps(completed) + b"\n\n"
    )
    exchange = _passthrough()
    out = exchange.feed(stream)
    assert b"keep-alive" not in out and out.count(b"event: ") == 2
    assert exchange.finish() == b""  # the terminal event was seen: nothing to add
    outcome = exchange.outcome()
    assert outcome.usage is not None and outcome.usage.output_tokens == 7


USAGE = {"input_tokens": 5, "output_tokens": 7}


def _passthrough() -> ResponsesPassthrough:
    body = {"model": "gpt-5", "stream": True, "input": "hi"}
    return ResponsesPassthrough(body, model="gpt-5", api_key="sk-test", path="/v1/responses")
