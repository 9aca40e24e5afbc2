"""Request bodies sent with ``Content-Encoding`` (Codex compresses its bodies with zstd
when logged in with ChatGPT), decoded with a bounded output: pure, no I/O.

``decode_body`` undoes ``zstd``, ``gzip`` (or ``x-gzip``) and ``deflate`` (zlib, or raw
deflate as some clients send it), and ``identity``; a list of codings is undone last
first. It never holds more than ``max_bytes`` + one read of output, whatever the input
claims: a decompression bomb is a ``ContentCodingError`` with status 413, a corrupt or
truncated body 400, a coding it does not know 415.
"""

from __future__ import annotations

import io
import zlib

import zstandard

_READ = 64 * 1024


class ContentCodingError(Exception):
    """The body cannot be decoded; ``status`` is what a server answers (400, 413, 415)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def codings(header: str | None) -> list[str]:
    """The codings named by a ``Content-Encoding`` value, in the order applied."""
    if header is None:
        return []
    return [c.strip().lower() for c in header.split(",") if c.strip().lower() != "identity"]


def decode_body(body: bytes, header: str | None, *, max_bytes: int) -> bytes:
    """``body`` with every coding of ``header`` undone; raises ``ContentCodingError``."""
    for coding in reversed(codings(header)):
        if coding == "zstd":
            body = _zstd(body, max_bytes)
        elif coding in ("gzip", "x-gzip"):
            body = _zlib(body, max_bytes, zlib.MAX_WBITS | 16, coding)
        elif coding == "deflate":
            raw = body[:1] and (body[0] & 0x0F) != 8  # no zlib header: raw deflate
            body = _zlib(body, max_bytes, -zlib.MAX_WBITS if raw else zlib.MAX_WBITS, coding)
        else:
            message = f"unsupported Content-Encoding {coding[:32]!r}: use zstd, gzip or deflate"
            raise ContentCodingError(415, message)
    return body


def _too_large(max_bytes: int) -> ContentCodingError:
    return ContentCodingError(413, f"request body too large once decoded: over {max_bytes} bytes")


def _zstd(body: bytes, max_bytes: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    try:
        source = io.BytesIO(body)
        with zstandard.ZstdDecompressor().stream_reader(source, read_across_frames=True) as reader:
            while chunk := reader.read(_READ):
                size += len(chunk)
                if size > max_bytes:
                    raise _too_large(max_bytes)
                parts.append(chunk)
        # the output is known to be small now: check that every frame is whole
        rest = body
        while rest:
            frame = zstandard.ZstdDecompressor().decompressobj()
            frame.decompress(rest)
            if not frame.eof:
                raise ContentCodingError(400, "the zstd body is truncated")
            rest = frame.unused_data
    except zstandard.ZstdError as exc:
        raise ContentCodingError(400, f"the zstd body cannot be decoded: {exc}") from None
    return b"".join(parts)


def _zlib(body: bytes, max_bytes: int, wbits: int, coding: str) -> bytes:
    decoder = zlib.decompressobj(wbits)
    parts: list[bytes] = []
    size = 0
    pending = body
    try:
        while pending or not decoder.eof:
            chunk = decoder.decompress(pending, _READ)
            pending = decoder.unconsumed_tail
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(max_bytes)
            parts.append(chunk)
            if not chunk and not pending:
                break
    except zlib.error as exc:
        raise ContentCodingError(400, f"the {coding} body cannot be decoded: {exc}") from None
    if not decoder.eof or decoder.unused_data:
        raise ContentCodingError(400, f"the {coding} body is truncated or has trailing bytes")
    return b"".join(parts)


__all__ = ["ContentCodingError", "codings", "decode_body"]
