"""Incremental server-sent-events parsing, shared by every provider module.

Feed it bytes as they arrive; it returns the complete events. Accepts ``\\n``, ``\\r\\n``
and ``\\r`` line endings, comment lines (``: ping``), multi-line ``data``, and
``data:`` values with or without the optional space. The raw bytes of each event are
kept, so a passthrough can forward an event exactly as the provider sent it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class SseEvent:
    event: str | None
    data: str
    raw: bytes


class SseParser:
    """Turns a byte stream into ``SseEvent``s; one instance per stream."""

    __slots__ = ("_after_cr", "_buffer")

    def __init__(self) -> None:
        self._buffer = b""  # line endings already made ``\n``
        self._after_cr = False

    def feed(self, chunk: bytes) -> list[SseEvent]:
        return [event for block in self.feed_blocks(chunk) if (event := parse_block(block))]

    def feed_blocks(self, chunk: bytes) -> list[bytes]:
        """The complete events' blocks, unparsed (``\n`` line endings, each ending in a
        blank line): for a passthrough that parses only the events it must look into."""
        if self._after_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]  # the rest of a CRLF split between two chunks
        self._after_cr = chunk.endswith(b"\r")
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        buffer = self._buffer + chunk
        blocks: list[bytes] = []
        start = 0
        while True:
            end = buffer.find(b"\n\n", start)
            if end < 0:
                break
            blocks.append(buffer[start : end + 2])
            start = end + 2
        self._buffer = buffer[start:]
        return blocks

    def pending(self) -> bytes:
        """Bytes of an event not yet terminated (a stream cut mid-event leaves some)."""
        return self._buffer


def parse_block(block: bytes) -> SseEvent | None:
    """One event from its block (``\n`` line endings, ending in a blank line); None for
    a block of comments only."""
    return _parse_common_block(block) or _parse_any_block(block)


def common_block_name(block: bytes) -> bytes | None:
    """The event name of a block in the common shape (``event: name`` then one
    ``data: value`` line), without decoding its data; None for any other shape."""
    if not block.startswith(b"event: "):
        return None
    end = block.find(b"\n")
    data_line = block[end + 1 :]
    if not data_line.startswith(b"data: ") or data_line.find(b"\n") != len(data_line) - 2:
        return None
    return block[7:end].strip()


def _parse_common_block(block: bytes) -> SseEvent | None:
    """The shape nearly every provider sends, without splitting lines: an optional
    ``event: name`` line, then one ``data: value`` line. None for anything else."""
    name: str | None = None
    data_line = block
    if block.startswith(b"event: "):
        end = block.find(b"\n")
        name = block[7:end].decode("utf-8", "replace").strip()
        data_line = block[end + 1 :]
    if not data_line.startswith(b"data: ") or data_line.find(b"\n") != len(data_line) - 2:
        return None
    return SseEvent(event=name, data=data_line[6:-2].decode("utf-8", "replace"), raw=block)


def _parse_any_block(block: bytes) -> SseEvent | None:
    name: str | None = None
    data_lines: list[str] = []
    for line in block.decode("utf-8", "replace").split("\n"):
        if not line or line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            data_lines.append(value)
        elif field == "event":
            name = value.strip()
    if not data_lines and name is None:
        return None
    return SseEvent(event=name, data="\n".join(data_lines), raw=block)


def encode_sse(data: bytes, event: str | None = None) -> bytes:
    """One SSE event; ``data`` must be a single line (compact JSON is)."""
    if event is None:
        return b"data: " + data + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + data + b"\n\n"


__all__ = ["SseEvent", "SseParser", "common_block_name", "encode_sse", "parse_block"]
