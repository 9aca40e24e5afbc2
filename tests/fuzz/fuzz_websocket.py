"""Coverage-guided fuzz target (atheris) for what a Codex client sends besides HTTP heads:
WebSocket frames (``http11.sansio.websocket``) and compressed bodies
(``http11.sansio.content_coding``).

One input's first byte picks the receive size and the message limit and whether the rest
is read as a client's frame stream or decoded as a body in one of the codings. The
property: frames yield events or a ``WebSocketError`` with a code a server may send, no
message passes the limit, the reader always progresses; decoding yields at most the
limit or a ``ContentCodingError`` with 400, 413 or 415.

    .venv/bin/python -m tests.fuzz.fuzz_websocket -max_total_time=600 /tmp/corpus-websocket
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(
    include=["http11.sansio.websocket", "http11.sansio.content_coding"]
):
    from http11.sansio.content_coding import ContentCodingError, decode_body
    from http11.sansio.websocket import FrameReader, Message, WebSocketError

from tests.fuzz.corpus import corpus_from_argv

CODINGS = ("zstd", "gzip", "deflate", "identity", "br", "zstd, gzip")
CLOSE_CODES = {1002, 1007, 1009}

SEEDS = (
    bytes.fromhex("01818537fa213d7f9f4d5158"),  # RFC 6455's masked "Hello"
    b"\x02\x01\x83\x00\x00\x00\x00Hel\x80\x82\x00\x00\x00\x00lo",  # fragmented
    b"\x03\x89\x80\x00\x00\x00\x00\x88\x82\x00\x00\x00\x00\x03\xe8",  # ping, close
    b"\x80(\xb5/\xfd\x00X\x11\x00\x00{}",  # a zstd frame
    b"\x81\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xab\xae\x05\x00C\xbf\xa6\xa3\x02\x00\x00\x00",
)


def test_one_input(data: bytes) -> None:
    if not data:
        return
    control, stream = data[0], data[1:]
    if control & 0x80:
        _decode(stream, CODINGS[control % len(CODINGS)], limit=1 + (control & 0x0F) * 4096)
    else:
        _frames(stream, step=1 + (control & 0x07) * 9, limit=1 + (control & 0x78) * 64)


def _decode(body: bytes, coding: str, *, limit: int) -> None:
    try:
        decoded = decode_body(body, coding, max_bytes=limit)
    except ContentCodingError as error:
        if error.status not in (400, 413, 415):
            raise AssertionError(f"a server cannot answer {error.status}") from error
        return
    assert len(decoded) <= limit or coding == "identity"


def _frames(stream: bytes, *, step: int, limit: int) -> None:
    reader = FrameReader(max_message_bytes=limit)
    try:
        for offset in range(0, len(stream), step):
            reader.feed(stream[offset : offset + step])
            for _ in range(len(stream) + 2):
                event = reader.next_event()
                if event is None:
                    break
                if isinstance(event, Message):
                    assert len(event.data) <= limit
            else:
                raise AssertionError("the frame reader made no progress")
    except WebSocketError as error:
        if error.code not in CLOSE_CODES:
            raise AssertionError(f"unexpected close code {error.code}") from error


def main() -> None:
    corpus_from_argv(sys.argv, SEEDS)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
