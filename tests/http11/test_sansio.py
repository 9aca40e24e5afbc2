"""The strict HTTP/1.1 framing of ``http11.sansio`` (head, body): rules, then h11 parity.

Unit tests pin each rule; the differential tests generate valid requests and
responses (random methods, targets, fields, bodies, chunk splits and read
boundaries) and check that we and h11 read the same messages, then apply
smuggling mutations and check that we reject everything h11 rejects and never
read a message differently from h11. Where we are stricter, ``STRICTER`` says so.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import h11
import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from http11.sansio.body import BodyReader, BodyTooLarge
from http11.sansio.head import (
    MAX_HEAD_BYTES,
    MAX_HEADERS,
    ProtocolError,
    encode_request_head,
    find_head_end,
    parse_request_head,
    parse_response_head,
)
from http11.server import HttpRequest, HttpServer, ResponseWriter

DIFFERENTIAL = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def request(head: bytes) -> bytes:
    return b"POST /v1/chat?x=1 HTTP/1.1\r\nHost: gw\r\n" + head + b"\r\n"


def parse(wire: bytes) -> tuple[str, str, tuple[tuple[str, str], ...], bytes, bool]:
    """One request read whole from ``wire`` (head, then body) by our parser."""
    buffer = bytearray(wire)
    end = find_head_end(buffer)
    assert end > 0, "incomplete head"
    head = parse_request_head(buffer[:end])
    del buffer[:end]
    reader = BodyReader(content_length=head.content_length, chunked=head.chunked)
    parts = []
    while (piece := reader.read(buffer)) != b"":
        assert piece is not None, "incomplete body"
        parts.append(piece)
    return head.method, head.target, head.headers, b"".join(parts), head.keep_alive


def rejected(wire: bytes) -> int:
    """The status our parser rejects ``wire`` with (it must reject it)."""
    with pytest.raises(ProtocolError) as caught:
        parse(wire)
    return caught.value.status


# --- request heads --------------------------------------------------------------------------


def test_request_head_fields_are_lowercased_stripped_and_in_order() -> None:
    method, target, headers, body, keep_alive = parse(
        request(b"X-Trace:  t1 \t\r\nx-trace: t2\r\nAccept: \r\nContent-Length: 3\r\n") + b"abc"
    )
    assert (method, target, body, keep_alive) == ("POST", "/v1/chat?x=1", b"abc", True)
    assert headers == (
        ("host", "gw"),
        ("x-trace", "t1"),
        ("x-trace", "t2"),
        ("accept", ""),
        ("content-length", "3"),
    )


def test_obs_text_and_inner_tabs_in_values_are_kept() -> None:
    headers = parse(request(b"X-Name: caf\xe9 \tau\tlait\r\n"))[2]
    assert headers[1] == ("x-name", "caf\xe9 \tau\tlait")


def test_bare_lf_line_ends_are_accepted_as_h11_does() -> None:
    wire = b"GET / HTTP/1.1\nHost: gw\r\nX-A: 1\n\n"
    assert parse(wire)[2] == (("host", "gw"), ("x-a", "1"))


@pytest.mark.parametrize(
    ("version", "connection", "keep_alive"),
    [
        ("1.1", None, True),
        ("1.1", "close", False),
        ("1.1", "Keep-Alive, Close", False),
        ("1.1", "keep-alive", True),
        ("1.0", None, False),
        ("1.0", "keep-alive", True),
        ("1.0", "Keep-Alive", True),
        ("1.0", "keep-alive, close", False),
    ],
)
def test_keep_alive_rules(version: str, connection: str | None, keep_alive: bool) -> None:
    wire = f"GET / HTTP/{version}\r\nHost: gw\r\n"
    if connection is not None:
        wire += f"Connection: {connection}\r\n"
    assert parse(f"{wire}\r\n".encode())[4] is keep_alive


@pytest.mark.parametrize(
    ("version", "expect", "expected"),
    [
        ("1.1", "100-continue", True),
        ("1.1", "100-Continue", True),
        ("1.1", "foo, 100-continue", True),
        ("1.1", "200-ok", False),
        ("1.0", "100-continue", False),
    ],
)
def test_expect_100_continue(version: str, expect: str, expected: bool) -> None:
    wire = f"POST / HTTP/{version}\r\nHost: gw\r\nExpect: {expect}\r\nContent-Length: 1\r\n\r\n"
    buffer = wire.encode()
    assert parse_request_head(buffer[: find_head_end(buffer)]).expects_continue is expected


def test_http_1_0_needs_no_host_but_1_1_needs_exactly_one() -> None:
    assert parse(b"GET / HTTP/1.0\r\n\r\n")[2] == ()
    assert rejected(b"GET / HTTP/1.1\r\n\r\n") == 400
    assert rejected(request(b"Host: other\r\n")) == 400
    assert rejected(b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n") == 400


# Each is a whole request that must be answered 400.
SMUGGLING = {
    "content-length and transfer-encoding": request(
        b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"
    )
    + b"0\r\n\r\n",
    "transfer-encoding then content-length": request(
        b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"
    )
    + b"0\r\n\r\n",
    "two differing lengths": request(b"Content-Length: 5\r\nContent-Length: 6\r\n") + b"abcdef",
    "two equal lengths": request(b"Content-Length: 5\r\nContent-Length: 5\r\n") + b"abcde",
    "length list": request(b"Content-Length: 5, 5\r\n") + b"abcde",
    "length plus sign": request(b"Content-Length: +5\r\n") + b"abcde",
    "length minus sign": request(b"Content-Length: -1\r\n"),
    "length hex": request(b"Content-Length: 0x5\r\n") + b"abcde",
    "length underscore": request(b"Content-Length: 1_0\r\n") + b"0123456789",
    "length superscript digit": request(b"Content-Length: \xb2\r\n") + b"ab",
    "length empty": request(b"Content-Length: \r\n"),
    "length with inner space": request(b"Content-Length: 1 0\r\n") + b"0123456789",
    "length too many digits": request(b"Content-Length: " + b"0" * 20 + b"5\r\n") + b"abcde",
    "transfer-encoding gzip": request(b"Transfer-Encoding: gzip\r\n"),
    "transfer-encoding identity": request(b"Transfer-Encoding: identity\r\n"),
    "transfer-encoding chunked twice in a list": request(b"Transfer-Encoding: chunked, chunked\r\n")
    + b"0\r\n\r\n",
    "transfer-encoding gzip, chunked": request(b"Transfer-Encoding: gzip, chunked\r\n")
    + b"0\r\n\r\n",
    "transfer-encoding with parameter": request(b"Transfer-Encoding: chunked;q=1\r\n")
    + b"0\r\n\r\n",
    "transfer-encoding twice": request(
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"
    )
    + b"0\r\n\r\n",
    "transfer-encoding in HTTP/1.0": b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"0\r\n\r\n",
    "obs-fold with a space": request(b"X-A: 1\r\n folded\r\n"),
    "obs-fold with a tab": request(b"X-A: 1\r\n\tfolded\r\n"),
    "obs-fold hiding a length": request(b"X-A: 1\r\n Content-Length: 5\r\n") + b"abcde",
    "space before the colon": request(b"Content-Length : 5\r\n") + b"abcde",
    "tab before the colon": request(b"Transfer-Encoding\t: chunked\r\n") + b"0\r\n\r\n",
    "empty field name": request(b": x\r\n"),
    "line without a colon": request(b"X-A 1\r\n"),
    "bad name character": request(b"X-A(b): 1\r\n"),
    "non-ascii name": request(b"X-\xe9: 1\r\n"),
    "NUL in a value": request(b"X-A: a\x00b\r\n"),
    "SOH in a value": request(b"X-A: a\x01b\r\n"),
    "DEL in a value": request(b"X-A: a\x7fb\r\n"),
    "VT in a value": request(b"X-A: a\x0bb\r\n"),
    "bare CR in a value": request(b"X-A: a\rb\r\n"),
    "bare CR as line end": b"GET / HTTP/1.1\rHost: gw\r\r\n\r\n",
    "space in the target": b"GET /a b HTTP/1.1\r\nHost: gw\r\n\r\n",
    "control in the target": b"GET /a\x01b HTTP/1.1\r\nHost: gw\r\n\r\n",
    "obs-text in the target": b"GET /caf\xe9 HTTP/1.1\r\nHost: gw\r\n\r\n",
    "double space in the request line": b"GET  / HTTP/1.1\r\nHost: gw\r\n\r\n",
    "bad method character": b"GE(T / HTTP/1.1\r\nHost: gw\r\n\r\n",
    "HTTP/1.2": b"GET / HTTP/1.2\r\nHost: gw\r\n\r\n",
    "HTTP/2.0": b"GET / HTTP/2.0\r\nHost: gw\r\n\r\n",
    "HTTP/0.9": b"GET / HTTP/0.9\r\nHost: gw\r\n\r\n",
    "lower-case http": b"GET / http/1.1\r\nHost: gw\r\n\r\n",
    "no version": b"GET /\r\nHost: gw\r\n\r\n",
    "leading empty line": b"\r\nGET / HTTP/1.1\r\nHost: gw\r\n\r\n",
    "leading space": b" GET / HTTP/1.1\r\nHost: gw\r\n\r\n",
}


@pytest.mark.parametrize("wire", SMUGGLING.values(), ids=SMUGGLING.keys())
def test_smuggling_shapes_are_400(wire: bytes) -> None:
    assert rejected(wire) == 400


def test_chunked_is_case_insensitive_and_length_may_have_leading_zeros() -> None:
    assert parse(request(b"Transfer-Encoding: Chunked\r\n") + b"1\r\na\r\n0\r\n\r\n")[3] == b"a"
    assert parse(request(b"Content-Length: 007\r\n") + b"1234567")[3] == b"1234567"


# --- limits -------------------------------------------------------------------------------


def test_head_over_the_limit_is_431_even_when_it_arrives_in_many_reads() -> None:
    buffer = bytearray(b"GET / HTTP/1.1\r\nHost: gw\r\nX-Big: ")
    searched = 0
    with pytest.raises(ProtocolError) as caught:  # noqa: PT012  (the loop is the point)
        while True:
            assert find_head_end(buffer, searched) == -1
            searched = len(buffer)
            buffer += b"a" * 1000
    assert caught.value.status == 431
    assert MAX_HEAD_BYTES <= len(buffer) < MAX_HEAD_BYTES + 1000


def test_head_over_the_limit_is_431_even_when_complete_in_one_read() -> None:
    wire = request(b"X-Big: " + b"a" * MAX_HEAD_BYTES + b"\r\n")
    assert rejected(wire) == 431
    fits = request(b"X-Big: " + b"a" * (MAX_HEAD_BYTES - 100) + b"\r\n")
    assert len(parse(fits)[2][1][1]) == MAX_HEAD_BYTES - 100


def test_head_end_split_across_reads_is_found() -> None:
    wire = b"GET / HTTP/1.1\r\nHost: gw\r\n\r\n"
    for cut in range(1, len(wire)):
        buffer = bytearray(wire[:cut])
        assert find_head_end(buffer) == -1
        searched = len(buffer)
        buffer += wire[cut:]
        assert find_head_end(buffer, searched) == len(wire)


def test_more_than_max_headers_is_431() -> None:
    lines = b"".join(b"X-%d: v\r\n" % n for n in range(MAX_HEADERS - 1))
    assert len(parse(request(lines))[2]) == MAX_HEADERS
    assert rejected(request(lines + b"X-Last: v\r\n")) == 431


def test_body_limits_apply_to_announced_and_received_sizes() -> None:
    with pytest.raises(BodyTooLarge):
        BodyReader(content_length=11, chunked=False, max_bytes=10)
    chunked = BodyReader(content_length=None, chunked=True, max_bytes=10)
    buffer = bytearray(b"5\r\nabcde\r\n6\r\n")
    assert chunked.read(buffer) == b"abcde"
    with pytest.raises(BodyTooLarge):
        chunked.read(buffer)  # announced: 11 > 10, before any of it arrives
    until_close = BodyReader(content_length=None, chunked=False, max_bytes=3)
    with pytest.raises(BodyTooLarge):
        until_close.read(bytearray(b"abcd"))


# --- chunked bodies ---------------------------------------------------------------------------


def chunked(body: bytes) -> bytes:
    return request(b"Transfer-Encoding: chunked\r\n") + body


def test_chunk_extensions_are_ignored_and_trailers_dropped() -> None:
    wire = chunked(b"3;name=value\r\nabc\r\n4 \r\ndefg\r\n0;last\r\nX-Sum: 1\r\nX-B: 2\r\n\r\n")
    assert parse(wire)[3] == b"abcdefg"


def test_chunked_body_pieces_arrive_as_the_bytes_do() -> None:
    reader = BodyReader(content_length=None, chunked=True)
    buffer = bytearray()
    pieces: list[bytes | None] = []
    for byte in b"a\r\n0123456789\r\n0\r\n\r\nNEXT":
        buffer.append(byte)
        pieces.append(reader.read(buffer))
    assert b"".join(piece for piece in pieces if piece) == b"0123456789"
    assert pieces[-5] == b"" and reader.done
    assert buffer == b"NEXT"  # what follows the body stays for the next message


@pytest.mark.parametrize(
    "body",
    [
        b"g\r\n",
        b"-1\r\n",
        b"+1\r\na\r\n0\r\n\r\n",
        b"0x1\r\na\r\n0\r\n\r\n",
        b" 1\r\na\r\n0\r\n\r\n",
        b"1 ;x\r\na\r\n0\r\n\r\n",
        b"\r\n",
        b"1" + b"0" * 16 + b"\r\n",
        b"00000000000000001\r\na\r\n0\r\n\r\n",
        b"1;a\x00b\r\na\r\n0\r\n\r\n",
        b"1\r\nab\r\n0\r\n\r\n",
        b"1\r\naXY0\r\n\r\n",
        b"0\r\n folded: trailer\r\n\r\n",
        b"0\r\nContent-Length: 5\r\n\r\n",
        b"0\r\nX-A : 1\r\n\r\n",
        b"0\r\nX-A: \x01\r\n\r\n",
    ],
)
def test_invalid_chunk_framing_is_400(body: bytes) -> None:
    assert rejected(chunked(body)) == 400


def test_sixteen_hex_digits_is_the_largest_chunk_size() -> None:
    reader = BodyReader(content_length=None, chunked=True)
    assert reader.read(bytearray(b"ffffffffffffffff\r\nab")) == b"ab"


def test_chunk_size_line_without_end_is_bounded() -> None:
    reader = BodyReader(content_length=None, chunked=True)
    assert reader.read(bytearray(b"1;" + b"x" * 4000)) is None
    with pytest.raises(ProtocolError):
        reader.read(bytearray(b"1;" + b"x" * 5000))


def test_eof_ends_only_a_read_until_close_body() -> None:
    until_close = BodyReader(content_length=None, chunked=False)
    assert until_close.read(bytearray(b"abc")) == b"abc"
    assert until_close.read(bytearray()) is None
    until_close.read_eof()
    assert until_close.read(bytearray()) == b""
    for reader in (
        BodyReader(content_length=5, chunked=False),
        BodyReader(content_length=None, chunked=True),
    ):
        assert reader.read(bytearray()) is None
        with pytest.raises(ProtocolError):
            reader.read_eof()


# --- response heads ---------------------------------------------------------------------------


def response_head(wire: bytes, *, head_request: bool = False) -> tuple[int, int | None, bool, bool]:
    """(status, content_length, chunked, keep_alive) of a response head."""
    head = parse_response_head(wire[: find_head_end(wire)], head_request=head_request)
    return head.status, head.content_length, head.chunked, head.keep_alive


@pytest.mark.parametrize(
    ("wire", "head_request", "expected"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", False, (200, 12, False, True)),
        (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n", False, (200, None, True, True)),
        (b"HTTP/1.1 200 OK\r\n\r\n", False, (200, None, False, False)),  # until close
        (b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\n", False, (200, 2, False, True)),
        (b"HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\n", False, (200, 2, False, True)),
        (
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n",
            False,
            (200, 2, False, False),
        ),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n", False, (200, 2, False, False)),
        (
            b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n",
            False,
            (200, 2, False, False),
        ),
        (b"HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", False, (204, 0, False, True)),
        (b"HTTP/1.1 304 Not Modified\r\n\r\n", False, (304, 0, False, True)),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", True, (200, 0, False, True)),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", True, (200, 0, False, True)),
        (b"HTTP/1.1 100 Continue\r\n\r\n", False, (100, 0, False, True)),
        (b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", False, (103, 0, False, True)),
        (
            b"HTTP/1.1 599 Whatever \x01\xff\r\nContent-Length: 0\r\n\r\n",
            False,
            (599, 0, False, True),
        ),
    ],
)
def test_response_framing(
    wire: bytes, head_request: bool, expected: tuple[int, int | None, bool, bool]
) -> None:
    assert response_head(wire, head_request=head_request) == expected


def test_response_fields_keep_h11s_tolerance_for_controls() -> None:
    wire = b"HTTP/1.1 200 OK\r\nSet-Cookie: a=\x01b\x7f\r\nContent-Length: 0\r\n\r\n"
    head = parse_response_head(wire, head_request=False)
    assert head.headers == (("set-cookie", "a=\x01b\x7f"), ("content-length", "0"))


@pytest.mark.parametrize(
    "wire",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n",
        b"HTTP/1.1 099 Low\r\n\r\n",
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/2.0 200 OK\r\n\r\n",
        b"HTTP/1.1  200 OK\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
    ],
)
def test_invalid_responses_are_rejected(wire: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_response_head(wire, head_request=False)


# --- request encoding ----------------------------------------------------------------------


def test_request_head_is_encoded_as_given() -> None:
    head = encode_request_head(
        "POST", "/v1/chat?alt=sse", [("Host", "api:8443"), ("X-Empty", ""), ("a", "b \t c")]
    )
    assert head == (
        b"POST /v1/chat?alt=sse HTTP/1.1\r\nHost: api:8443\r\nX-Empty: \r\na: b \t c\r\n\r\n"
    )


@pytest.mark.parametrize(
    ("method", "target", "headers"),
    [
        ("POST", "/", [("authorization", "SECRET\r\nx: y")]),
        ("POST", "/", [("authorization", "SECRET\nx: y")]),
        ("POST", "/", [("authorization", "SECRET\r")]),
        ("POST", "/", [("x", "a\x00b")]),
        ("POST", "/", [("x", "a\x01b")]),
        ("POST", "/", [("x", " leading")]),
        ("POST", "/", [("x", "trailing ")]),
        ("POST", "/", [("x", "caf\xe9")]),
        ("POST", "/", [("x: y", "z")]),
        ("POST", "/", [("x y", "z")]),
        ("POST", "/", [("", "z")]),
        ("POST", "/", [("x\r\ny", "z")]),
        ("PO ST", "/", []),
        ("", "/", []),
        ("POST", "/a b", []),
        ("POST", "", []),
        ("POST", "/a\r\nHost: evil", []),
        ("POST", "/caf\xe9", []),
    ],
)
def test_invalid_request_parts_raise_value_error_without_echoing(
    method: str, target: str, headers: list[tuple[str, str]]
) -> None:
    with pytest.raises(ValueError, match="not valid HTTP") as caught:
        encode_request_head(method, target, headers)
    assert "SECRET" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


# --- differential: h11 as the reference ---------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One message as a parser read it: the parts both parsers must agree on."""

    start: tuple[str, ...]  # (method, target) or the interim and final statuses
    headers: tuple[tuple[str, str], ...]
    body: bytes
    reusable: bool


