"""Incremental server-sent-events parsing, shared by every provider module.

Feed it bytes as they arrive; it returns the complete events. Accepts ``\\n``, ``\\r\\n``
and ``\\r`` line endings, comment lines (``: ping``), multi-line ``data``, and
``data:`` values with or without the optional space. The raw bytes of each event are
kept, so a passthrough can forward an event exactly as the provider sent it.
"""

from __future__ import annotations

from dataclasses import dataclass

from providers.garbage import ProviderGarbage


@dataclass(frozen=True, slots=True, kw_only=True)
class SseEvent:
    event: str | None
    data: str
    raw: bytes


MAX_EVENT_BYTES = 16 * 1024 * 1024
"""The largest single SSE event accepted (a Responses ``response.completed`` carries the
whole response); a bigger one, or bytes that never end an event, fail the attempt."""


class SseParser:
    """Turns a byte stream into ``SseEvent``s; one instance per stream.

    Buffering is linear: the pieces of an unfinished event are kept in a list and only
    each new chunk is searched for the blank line that ends it, so an event of n bytes
    arriving in k chunks costs O(n), not O(n·k). An event over ``max_event_bytes``
    raises ``ProviderGarbage``.
    """

    __slots__ = ("_after_cr", "_held", "_held_size", "_max_event")

    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self._held: list[bytes] = []  # an unfinished event's pieces (``\n`` line endings)
        self._held_size = 0
        self._after_cr = False
        self._max_event = max_event_bytes

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
        held = self._held
        if not held:
            return self._split(chunk, 0)
        ends_here = held[-1].endswith(b"\n") and chunk.startswith(b"\n")
        # ``b"\n" in`` is a memchr: a huge event without line breaks is skipped at its speed
        if not ends_here and (b"\n" not in chunk or b"\n\n" not in chunk):
            self._hold(chunk)
            return []
        held.append(chunk)
        searched = self._held_size - 1  # the held pieces hold no blank line: skip them
        buffer = b"".join(held)
        held.clear()
        self._held_size = 0
        return self._split(buffer, max(0, searched))

    def _split(self, buffer: bytes, search_from: int) -> list[bytes]:
        blocks: list[bytes] = []
        start = 0
        limit = self._max_event
        end = buffer.find(b"\n\n", search_from)  # the first event ends after search_from
        if end >= 0 and end == len(buffer) - 2:  # exactly one event (one per chunk is usual)
            if end > limit:
                _too_large(limit)
            return [buffer]
        while end >= 0:
            if end - start > limit:
                _too_large(limit)
            blocks.append(buffer[start : end + 2])
            start = end + 2
            end = buffer.find(b"\n\n", start)
        if start < len(buffer):
            self._hold(buffer[start:] if start else buffer)
        return blocks

    def _hold(self, piece: bytes) -> None:
        if not piece:
            return
        self._held_size += len(piece)
        if self._held_size > self._max_event:
            _too_large(self._max_event)
        self._held.append(piece)

    def pending(self) -> bytes:
        """Bytes of an event not yet terminated (a stream cut mid-event leaves some)."""
        return b"".join(self._held)


def _too_large(limit: int) -> None:
    raise ProviderGarbage(f"the upstream sent an SSE event over {limit} bytes")


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
    if not block.startswith(b"data: ", end + 1) or block.find(b"\n", end + 1) != len(block) - 2:
        return None
    return block[7:end].strip()


def common_block_split(block: bytes) -> tuple[bytes, bytes] | None:
    """The event name and the raw data of a block in the common shape (as
    ``common_block_name``), without decoding either; None for any other shape."""
    if not block.startswith(b"event: "):
        return None
    end = block.find(b"\n")
    if not block.startswith(b"data: ", end + 1) or block.find(b"\n", end + 1) != len(block) - 2:
        return None
    return block[7:end].strip(), block[end + 7 : -2]


def common_block_data(block: bytes) -> bytes | None:
    """The raw data of a block that is one ``data: value`` line and nothing else (a Chat
    Completions chunk), without decoding it; None for any other shape."""
    if not block.startswith(b"data: ") or block.find(b"\n") != len(block) - 2:
        return None
    return block[6:-2]


def _parse_common_block(block: bytes) -> SseEvent | None:
    """The shape nearly every provider sends, without splitting lines: an optional
    ``event: name`` line, then one ``data: value`` line. None for anything else."""
    name: str | None = None
    data_line = block
    if block.startswith(b"event: "):
        end = block.find(b"\n")
        name = _text(block[7:end]).strip()
        data_line = block[end + 1 :]
    if not data_line.startswith(b"data: ") or data_line.find(b"\n") != len(data_line) - 2:
        return None
    return SseEvent(event=name, data=_text(data_line[6:-2]), raw=block)


def _parse_any_block(block: bytes) -> SseEvent | None:
    name: str | None = None
    data_lines: list[str] = []
    for line in _text(block).split("\n"):
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


def _text(raw: bytes) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise ProviderGarbage("the upstream sent an SSE event that is not UTF-8") from None


def encode_sse(data: bytes, event: str | None = None) -> bytes:
    """One SSE event; ``data`` must be a single line (compact JSON is)."""
    if event is None:
        return b"data: " + data + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + data + b"\n\n"


__all__ = [
    "MAX_EVENT_BYTES",
    "SseEvent",
    "SseParser",
    "common_block_data",
    "common_block_name",
    "common_block_split",
    "encode_sse",
    "parse_block",
]
