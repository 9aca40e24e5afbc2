"""The WebSocket framing of ``http11.sansio.websocket``: RFC 6455's own examples, client
frames taken apart in any split, and every violation closed with the RFC's code."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from http11.sansio.websocket import (
    CLOSE_INVALID_DATA,
    CLOSE_PROTOCOL_ERROR,
    CLOSE_TOO_BIG,
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_TEXT,
    Close,
    Event,
    FrameReader,
    Message,
    Ping,
    WebSocketError,
    accept_key,
    encode_close,
    encode_frame,
    handshake_problem,
)

OP_CONTINUATION = 0x0


def client_frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    masked: bool = True,
    rsv: int = 0,
    length_form: int | None = None,
) -> bytes:
    """A frame as a client sends it (masked), or broken in the ways asked for."""
    first = (0x80 if fin else 0) | rsv << 4 | opcode
    mask_bit = 0x80 if masked else 0
    size = len(payload)
    form = length_form or (7 if size < 126 else 16 if size < 1 << 16 else 64)
    if form == 7:
        head = bytes((first, mask_bit | size))
    elif form == 16:
        head = bytes((first, mask_bit | 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((first, mask_bit | 127)) + size.to_bytes(8, "big")
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def events(data: bytes, *, limit: int = 1 << 20, split: int | None = None) -> list[Event]:
    reader = FrameReader(max_message_bytes=limit)
    found: list[Event] = []
    pieces = [data] if split is None else [data[i : i + split] for i in range(0, len(data), split)]
    for piece in pieces:
        reader.feed(piece)
        while (event := reader.next_event()) is not None:
            found.append(event)
    return found


def violation(data: bytes, *, limit: int = 1 << 20) -> int:
    with pytest.raises(WebSocketError) as caught:
        events(data, limit=limit)
    return caught.value.code


def test_accept_key_is_rfc_6455s_example() -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_the_handshake_needs_get_upgrade_version_13_and_a_16_byte_key() -> None:
    good = [
        ("connection", "keep-alive, Upgrade"),
        ("upgrade", "websocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ]
    assert handshake_problem("GET", good) is None
    assert handshake_problem("POST", good) is not None
    without_connection = [h for h in good if h[0] != "connection"]
    assert "Connection" in (handshake_problem("GET", without_connection) or "")
    version_8 = [*good[:2], ("sec-websocket-version", "8"), good[3]]
    assert "version" in (handshake_problem("GET", version_8) or "")
    for key in ("", "short", "dGhlIHNhbXBsZSBub25jZQ", "!!!!" * 6, "AAAA" * 8):
        bad_key = [*good[:3], ("sec-websocket-key", key)]
        assert handshake_problem("GET", bad_key) is not None, key


def test_server_frames_are_unmasked_and_use_the_shortest_length() -> None:
    assert encode_frame(OP_TEXT, b"Hello") == b"\x81\x05Hello"  # RFC 6455, 5.7
    assert encode_frame(OP_TEXT, b"x" * 200)[:4] == b"\x81\x7e\x00\xc8"
    assert encode_frame(OP_BINARY, b"x" * 70000)[:10] == b"\x82\x7f" + (70000).to_bytes(8, "big")
    close = encode_close(1009, "é" * 100)  # cut to 123 bytes on a character boundary
    assert close[0] == 0x88 and close[1] <= 125
    (event,) = events(_masked_copy(close))
    assert isinstance(event, Close) and event.code == 1009


def _masked_copy(server_frame: bytes) -> bytes:
    return client_frame(server_frame[0] & 0x0F, server_frame[2:])


def test_rfc_masked_hello_and_fragments_and_interleaved_ping() -> None:
    rfc = bytes.fromhex("818537fa213d7f9f4d5158")  # "Hello", masked, RFC 6455 5.7
    assert events(rfc) == [Message(text=True, data=b"Hello")]
    fragmented = (
        client_frame(OP_TEXT, b"Hel", fin=False)
        + client_frame(OP_PING, b"are you there")
        + client_frame(OP_CONTINUATION, b"lo", fin=False)
        + client_frame(OP_CONTINUATION, b" world")
    )
    assert events(fragmented) == [
        Ping(payload=b"are you there"),
        Message(text=True, data=b"Hello world"),
    ]


@given(payload=st.binary(max_size=70_000), split=st.integers(min_value=1, max_value=4096))
def test_any_split_of_the_bytes_reads_the_same(payload: bytes, split: int) -> None:
    data = client_frame(OP_BINARY, payload) + client_frame(OP_CLOSE, b"\x03\xe8bye")
    assert events(data, split=split) == [
        Message(text=False, data=payload),
        Close(code=1000, reason="bye"),
    ]


def test_protocol_violations_close_with_1002() -> None:
    assert violation(client_frame(OP_TEXT, b"hi", masked=False)) == CLOSE_PROTOCOL_ERROR
    assert violation(client_frame(OP_TEXT, b"hi", rsv=4)) == CLOSE_PROTOCOL_ERROR
    assert violation(client_frame(0x3, b"hi")) == CLOSE_PROTOCOL_ERROR
    assert violation(client_frame(0xB, b"")) == CLOSE_PROTOCOL_ERROR
    assert violation(client_frame(OP_PING, b"x" * 126)) == CLOSE_PROTOCOL_ERROR
    assert violation(client_frame(OP_PING, b"x", fin=False)) == CLOSE_PROTOCOL_ERROR
    assert violation(client_frame(OP_CONTINUATION, b"x")) == CLOSE_PROTOCOL_ERROR
    two_starts = client_frame(OP_TEXT, b"a", fin=False) + client_frame(OP_TEXT, b"b")
    assert violation(two_starts) == CLOSE_PROTOCOL_ERROR
    assert violation(client_frame(OP_TEXT, b"short", length_form=16)) == CLOSE_PROTOCOL_ERROR
    assert violation(client_frame(OP_TEXT, b"short", length_form=64)) == CLOSE_PROTOCOL_ERROR
    top_bit = b"\x81\xff" + (1 << 63).to_bytes(8, "big")
    assert violation(top_bit) == CLOSE_PROTOCOL_ERROR
    assert violation(client_frame(OP_CLOSE, b"\x03")) == CLOSE_PROTOCOL_ERROR
    for code in (0, 999, 1004, 1005, 1006, 1015, 2999, 5000):
        bad_code = client_frame(OP_CLOSE, code.to_bytes(2, "big"))
        assert violation(bad_code) == CLOSE_PROTOCOL_ERROR, code


def test_text_that_is_not_utf8_closes_with_1007() -> None:
    assert violation(client_frame(OP_TEXT, b"\xff\xfe")) == CLOSE_INVALID_DATA
    split_char = client_frame(OP_TEXT, "é".encode()[:1], fin=False) + client_frame(
        OP_CONTINUATION, "é".encode()[1:]
    )
    assert events(split_char) == [Message(text=True, data="é".encode())]
    assert violation(client_frame(OP_CLOSE, b"\x03\xe8\xc3")) == CLOSE_INVALID_DATA


def test_an_oversized_message_closes_with_1009_from_its_header_alone() -> None:
    reader = FrameReader(max_message_bytes=1000)
    reader.feed(b"\x82\xff" + (1 << 40).to_bytes(8, "big"))  # a terabyte announced, none sent
    with pytest.raises(WebSocketError) as caught:
        reader.next_event()
    assert caught.value.code == CLOSE_TOO_BIG
    fragments = client_frame(OP_TEXT, b"a" * 600, fin=False) + client_frame(
        OP_CONTINUATION, b"a" * 600
    )
    assert violation(fragments, limit=1000) == CLOSE_TOO_BIG
    assert events(client_frame(OP_TEXT, b"a" * 1000), limit=1000)[0] == Message(
        text=True, data=b"a" * 1000
    )