@dataclass(frozen=True)
class Outcome:
    messages: tuple[Message, ...]
    rejected: bool


def ours_read_requests(pieces: Sequence[bytes]) -> Outcome:
    """Read requests as the server does: head, body, next, until EOF, close or an error."""
    feed, buffer = list(pieces), bytearray()
    messages: list[Message] = []
    try:
        while True:
            searched = 0
            while (end := find_head_end(buffer, searched)) < 0:
                searched = len(buffer)
                if not feed:
                    if buffer:
                        raise ProtocolError("EOF in a head")
                    return Outcome(messages=tuple(messages), rejected=False)
                buffer += feed.pop(0)
            head = parse_request_head(buffer[:end])
            del buffer[:end]
            reader = BodyReader(content_length=head.content_length, chunked=head.chunked)
            body = bytearray()
            while (piece := reader.read(buffer)) != b"":
                if piece is not None:
                    body += piece
                elif feed:
                    buffer += feed.pop(0)
                else:
                    reader.read_eof()
            # h11 never keeps an HTTP/1.0 connection alive; we do when asked (tested above).
            reusable = head.keep_alive and not head.http_1_0
            start = (head.method, head.target, f"expects_continue={head.expects_continue}")
            headers = as_h11_shows(head.headers)
            messages.append(
                Message(start=start, headers=headers, body=bytes(body), reusable=reusable)
            )
            if not reusable:
                return Outcome(messages=tuple(messages), rejected=False)
    except ProtocolError:
        return Outcome(messages=tuple(messages), rejected=True)


