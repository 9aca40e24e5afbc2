"""Sans-I/O HTTP/1.1 message bodies: ``BodyReader`` takes one body out of a receive buffer.

A body is framed by a Content-Length, by chunked coding (chunk extensions
ignored, trailer fields vetted and dropped) or, for a response only, by the
connection closing. Chunk-size lines are held to ``1*16HEXDIG`` (no sign, no
``0x``, no space before an extension) and must end in CRLF, as must each chunk's
data; anything else is a ``ProtocolError``.
"""

from __future__ import annotations

import re

from http11.sansio.head import MAX_HEAD_BYTES, ProtocolError, check_trailer_section

MAX_CHUNK_LINE_BYTES = 4096
"""The longest chunk-size line (size and extensions) accepted."""

_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]{1,16})(?:;[\t\x20-\x7e\x80-\xff]*)?[ \t]*")
_TRAILERS_END = re.compile(rb"\n\r?\n")
_LENGTH, _SIZE_LINE, _CHUNK_DATA, _CHUNK_END, _TRAILERS, _UNTIL_CLOSE, _DONE = range(7)


class BodyTooLarge(ProtocolError):
    """The body is (or announces itself as) larger than the reader's ``max_bytes``."""

    def __init__(self) -> None:
        super().__init__("the message body is too large", status=413)


class BodyReader:
    """Reads one message body, piece by piece, out of the connection's receive buffer.

    ``content_length`` None means chunked if ``chunked``, else until the peer
    closes. ``max_bytes`` caps what the body may announce or bring
    (``BodyTooLarge``); ``response`` selects the leniency for trailer fields.
    """

    __slots__ = ("_mode", "_remaining", "_response", "_room", "_searched")

    def __init__(
        self,
        *,
        content_length: int | None,
        chunked: bool,
        max_bytes: int | None = None,
        response: bool = False,
    ) -> None:
        self._response = response
        self._room = max_bytes
        self._searched = 0
        self._remaining = 0
        if content_length is not None:
            self._mode = _LENGTH
            self._remaining = content_length
            self._take_room(content_length)
        else:
            self._mode = _SIZE_LINE if chunked else _UNTIL_CLOSE

    @property
    def done(self) -> bool:
        """True once the whole body has been read."""
        return self._mode == _DONE

    def read(self, buffer: bytearray) -> bytes | None:
        """Take the next piece of the body out of ``buffer``.

        Returns non-empty data, b"" once the body is complete (and ever after),
        or None when ``buffer`` holds none of what comes next yet.
        """
        mode = self._mode
        if mode == _LENGTH:
            if not self._remaining:
                self._mode = _DONE
                return b""
            return self._take_data(buffer) if buffer else None
        if mode == _CHUNK_DATA:
            return self._take_data(buffer) if buffer else None
        if mode == _UNTIL_CLOSE:
            if not buffer:
                return None
            self._take_room(len(buffer))
            piece = bytes(buffer)
            del buffer[:]
            return piece
        if mode == _DONE:
            return b""
        return self._read_chunk_framing(buffer)

    def read_eof(self) -> None:
        """The peer closed: the body ends here if it may, else ``ProtocolError``.

        Call it once ``read`` returned None and no more data will come.
        """
        if self._mode == _UNTIL_CLOSE:
            self._mode = _DONE
        elif self._mode != _DONE:
            raise ProtocolError("the peer closed the connection in the middle of a body")

    def _take_data(self, buffer: bytearray) -> bytes:
        remaining = self._remaining
        if len(buffer) <= remaining:
            piece = bytes(buffer)
            del buffer[:]
        else:
            piece = bytes(buffer[:remaining])
            del buffer[:remaining]
        self._remaining = remaining = remaining - len(piece)
        if not remaining and self._mode == _CHUNK_DATA:
            self._mode = _CHUNK_END
        return piece

    def _take_room(self, size: int) -> None:
        if self._room is not None:
            self._room -= size
            if self._room < 0:
                raise BodyTooLarge

    def _read_chunk_framing(self, buffer: bytearray) -> bytes | None:
        """Step over chunk ends, size lines and the trailers up to the next data."""
        while True:
            mode = self._mode
            if mode == _CHUNK_END:
                if len(buffer) < 2:
                    if buffer and buffer[0] != 0x0D:
                        raise ProtocolError("chunk data not followed by CRLF")
                    return None
                if buffer[0] != 0x0D or buffer[1] != 0x0A:
                    raise ProtocolError("chunk data not followed by CRLF")
                del buffer[:2]
                self._mode = _SIZE_LINE
            elif mode == _SIZE_LINE:
                run = self._read_whole_chunks(buffer)
                if run:
                    return run
                if not self._read_size_line(buffer):
                    return None
            elif mode == _CHUNK_DATA:
                return self._take_data(buffer) if buffer else None
            elif mode == _TRAILERS:
                return self._read_trailers(buffer)
            else:
                return b""

    def _read_whole_chunks(self, buffer: bytearray) -> bytes:
        """The data of the complete chunks at the start of ``buffer`` (size line, data and
        CRLF all there), as one piece, taken out in one go: a stream's events arrive as
        one chunk each, often many per receive. Stops before anything else (a chunk not
        all there, the last chunk, a line to reject): the step-by-step reading that
        follows takes it, and raises what it raises, exactly as without this."""
        end = buffer.find(b"\r\n")
        if end < 0:
            return b""
        taken = 0
        pieces: list[memoryview] = []
        with memoryview(buffer) as view:
            while end >= 0 and end - taken <= MAX_CHUNK_LINE_BYTES:
                line = _CHUNK_LINE.fullmatch(buffer, taken, end)
                if line is None:
                    break
                size = int(line.group(1), 16)
                data_end = end + 2 + size
                if not size or buffer[data_end : data_end + 2] != b"\r\n":
                    break  # the last chunk, or one not all here (or ill-terminated)
                if self._room is not None and size > self._room:
                    break  # too large: said after the chunks before it, as step by step
                self._take_room(size)
                pieces.append(view[end + 2 : data_end])
                taken = data_end + 2
                end = buffer.find(b"\r\n", taken)
            data = b"".join(pieces)
            pieces.clear()
        if taken:
            del buffer[:taken]
        return data

    def _read_size_line(self, buffer: bytearray) -> bool:
        end = buffer.find(b"\r\n")
        if end < 0:
            if len(buffer) > MAX_CHUNK_LINE_BYTES:
                raise ProtocolError("chunk-size line too long")
            return False
        line = _CHUNK_LINE.fullmatch(buffer, 0, end)
        if line is None:
            raise ProtocolError("invalid chunk-size line")
        size = int(line.group(1), 16)
        del buffer[: end + 2]
        if size:
            self._take_room(size)
            self._remaining = size
            self._mode = _CHUNK_DATA
        else:
            self._mode = _TRAILERS
        return True

    def _read_trailers(self, buffer: bytearray) -> bytes | None:
        if buffer[:1] == b"\n" or buffer[:2] == b"\r\n":  # no trailer fields (the usual case)
            del buffer[: 1 if buffer[0] == 0x0A else 2]
            self._mode = _DONE
            return b""
        if buffer[:1] == b"\r" and len(buffer) == 1:
            return None
        found = _TRAILERS_END.search(buffer, max(0, self._searched - 2))
        if found is None:
            if len(buffer) >= MAX_HEAD_BYTES:
                raise ProtocolError("chunked trailer section too large", status=431)
            self._searched = len(buffer)
            return None
        check_trailer_section(buffer[: found.end()], response=self._response)
        del buffer[: found.end()]
        self._mode = _DONE
        return b""
