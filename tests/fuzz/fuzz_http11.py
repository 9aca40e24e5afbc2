"""Coverage-guided fuzz target (atheris) for the HTTP/1.1 framing the server and the
upstream client share (``http11.sansio.head``, ``http11.sansio.body``).

One input is a byte stream as a peer would send it. Its first byte picks how the
stream arrives (the receive size) and whether it is read as a request (the server's
side) or a response (the client's side); the rest is fed through ``find_head_end``,
the head parser and a ``BodyReader``, piece by piece. The property: the only exception
is ``ProtocolError`` (which the server answers 400/413/431), reading always ends, a
body never exceeds its declared length or the size cap, and a parsed head is sane.

    .venv/bin/python -m tests.fuzz.fuzz_http11 -max_total_time=600 /tmp/corpus-http11
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["http11.sansio.head", "http11.sansio.body"]):
    from http11.sansio.body import BodyReader
    from http11.sansio.head import (
        ProtocolError,
        find_head_end,
        parse_request_head,
        parse_response_head,
    )

from tests.fuzz.corpus import corpus_from_argv

MAX_BODY = 4096

SEEDS = (
    b"\x10POST /v1/responses HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    b"\x21POST /v1/chat/completions HTTP/1.1\r\nhost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\nhello\r\n0\r\nx-trailer: 1\r\n\r\n",
    b"\x02GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"\x81HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"a\r\ndata: x\n\n\r\n0\r\n\r\n",
    b"\x83HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\nContent-Length: 2\r\n\r\n{}",
    b"\x85HTTP/1.0 200 OK\r\n\r\nuntil close",
)


def test_one_input(data: bytes) -> None:
    if not data:
        return
    control, stream = data[0], data[1:]
    step = 1 + (control & 0x0F) * 7  # the receive size: 1 to 106 bytes at a time
    response = bool(control & 0x80)
    buffer = bytearray()
    end = -1
    offset = 0
    try:
        while end < 0 and offset < len(stream):
            searched = len(buffer)
            buffer += stream[offset : offset + step]
            offset += step
            end = find_head_end(buffer, searched)
        if end < 0:
            return
        _check_message(buffer, end, stream[offset:], step, response, control)
    except ProtocolError as error:
        if error.status not in (400, 413, 431):
            raise AssertionError(f"a server cannot answer {error.status}") from error


def _check_message(
    buffer: bytearray, end: int, rest: bytes, step: int, response: bool, control: int
) -> None:
    if response:
        head = parse_response_head(bytes(buffer[:end]), head_request=bool(control & 0x40))
        assert 100 <= head.status <= 999
    else:
        request = parse_request_head(bytes(buffer[:end]))
        assert request.method and request.target
        assert not (request.chunked and request.content_length is not None)
        head = request  # type: ignore[assignment]
    declared = head.content_length
    assert declared is None or declared >= 0
    reader = BodyReader(
        content_length=declared, chunked=head.chunked, max_bytes=MAX_BODY, response=response
    )
    del buffer[:end]
    body = 0
    for _ in range(2 * (len(rest) + len(buffer)) + 4):  # each read takes bytes, or ends
        piece = reader.read(buffer)
        if piece is None:
            if not rest:
                reader.read_eof()
                break
            buffer += rest[:step]
            rest = rest[step:]
            continue
        if piece == b"":
            break
        body += len(piece)
        assert body <= MAX_BODY
        assert declared is None or body <= declared
    else:
        raise AssertionError("the body reader made no progress")
    assert reader.done or not rest


def main() -> None:
    corpus_from_argv(sys.argv, SEEDS)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