def decoded(headers: Sequence[tuple[bytes, bytes]]) -> tuple[tuple[str, str], ...]:
    return tuple((name.decode("latin-1"), value.decode("latin-1")) for name, value in headers)


def as_h11_shows(headers: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """h11 lower-cases the Transfer-Encoding value it reports; we keep it as sent."""
    return tuple((n, v.lower() if n == "transfer-encoding" else v) for n, v in headers)


def h11_read_requests(pieces: Sequence[bytes]) -> Outcome:
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES)
    feed = list(pieces)
    messages: list[Message] = []
    start: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body = bytearray()
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(feed.pop(0) if feed else b"")
            elif isinstance(event, h11.Request):
                waiting = conn.they_are_waiting_for_100_continue
                start = (
                    event.method.decode(),
                    event.target.decode(),
                    f"expects_continue={waiting}",
                )
                headers, body = decoded(event.headers), bytearray()
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                reusable = conn.their_state is h11.DONE
                messages.append(
                    Message(start=start, headers=headers, body=bytes(body), reusable=reusable)
                )
                if not reusable:
                    break
                conn.send(h11.Response(status_code=200, headers=[("content-length", "0")]))
                conn.send(h11.EndOfMessage())
                conn.start_next_cycle()
            else:  # ConnectionClosed
                break
    except h11.RemoteProtocolError:
        return Outcome(messages=tuple(messages), rejected=True)
    return Outcome(messages=tuple(messages), rejected=False)


