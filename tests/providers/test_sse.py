"""The SSE parser: every framing the spec allows, and the fast path for the common shape."""

from __future__ import annotations

import orjson
import pytest

from providers.exchanges.responses_passthrough import ResponsesPassthrough
from providers.garbage import ProviderGarbage
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
    (
        b"event: caf\xc3\xa9\ndata: caf\xc3\xa9 \xe2\x82\xac\n\n",
        [("caf\u00e9", "caf\u00e9 \u20ac")],
    ),
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


@pytest.mark.parametrize(
    "sent",
    [
        b"event: \xff\ndata: x\n\n",
        b"data: caf\xc3\xa9 \xe2\x82\n\n",
        b'event: a\ndata: {"t": "\xc3"}\n\n',
    ],
)
def test_invalid_utf8_is_garbage(sent: bytes) -> None:
    with pytest.raises(ProviderGarbage, match="UTF-8"):
        SseParser().feed(sent)


def test_an_event_over_the_cap_is_garbage_however_it_arrives() -> None:
    parser = SseParser(max_event_bytes=1000)
    assert parser.feed(b"data: " + b"x" * 990 + b"\n\n") != []  # at the cap: fine
    for _ in range(99):
        assert parser.feed(b"y" * 10) == []
    with pytest.raises(ProviderGarbage, match="over 1000 bytes"):
        parser.feed(b"z" * 11)
    with pytest.raises(ProviderGarbage, match="over 1000 bytes"):
        SseParser(max_event_bytes=1000).feed(b"data: " + b"x" * 1000 + b"\n\n")


def test_a_large_event_in_many_pieces_comes_out_whole() -> None:
    data = b"".join(b"%06d" % n for n in range(20_000))  # 120 kB, no blank line in it
    sent = b"event: big\ndata: " + data + b"\n\nevent: next\ndata: 1\n\n"
    parser = SseParser()
    events: list[SseEvent] = []
    for start in range(0, len(sent), 997):
        events.extend(parser.feed(sent[start : start + 997]))
    assert [(e.event, e.data) for e in events] == [("big", data.decode()), ("next", "1")]
    assert parser.pending() == b""


PASSTHROUGH_CASES = [
    (b'event: response.created\ndata: {"a":1}\n\n', 1),
    (b'data: {"b": 2}\n\n', 1),
    (b"data: [DONE]\n\n", 1),  # forwarded as it came, as some compatible servers send it
    (b'data: {"one":\ndata: 1}\n\n', 1),
    (b": ping\n\n", 0),
    (b'event:tight\ndata:{"t":1}\n\n', 1),
    (b'event: padded \ndata:  {"s": " two"}\n\n', 1),
    (b'id: 3\ndata: {"z":0}\n\n', 1),
    (b'event: crlf\r\ndata: {"x":1}\r\n\r\n', 1),
    (b'event: cr\rdata: {"x":1}\r\r', 1),
    (b'event: e\ndata: {"t": "caf\xc3\xa9"}\n\n', 1),
    (b'data: {"n":1}\n\ndata: {"n":2}\n\nevent: e\ndata: {"n":3}\n\n', 3),
]


@pytest.mark.parametrize(("sent", "count"), PASSTHROUGH_CASES)
def test_the_responses_passthrough_forwards_exactly_the_events(sent: bytes, count: int) -> None:
    whole = _passthrough().feed(sent)
    one_by_one = _passthrough()
    pieces = b"".join(one_by_one.feed(sent[i : i + 1]) for i in range(len(sent)))
    raw = b"".join(event.raw for event in SseParser().feed(sent))
    assert whole == pieces == raw
    assert len(SseParser().feed(whole)) == count


@pytest.mark.parametrize(
    "sent",
    [
        b"data: done\n\n",  # not JSON
        b'event: response.output_text.delta\ndata: {"delta": "cut\n\n',  # truncated
        b"event: response.output_text.delta\ndata: [1, 2]\n\n",  # not an object
        b'event: response.output_text.delta\ndata: {"t": "\xff"}\n\n',  # not UTF-8
        b'event: response.completed\ndata: {"type": "response.completed", "response": 5}\n\n',
    ],
)
def test_the_responses_passthrough_refuses_garbage(sent: bytes) -> None:
    with pytest.raises(ProviderGarbage):
        _passthrough().feed(sent)


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