def ours_read_response(pieces: Sequence[bytes], method: str) -> Outcome:
    """Read one response as the upstream connection does: interim heads, final head, body."""
    feed, buffer, eof = list(pieces), bytearray(), False
    statuses: list[str] = []
    try:
        while True:
            searched = 0
            while (end := find_head_end(buffer, searched)) < 0:
                searched = len(buffer)
                if not feed:
                    raise ProtocolError("EOF in a head")
                buffer += feed.pop(0)
            head = parse_response_head(buffer[:end], head_request=method == "HEAD")
            del buffer[:end]
            statuses.append(str(head.status))
            if head.status == 101:  # the connection refuses a switch it never asked for
                raise ProtocolError("101 unasked")
            if head.status >= 200:
                break
        reader = BodyReader(content_length=head.content_length, chunked=head.chunked, response=True)
        body = bytearray()
        while (piece := reader.read(buffer)) != b"":
            if piece is not None:
                body += piece
            elif feed:
                buffer += feed.pop(0)
            else:
                eof = True
                reader.read_eof()
    except ProtocolError:
        return Outcome(messages=(), rejected=True)
    reusable = head.keep_alive and not eof
    headers = as_h11_shows(head.headers)
    message = Message(start=tuple(statuses), headers=headers, body=bytes(body), reusable=reusable)
    return Outcome(messages=(message,), rejected=False)


def h11_read_response(pieces: Sequence[bytes], method: str) -> Outcome:
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method=method, target="/", headers=[("host", "upstream")]))
    conn.send(h11.EndOfMessage())
    feed = list(pieces)
    statuses: list[str] = []
    headers: tuple[tuple[str, str], ...] = ()
    body = bytearray()
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(feed.pop(0) if feed else b"")
            elif isinstance(event, h11.InformationalResponse | h11.Response):
                statuses.append(str(event.status_code))
                headers = decoded(event.headers)
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            else:
                raise AssertionError(f"unexpected {event!r}")
    except h11.RemoteProtocolError:
        return Outcome(messages=(), rejected=True)
    # As the pool judged it with h11: both sides done, and the server did not close.
    closed = conn.trailing_data[1]
    reusable = conn.our_state is h11.DONE and conn.their_state is h11.DONE and not closed
    message = Message(start=tuple(statuses), headers=headers, body=bytes(body), reusable=reusable)
    return Outcome(messages=(message,), rejected=False)


def assert_no_more_lenient(ours: Outcome, reference: Outcome) -> None:
    """We reject whatever h11 rejects, and never read a message h11 reads differently."""
    assert ours.messages == reference.messages[: len(ours.messages)]
    if reference.rejected:
        assert ours.rejected
    if not ours.rejected:
        assert ours == reference


def split(wire: bytes, cuts: Sequence[int]) -> list[bytes]:
    """``wire`` cut into reads at the given offsets."""
    points = sorted({cut % (len(wire) + 1) for cut in cuts} | {0, len(wire)})
    return [wire[a:b] for a, b in itertools.pairwise(points) if b > a]


# Where we are stricter than h11 0.16, and why (every other SMUGGLING case h11 rejects too).
STRICTER = {
    # h11 lets Transfer-Encoding win; a front proxy that honours Content-Length instead
    # would see a different request boundary (RFC 9112 §6.3 says treat it as an error).
    "content-length and transfer-encoding",
    "transfer-encoding then content-length",
    # h11 merges identical values; no legitimate client sends them, and rejecting is allowed.
    "two equal lengths",
    "length list",
    # RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
    "transfer-encoding in HTTP/1.0",
    # h11 unfolds; RFC 9112 §5.2 lets a server reject, and folding hides fields from proxies.
    "obs-fold with a space",
    "obs-fold with a tab",
    # h11 tolerates controls other than NUL/CR/LF/VT/FF in request field values.
    "SOH in a value",
    "DEL in a value",
    # h11 accepts any HTTP/d.d; only 1.0 and 1.1 are HTTP/1 framing we understand.
    "HTTP/1.2",
    "HTTP/2.0",
    "HTTP/0.9",
}
STRICTER_CHUNKED = {
    # h11 allows 20 hex digits; 16 is the most a 64-bit size can need.
    b"00000000000000001\r\na\r\n0\r\n\r\n",
    # h11 takes any byte but LF in an extension.
    b"1;a\x00b\r\na\r\n0\r\n\r\n",
    # h11 accepts a well-formed Content-Length trailer; framing fields have no place there.
    b"0\r\nContent-Length: 5\r\n\r\n",
    # h11 tolerates SOH in a trailer value as in a header value.
    b"0\r\nX-A: \x01\r\n\r\n",
}


@pytest.mark.parametrize("name", SMUGGLING)
def test_smuggling_shapes_against_h11(name: str) -> None:
    ours, reference = ours_read_requests([SMUGGLING[name]]), h11_read_requests([SMUGGLING[name]])
    assert ours.rejected
    assert reference.rejected is (name not in STRICTER)


@pytest.mark.parametrize(
    "body",
    [
        b"g\r\n",
        b"-1\r\n",
        b"+1\r\na\r\n0\r\n\r\n",
        b"0x1\r\na\r\n0\r\n\r\n",
        b" 1\r\na\r\n0\r\n\r\n",
        b"1 ;x\r\na\r\n0\r\n\r\n",
        b"1\r\nab\r\n0\r\n\r\n",
        b"0\r\n folded: trailer\r\n\r\n",
        b"0\r\nX-A : 1\r\n\r\n",
        *sorted(STRICTER_CHUNKED),
    ],
)
def test_invalid_chunk_framing_against_h11(body: bytes) -> None:
    wire = chunked(body)
    assert ours_read_requests([wire]).rejected
    assert h11_read_requests([wire]).rejected is (body not in STRICTER_CHUNKED)


# --- generated messages -------------------------------------------------------------------------

TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
VCHARS = "".join(chr(code) for code in range(0x21, 0x7F))
OBS_TEXT = "".join(chr(code) for code in range(0x80, 0x100))
# Fields the generators set on purpose (or, for Upgrade and CONNECT, leave out: h11
# pauses on a protocol switch proposal, which the gateway never honours anyway).
FRAMING_NAMES = {"host", "content-length", "transfer-encoding", "connection", "expect", "upgrade"}

tokens = st.text(TCHARS, min_size=1, max_size=10)
field_names = tokens.filter(lambda name: name.lower() not in FRAMING_NAMES)
request_values = st.text(VCHARS + OBS_TEXT + " \t", max_size=20).map(lambda v: v.strip(" \t"))
# h11 (and we) tolerate these controls in response field values.
response_values = st.text(VCHARS + OBS_TEXT + " \t\x01\x1f\x7f", max_size=20).map(
    lambda v: v.strip(" \t")
)
whitespace = st.sampled_from(["", "", " ", "\t", " \t "])
line_ends = st.sampled_from(["\r\n"] * 6 + ["\n"])
chunk_extensions = st.sampled_from(["", "", ";a", ";a=b", ';a="q v"', ";a=b;c", "  "])


@st.composite
def field_lines(draw: st.DrawFn, values: st.SearchStrategy[str]) -> list[str]:
    """Random non-framing field lines, with optional whitespace around each value."""
    fields = draw(st.lists(st.tuples(field_names, values, whitespace, whitespace), max_size=5))
    return [f"{name}:{before}{value}{after}" for name, value, before, after in fields]


@st.composite
def chunked_body(draw: st.DrawFn, body: bytes, values: st.SearchStrategy[str]) -> bytes:
    """``body`` in chunks cut at random, with random extensions, size case and trailers."""
    cuts = draw(st.lists(st.integers(0, len(body)), max_size=4))
    points = sorted({*cuts, 0, len(body)})
    wire = b""
    for start, end in itertools.pairwise(points):
        if end > start:
            size = format(end - start, draw(st.sampled_from(["x", "X"])))
            zeros = "0" * draw(st.integers(0, 2))
            line = f"{zeros}{size}{draw(chunk_extensions)}\r\n"
            wire += line.encode() + body[start:end] + b"\r\n"
    trailers = "".join(f"{line}{draw(line_ends)}" for line in draw(field_lines(values)))
    return wire + f"0{draw(chunk_extensions)}\r\n{trailers}{draw(line_ends)}".encode("latin-1")


@st.composite
def request_wires(draw: st.DrawFn) -> bytes:
    """One valid request: random method, target, fields, framing, body and line ends."""
    version = draw(st.sampled_from(["1.1", "1.1", "1.0"]))
    method = draw(
        st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
        | tokens.filter(lambda method: method != "CONNECT")
    )
    target = draw(
        st.sampled_from(["/", "*", "/v1/chat/completions?x=1"])
        | st.text(VCHARS, min_size=1, max_size=20)
    )
    lines = draw(field_lines(request_values))
    if version == "1.1" or draw(st.booleans()):
        lines.append(f"{draw(st.sampled_from(['Host', 'host', 'HOST']))}:{draw(whitespace)}gw")
    connection = draw(st.sampled_from([None, "close", "keep-alive", "Keep-Alive", "a, close"]))
    if connection is not None:
        lines.append(f"Connection: {connection}")
    if draw(st.booleans()):
        lines.append(f"Expect: {draw(st.sampled_from(['100-continue', '100-Continue']))}")
    framing = draw(
        st.sampled_from(["none", "length", "chunked"] if version == "1.1" else ["none", "length"])
    )
    body = b"" if framing == "none" else draw(st.binary(max_size=64))
    if framing == "length":
        lines.append(f"Content-Length: {'0' * draw(st.integers(0, 2))}{len(body)}")
    elif framing == "chunked":
        lines.append(f"Transfer-Encoding: {draw(st.sampled_from(['chunked', 'Chunked']))}")
        body = draw(chunked_body(body, request_values))
    head = f"{method} {target} HTTP/{version}{draw(line_ends)}"
    head += "".join(f"{line}{draw(line_ends)}" for line in draw(st.permutations(lines)))
    return (head + draw(line_ends)).encode("latin-1") + body


@st.composite
def response_wires(draw: st.DrawFn) -> tuple[bytes, str]:
    """One valid response (after 0-2 interim ones) and the method of its request."""
    method = draw(st.sampled_from(["GET", "POST", "HEAD"]))
    wire = b""
    for status in draw(st.lists(st.sampled_from([100, 102, 103]), max_size=2)):
        lines = "".join(f"{line}\r\n" for line in draw(field_lines(response_values)))
        wire += f"HTTP/1.1 {status} Interim\r\n{lines}\r\n".encode("latin-1")
    version = draw(st.sampled_from(["1.1", "1.1", "1.0"]))
    status = draw(st.sampled_from([200, 201, 204, 206, 304, 404, 429, 500]) | st.integers(200, 999))
    reason = draw(st.none() | st.text(VCHARS + OBS_TEXT + " \t\x01", max_size=12))
    lines = draw(field_lines(response_values))
    connection = draw(st.sampled_from([None, "close", "keep-alive"]))
    if connection is not None:
        lines.append(f"Connection: {connection}")
    framing = draw(
        st.sampled_from(["length", "chunked", "close"] if version == "1.1" else ["length", "close"])
    )
    body = draw(st.binary(max_size=64))
    if framing == "length":
        lines.append(f"Content-Length: {len(body)}")
    elif framing == "chunked":
        lines.append("Transfer-Encoding: chunked")
    if status in (204, 304) or method == "HEAD":
        body = b""  # the framing fields describe a body that is not sent
    elif framing == "chunked":
        body = draw(chunked_body(body, response_values))
    status_line = f"HTTP/{version} {status}" + ("" if reason is None else f" {reason}")
    head = f"{status_line}\r\n" + "".join(f"{line}{draw(line_ends)}" for line in lines)
    return wire + (head + "\r\n").encode("latin-1") + body, method


cut_points = st.lists(st.integers(min_value=0, max_value=10_000), max_size=8)


@DIFFERENTIAL
@given(stream=st.lists(request_wires(), min_size=1, max_size=3).map(b"".join), cuts=cut_points)
def test_valid_requests_are_read_as_h11_reads_them(stream: bytes, cuts: list[int]) -> None:
    pieces = split(stream, cuts)
    reference = h11_read_requests(pieces)
    assert not reference.rejected, "the generator made an invalid request"
    assert ours_read_requests(pieces) == reference
    assert ours_read_requests([stream]) == reference  # read boundaries change nothing


@DIFFERENTIAL
@given(response=response_wires(), cuts=cut_points)
def test_valid_responses_are_read_as_h11_reads_them(
    response: tuple[bytes, str], cuts: list[int]
) -> None:
    wire, method = response
    pieces = split(wire, cuts)
    reference = h11_read_response(pieces, method)
    assert not reference.rejected, "the generator made an invalid response"
    assert ours_read_response(pieces, method) == reference


# --- smuggling mutations ----------------------------------------------------------------------

Mutation = Callable[[bytes], bytes]


def sub(pattern: bytes, replacement: bytes | Callable[[re.Match[bytes]], bytes]) -> Mutation:
    """Replace the first match of ``pattern`` (a no-op where it does not occur)."""
    return lambda wire: re.sub(pattern, replacement, wire, count=1)


def in_head(mutate: Callable[[bytes], bytes]) -> Mutation:
    """Apply ``mutate`` to the first head only."""

    def apply(wire: bytes) -> bytes:
        end = wire.find(b"\r\n\r\n") + 4
        return mutate(wire[:end]) + wire[end:] if end > 3 else mutate(wire)

    return apply


def resize(delta: int) -> Callable[[re.Match[bytes]], bytes]:
    def replace(match: re.Match[bytes]) -> bytes:
        prefix, size = match.group(1), match.group(2)
        base = 16 if prefix.endswith(b"\r\n\r\n") else 10
        new = max(0, int(size, base) + delta)
        return prefix + (format(new, "x") if base == 16 else str(new)).encode()

    return replace


LENGTH = rb"(Content-Length: )"
CHUNKED = rb"(Transfer-Encoding: chunked)"
FIRST_CHUNK = rb"(\r\n\r\n)([0-9a-fA-F]+)"
LAST_CHUNK = rb"\r\n0\r\n\r\n"
REQUEST_MUTATIONS: dict[str, Mutation] = {
    "te added to a length": sub(
        rb"(Content-Length: \d+\r\n)", rb"\1Transfer-Encoding: chunked\r\n"
    ),
    "length added to chunked": sub(CHUNKED + rb"\r\n", rb"\1\r\nContent-Length: 3\r\n"),
    "second, smaller length": sub(rb"(X-Probe: probe\r\n)", rb"\1Content-Length: 1\r\n"),
    "length repeated": sub(rb"(Content-Length: \d+\r\n)", rb"\1\1"),
    "length listed twice": sub(rb"Content-Length: (\d+)", rb"Content-Length: \1, \1"),
    "length list that differs": sub(rb"Content-Length: (\d+)", rb"Content-Length: \1,0"),
    "length with a plus": sub(LENGTH, rb"\1+"),
    "length with a minus": sub(LENGTH, rb"\1-"),
    "length in hex": sub(LENGTH, rb"\g<1>0x"),
    "length with inner space": sub(rb"Content-Length: (\d)", rb"Content-Length: \1 1"),
    "length with leading zeros": sub(LENGTH, rb"\g<1>00"),
    "length with tabs around": sub(rb"Content-Length: (\d+)", rb"Content-Length:\t\1\t"),
    "length one longer": sub(rb"(Content-Length: )(\d+)", resize(1)),
    "length one shorter": sub(rb"(Content-Length: )(\d+)", resize(-1)),
    "te listed twice": sub(CHUNKED, rb"\1, chunked"),
    "te gzip first": sub(rb"Transfer-Encoding: ", rb"Transfer-Encoding: gzip, "),
    "te gzip last": sub(CHUNKED, rb"\1, gzip"),
    "te upper case": sub(CHUNKED, rb"Transfer-Encoding: CHUNKED"),
    "te with a parameter": sub(CHUNKED, rb"\1;q=1"),
    "te misspelt": sub(CHUNKED, rb"Transfer-Encoding: xchunked"),
    "te with VT": sub(CHUNKED, b"\\1\x0b"),
    "te repeated": sub(rb"(Transfer-Encoding: chunked\r\n)", rb"\1\1"),
    "te split over two lines": sub(CHUNKED, rb"Transfer-Encoding: gzip\r\n\1"),
    "obs-fold": sub(rb"(X-Probe: probe)\r\n", rb"\1\r\n folded\r\n"),
    "obs-fold with tab": sub(rb"(X-Probe: probe)\r\n", rb"\1\r\n\tfolded\r\n"),
    "length folded away": sub(rb"\r\nContent-Length", rb"\r\n Content-Length"),
    "te folded away": sub(rb"\r\nTransfer-Encoding", rb"\r\n\tTransfer-Encoding"),
    "space before colon of length": sub(rb"Content-Length:", rb"Content-Length :"),
    "space before colon of te": sub(rb"Transfer-Encoding:", rb"Transfer-Encoding :"),
    "tab before colon": sub(rb"X-Probe:", rb"X-Probe\t:"),
    "space in a name": sub(rb"X-Probe:", rb"X Probe:"),
    "@ in a name": sub(rb"X-Probe:", rb"X-Pr@be:"),
    "DEL in a name": sub(rb"X-Probe:", b"X-Pr\x7fbe:"),
    "obs-text in a name": sub(rb"X-Probe:", b"X-Pr\xe9be:"),
    "empty name": sub(rb"X-Probe:", rb":"),
    "line without colon": sub(rb"X-Probe: probe", rb"X-Probe probe"),
    "NUL in a value": sub(rb"probe\r\n", b"pro\x00be\r\n"),
    "SOH in a value": sub(rb"probe\r\n", b"pro\x01be\r\n"),
    "ESC in a value": sub(rb"probe\r\n", b"pro\x1bbe\r\n"),
    "DEL in a value": sub(rb"probe\r\n", b"pro\x7fbe\r\n"),
    "VT in a value": sub(rb"probe\r\n", b"pro\x0bbe\r\n"),
    "FF in a value": sub(rb"probe\r\n", b"pro\x0cbe\r\n"),
    "bare CR in a value": sub(rb"probe\r\n", rb"pro\rbe\r\n"),
    "bare CR smuggling a length": sub(rb"probe\r\n", rb"probe\rContent-Length: 0\r\n"),
    "bare LF smuggling a length": sub(rb"probe\r\n", rb"probe\nContent-Length: 0\r\n"),
    "tab in a value": sub(rb"probe\r\n", rb"pro\tbe\r\n"),
    "obs-text in a value": sub(rb"probe\r\n", b"pro\xe9be\r\n"),
    "LF line ends": in_head(lambda head: head.replace(b"\r\n", b"\n")),
    "CR line ends": in_head(lambda head: head.replace(b"\r\n", b"\r")),
    "space in the target": sub(rb"^POST /p ", rb"POST /p x "),
    "control in the target": sub(rb"^POST /p", b"POST /p\x01"),
    "obs-text in the target": sub(rb"^POST /p", b"POST /p\x80"),
    "empty target": sub(rb"^POST /p ", rb"POST  "),
    "bad method": sub(rb"^POST", rb"PO(ST"),
    "lower-case method": sub(rb"^POST", rb"post"),
    "tab after the method": sub(rb"^POST ", rb"POST\t"),
    "HTTP/1.0": sub(rb"HTTP/1\.1\r\n", rb"HTTP/1.0\r\n"),
    "HTTP/1.2": sub(rb"HTTP/1\.1\r\n", rb"HTTP/1.2\r\n"),
    "HTTP/2.0": sub(rb"HTTP/1\.1\r\n", rb"HTTP/2.0\r\n"),
    "HTTP/1.10": sub(rb"HTTP/1\.1\r\n", rb"HTTP/1.10\r\n"),
    "HTTP/1": sub(rb"HTTP/1\.1\r\n", rb"HTTP/1\r\n"),
    "http/1.1": sub(rb"HTTP/1\.1\r\n", rb"http/1.1\r\n"),
    "space after the version": sub(rb"HTTP/1\.1\r\n", rb"HTTP/1.1 \r\n"),
    "no host": sub(rb"Host: gw\r\n", b""),
    "two hosts": sub(rb"(Host: gw\r\n)", rb"\1\1"),
    "leading CRLF": lambda wire: b"\r\n" + wire,
    "chunk size with a plus": sub(FIRST_CHUNK, rb"\1+\2"),
    "chunk size in 0x": sub(FIRST_CHUNK, rb"\g<1>0x\2"),
    "space before chunk size": sub(FIRST_CHUNK, rb"\1 \2"),
    "space before chunk extension": sub(FIRST_CHUNK, rb"\1\2 ;x"),
    "chunk size of 17 digits": sub(FIRST_CHUNK, rb"\g<1>0000000000000000\2"),
    "NUL in a chunk extension": sub(FIRST_CHUNK, b"\\1\\2;a\x00"),
    "bare CR in a chunk extension": sub(FIRST_CHUNK, rb"\1\2;a\rb"),
    "chunk one longer": sub(FIRST_CHUNK, resize(1)),
    "chunk one shorter": sub(FIRST_CHUNK, resize(-1)),
    "no end after the last chunk": sub(LAST_CHUNK, b"\r\n0\r\n"),
    "length in the trailers": sub(LAST_CHUNK, b"\r\n0\r\nContent-Length: 7\r\n\r\n"),
    "fold in the trailers": sub(LAST_CHUNK, b"\r\n0\r\n folded\r\n\r\n"),
    "bare LF after the last chunk": sub(LAST_CHUNK, b"\r\n0\n\n"),
    "expect 100-continue": sub(rb"(Host: gw\r\n)", rb"\1Expect: 100-continue\r\n"),
    "connection close": sub(rb"(Host: gw\r\n)", rb"\1Connection: close\r\n"),
}


@st.composite
def mutation_bases(draw: st.DrawFn) -> bytes:
    """A valid request with an ``X-Probe: probe`` field, often with a second one after it."""
    body = draw(st.binary(max_size=40))
    lines = ["Host: gw", "X-Probe: probe", *draw(field_lines(request_values))]
    if draw(st.booleans()):
        lines.append(f"Content-Length: {len(body)}")
    else:
        lines.append("Transfer-Encoding: chunked")
        body = draw(chunked_body(body, request_values))
    head = "POST /p HTTP/1.1\r\n" + "".join(f"{line}\r\n" for line in draw(st.permutations(lines)))
    second = draw(st.sampled_from([b"", b"GET /next HTTP/1.1\r\nHost: gw\r\n\r\n"]))
    return (head + "\r\n").encode("latin-1") + body + second


MUTATION_BASES = [
    b"POST /p HTTP/1.1\r\nHost: gw\r\nX-Probe: probe\r\nContent-Length: 5\r\n\r\nhello"
    b"GET /next HTTP/1.1\r\nHost: gw\r\n\r\n",
    b"POST /p HTTP/1.1\r\nHost: gw\r\nX-Probe: probe\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5;x=y\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: gw\r\n\r\n",
]


@pytest.mark.parametrize("base", MUTATION_BASES, ids=["length", "chunked"])
@pytest.mark.parametrize("name", REQUEST_MUTATIONS)
def test_each_request_mutation_on_a_fixed_request(base: bytes, name: str) -> None:
    wire = REQUEST_MUTATIONS[name](base)
    assert_no_more_lenient(ours_read_requests([wire]), h11_read_requests([wire]))


@DIFFERENTIAL
@given(
    base=mutation_bases(),
    names=st.lists(st.sampled_from(sorted(REQUEST_MUTATIONS)), min_size=1, max_size=2),
    cuts=cut_points,
)
def test_mutated_requests_are_never_read_more_leniently_than_h11(
    base: bytes, names: list[str], cuts: list[int]
) -> None:
    wire = base
    for name in names:
        wire = REQUEST_MUTATIONS[name](wire)
    pieces = split(wire, cuts)
    assert_no_more_lenient(ours_read_requests(pieces), h11_read_requests(pieces))


RESPONSE_MUTATIONS: dict[str, Mutation] = {
    "te added to a length": sub(
        rb"(Content-Length: \d+\r\n)", rb"\1Transfer-Encoding: chunked\r\n"
    ),
    "length added to chunked": sub(CHUNKED + rb"\r\n", rb"\1\r\nContent-Length: 3\r\n"),
    "second, smaller length": sub(rb"(X-Probe: probe\r\n)", rb"\1Content-Length: 1\r\n"),
    "length repeated": sub(rb"(Content-Length: \d+\r\n)", rb"\1\1"),
    "length listed twice": sub(rb"Content-Length: (\d+)", rb"Content-Length: \1, \1"),
    "length with a plus": sub(LENGTH, rb"\1+"),
    "length in hex": sub(LENGTH, rb"\g<1>0x"),
    "length one longer": sub(rb"(Content-Length: )(\d+)", resize(1)),
    "length one shorter": sub(rb"(Content-Length: )(\d+)", resize(-1)),
    "length removed": sub(rb"Content-Length: \d+\r\n", b""),
    "te gzip": sub(CHUNKED, rb"Transfer-Encoding: gzip"),
    "te listed twice": sub(CHUNKED, rb"\1, chunked"),
    "te repeated": sub(rb"(Transfer-Encoding: chunked\r\n)", rb"\1\1"),
    "te upper case": sub(CHUNKED, rb"Transfer-Encoding: CHUNKED"),
    "obs-fold": sub(rb"(X-Probe: probe)\r\n", rb"\1\r\n folded\r\n"),
    "length folded away": sub(rb"\r\nContent-Length", rb"\r\n Content-Length"),
    "space before colon": sub(rb"Content-Length:", rb"Content-Length :"),
    "NUL in a value": sub(rb"probe\r\n", b"pro\x00be\r\n"),
    "SOH in a value": sub(rb"probe\r\n", b"pro\x01be\r\n"),
    "bare CR in a value": sub(rb"probe\r\n", b"pro\rbe\r\n"),
    "LF line ends": in_head(lambda head: head.replace(b"\r\n", b"\n")),
    "status 099": sub(rb"^HTTP/1\.1 200", rb"HTTP/1.1 099"),
    "status of two digits": sub(rb"^HTTP/1\.1 200", rb"HTTP/1.1 20"),
    "status 204": sub(rb"^HTTP/1\.1 200", rb"HTTP/1.1 204"),
    "status 101": sub(rb"^HTTP/1\.1 200", rb"HTTP/1.1 101"),
    "no reason": sub(rb"^HTTP/1\.1 200 OK", rb"HTTP/1.1 200"),
    "HTTP/1.0": sub(rb"^HTTP/1\.1", rb"HTTP/1.0"),
    "HTTP/2.0": sub(rb"^HTTP/1\.1", rb"HTTP/2.0"),
    "double space after the version": sub(rb"^HTTP/1\.1 ", rb"HTTP/1.1  "),
    "chunk size with a plus": sub(FIRST_CHUNK, rb"\1+\2"),
    "chunk size of 17 digits": sub(FIRST_CHUNK, rb"\g<1>0000000000000000\2"),
    "chunk one longer": sub(FIRST_CHUNK, resize(1)),
    "no end after the last chunk": sub(LAST_CHUNK, b"\r\n0\r\n"),
    "connection close": sub(rb"(X-Probe: probe\r\n)", rb"\1Connection: close\r\n"),
    "interim response first": lambda wire: b"HTTP/1.1 100 Continue\r\n\r\n" + wire,
}
RESPONSE_BASES = [
    b"HTTP/1.1 200 OK\r\nX-Probe: probe\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nX-Probe: probe\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5;x=y\r\nhello\r\n0\r\n\r\n",
]


def assert_response_no_more_lenient(wire: bytes, pieces: Sequence[bytes]) -> None:
    ours, reference = ours_read_response(pieces, "POST"), h11_read_response(pieces, "POST")
    assert_no_more_lenient(ours, reference)


@pytest.mark.parametrize("base", RESPONSE_BASES, ids=["length", "chunked"])
@pytest.mark.parametrize("name", RESPONSE_MUTATIONS)
def test_each_response_mutation_on_a_fixed_response(base: bytes, name: str) -> None:
    wire = RESPONSE_MUTATIONS[name](base)
    assert_response_no_more_lenient(wire, [wire])


@DIFFERENTIAL
@given(
    base=st.sampled_from(RESPONSE_BASES),
    names=st.lists(st.sampled_from(sorted(RESPONSE_MUTATIONS)), min_size=1, max_size=2),
    cuts=cut_points,
)
def test_mutated_responses_are_never_read_more_leniently_than_h11(
    base: bytes, names: list[str], cuts: list[int]
) -> None:
    wire = base
    for name in names:
        wire = RESPONSE_MUTATIONS[name](wire)
    assert_response_no_more_lenient(wire, split(wire, cuts))


# --- through the server -------------------------------------------------------------------------


async def serve_raw(nursery: trio.Nursery, *sends: bytes) -> bytes:
    """Run an echo server, send ``sends`` on one connection, return all it answers."""

    async def echo(request: HttpRequest, writer: ResponseWriter) -> None:
        await writer.send_response(200, [], b"%s %s" % (request.target.encode(), request.body))

    def render_error(
        status: int, message: str, target: str | None
    ) -> tuple[list[tuple[str, str]], bytes]:
        return [], message.encode()

    server = HttpServer(echo, render_error=render_error)
    port = await nursery.start(server.serve, "127.0.0.1", 0)
    received = b""
    with trio.fail_after(10):
        async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
            for data in sends:
                await stream.send_all(data)
            await stream.send_eof()  # so that a lingering server closes at once
            while data := await stream.receive_some(65536):
                received += data
    nursery.cancel_scope.cancel()
    return received


async def test_http_1_0_keep_alive_is_honoured_and_announced(nursery: trio.Nursery) -> None:
    asked = b"GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    received = await serve_raw(nursery, asked + asked + b"GET /last HTTP/1.0\r\n\r\n")
    assert received.count(b"\r\nconnection: keep-alive\r\n") == 2
    assert received.count(b"\r\nconnection: close\r\n") == 1
    assert received.endswith(b"/last ")


async def test_a_smuggled_request_is_answered_400_and_never_served(nursery: trio.Nursery) -> None:
    smuggler = (
        b"POST /outer HTTP/1.1\r\nHost: gw\r\nContent-Length: 36\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /inner HTTP/1.1\r\nHost: gw\r\n\r\n"
    )
    received = await serve_raw(nursery, smuggler)
    assert received.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"connection: close" in received
    assert b"/inner" not in received and received.count(b"HTTP/1.1") == 1


async def test_a_head_over_the_limit_in_many_small_reads_is_431(nursery: trio.Nursery) -> None:
    start = b"GET / HTTP/1.1\r\nHost: gw\r\n"
    lines = [b"X-%d: %s\r\n" % (n, b"v" * 1000) for n in range(70)]  # ~70 KiB, 70 fields
    received = await serve_raw(nursery, start, *lines, b"\r\n")
    assert received.startswith(b"HTTP/1.1 431 ")


# --- whole chunks taken at once --------------------------------------------------------------

_chunk = st.binary(min_size=1, max_size=40).map(lambda data: b"%x\r\n%s\r\n" % (len(data), data))
_noise = st.sampled_from(
    [
        b"",
        b"0\r\n\r\n",
        b"0\r\nX-A: 1\r\n\r\n",
        b"5\r\nabc",
        b"3\r\nabcXY",
        b"+3\r\nabc\r\n",
        b"\r\n",
    ]
)


class _OneChunkAtATime(BodyReader):
    """The reader without its shortcut: every chunk taken step by step."""

    __slots__ = ()

    def _read_whole_chunks(self, buffer: bytearray) -> bytes:
        return b""


def _read_everything(
    wire: bytes, step: int, max_bytes: int | None, whole_chunks: bool
) -> tuple[bytes, str]:
    kind = BodyReader if whole_chunks else _OneChunkAtATime
    reader = kind(content_length=None, chunked=True, max_bytes=max_bytes, response=True)
    buffer, data, offset = bytearray(), b"", 0
    try:
        while True:
            piece = reader.read(buffer)
            if piece:
                data += piece
            elif piece == b"":
                return data, "done"
            elif offset >= len(wire):
                return data, "waiting"
            else:
                buffer += wire[offset : offset + step]
                offset += step
    except ProtocolError as exc:
        return data, f"{type(exc).__name__}: {exc}"


@given(
    chunks=st.lists(_chunk, max_size=12),
    tail=_noise,
    step=st.integers(1, 300),
    max_bytes=st.none() | st.integers(0, 300),
)
def test_complete_chunks_read_at_once_give_what_reading_them_one_by_one_gives(
    chunks: list[bytes], tail: bytes, step: int, max_bytes: int | None
) -> None:
    wire = b"".join(chunks) + tail
    at_once = _read_everything(wire, step, max_bytes, whole_chunks=True)
    one_by_one = _read_everything(wire, step, max_bytes, whole_chunks=False)
    assert at_once == one_by_one
