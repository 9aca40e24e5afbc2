"""Strict, sans-I/O WebSocket (RFC 6455) for the server side: the opening handshake and
the frames a client sends, as pure functions over bytes (no sockets, no trio).

``handshake_problem`` vets an upgrade request's head and ``accept_headers`` answers it
(no subprotocol, no extension: a client's offer of ``permessage-deflate`` is declined,
so every frame is plain). ``FrameReader`` takes received bytes and yields whole
messages, pings, pongs and the close; ``encode_frame`` / ``encode_close`` build the
server's (unmasked) frames.

Every violation is a ``WebSocketError`` carrying the close code to answer with:
1002 for a protocol error (an unmasked client frame, reserved bits or opcodes, a
fragmented or oversized control frame, a continuation out of place, a non-minimal or
63-bit-overflowing length, a bad close payload), 1007 for text or a close reason that
is not UTF-8, 1009 for a message over the reader's limit (checked from the frame
header, before its payload is buffered).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
_DATA_OPCODES = frozenset({OP_TEXT, OP_BINARY})
_CONTROL_OPCODES = frozenset({OP_CLOSE, OP_PING, OP_PONG})

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_NO_STATUS = 1005
CLOSE_INVALID_DATA = 1007
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011
CLOSE_TRY_AGAIN_LATER = 1013

_MAX_CONTROL_PAYLOAD = 125
_SENDABLE_CLOSE_CODES = frozenset(range(1000, 1004)) | frozenset(range(1007, 1015))


class WebSocketError(Exception):
    """The peer broke the protocol; close the connection with ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """A whole data message; text is already checked to be UTF-8 (kept as bytes)."""

    text: bool
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Ping:
    payload: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Pong:
    payload: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Close:
    code: int
    """The peer's code, or 1005 when its close frame carried none."""
    reason: str


Event = Message | Ping | Pong | Close


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    values = [value for key, value in headers if key == name]
    return ", ".join(values) if values else None


def _tokens(value: str | None) -> set[str]:
    return {token.strip().lower() for token in (value or "").split(",")}


def is_upgrade_request(headers: Sequence[tuple[str, str]]) -> bool:
    """True if the request asks to switch to WebSocket (``Upgrade: websocket``)."""
    return "websocket" in _tokens(_header(headers, "upgrade"))


def handshake_problem(method: str, headers: Sequence[tuple[str, str]]) -> str | None:
    """Why this upgrade request cannot be accepted (answer 400, or 426 for a version
    other than 13), or None if it can."""
    if method != "GET":
        return "a WebSocket upgrade must be a GET"
    if "upgrade" not in _tokens(_header(headers, "connection")):
        return "a WebSocket upgrade needs 'Connection: Upgrade'"
    if _header(headers, "sec-websocket-version") != "13":
        return "unsupported WebSocket version: use 13"
    key = _header(headers, "sec-websocket-key")
    if key is None or _key_bytes(key) != 16:
        return "Sec-WebSocket-Key must be 16 bytes in base64"
    return None


def _key_bytes(key: str) -> int:
    try:
        return len(base64.b64decode(key.strip(), validate=True))
    except (binascii.Error, ValueError):
        return -1


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for the client's ``Sec-WebSocket-Key``."""
    digest = hashlib.sha1((key.strip() + GUID).encode("ascii")).digest()  # RFC 6455 names SHA-1
    return base64.b64encode(digest).decode("ascii")


def accept_headers(headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The 101 answer's own headers (the writer adds ``Upgrade`` and ``Connection``)."""
    key = _header(headers, "sec-websocket-key") or ""
    return [("sec-websocket-accept", accept_key(key))]


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked frame (the server's side)."""
    size = len(payload)
    if size < 126:
        head = bytes((0x80 | opcode, size))
    elif size < 1 << 16:
        head = bytes((0x80 | opcode, 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 127)) + size.to_bytes(8, "big")
    return head + payload


def encode_close(code: int, reason: str = "") -> bytes:
    """A close frame with ``code`` and a reason cut to fit a control frame."""
    cut = reason.encode("utf-8")[: _MAX_CONTROL_PAYLOAD - 2].decode("utf-8", "ignore")
    return encode_frame(OP_CLOSE, code.to_bytes(2, "big") + cut.encode("utf-8"))


def _unmask(payload: bytes, mask: bytes) -> bytes:
    size = len(payload)
    if not size:
        return payload
    repeated = (mask * (size // 4 + 1))[:size]
    value = int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")
    return value.to_bytes(size, "little")


class FrameReader:
    """Client frames in, events out. ``feed`` the bytes received, then call ``next_event``
    until it returns None (more bytes needed); it raises ``WebSocketError`` on a violation."""

    __slots__ = ("_buffer", "_max_message_bytes", "_parts", "_parts_size", "_parts_text")

    def __init__(self, *, max_message_bytes: int) -> None:
        self._buffer = bytearray()
        self._max_message_bytes = max_message_bytes
        self._parts: list[bytes] = []
        self._parts_size = 0
        self._parts_text: bool | None = None  # None: no fragmented message under way

    @property
    def mid_message(self) -> bool:
        """True while bytes of an unfinished frame or message are held."""
        return bool(self._buffer) or self._parts_text is not None

    @property
    def held(self) -> int:
        """Bytes held: unparsed input and the parts of a fragmented message."""
        return len(self._buffer) + self._parts_size

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def next_event(self) -> Event | None:
        while True:
            frame = self._next_frame()
            if frame is None:
                return None
            fin, opcode, payload = frame
            if opcode in _CONTROL_OPCODES:
                return _control_event(opcode, payload)
            event = self._data_frame(fin, opcode, payload)
            if event is not None:
                return event

    def _next_frame(self) -> tuple[bool, int, bytes] | None:
        buffer = self._buffer
        if len(buffer) < 2:
            return None
        first, second = buffer[0], buffer[1]
        fin, opcode = bool(first & 0x80), first & 0x0F
        self._check_head(first, second, fin, opcode)
        size, offset = second & 0x7F, 2
        if size >= 126:
            width = 2 if size == 126 else 8
            if len(buffer) < 2 + width:
                return None
            size = int.from_bytes(buffer[2 : 2 + width], "big")
            offset += width
            _check_length(size, width)
        self._check_size(opcode, size)
        if len(buffer) < offset + 4 + size:
            return None
        mask = bytes(buffer[offset : offset + 4])
        payload = _unmask(bytes(buffer[offset + 4 : offset + 4 + size]), mask)
        del buffer[: offset + 4 + size]
        return fin, opcode, payload

    @staticmethod
    def _check_head(first: int, second: int, fin: bool, opcode: int) -> None:
        if first & 0x70:
            raise WebSocketError(CLOSE_PROTOCOL_ERROR, "reserved bits set (no extension agreed)")
        if opcode not in _CONTROL_OPCODES and opcode not in _DATA_OPCODES and opcode:
            raise WebSocketError(CLOSE_PROTOCOL_ERROR, f"unknown opcode {opcode:#x}")
        if not second & 0x80:
            raise WebSocketError(CLOSE_PROTOCOL_ERROR, "a client frame must be masked")
        if opcode in _CONTROL_OPCODES and (not fin or (second & 0x7F) > _MAX_CONTROL_PAYLOAD):
            raise WebSocketError(CLOSE_PROTOCOL_ERROR, "control frames are final and short")

    def _check_size(self, opcode: int, size: int) -> None:
        if opcode in _CONTROL_OPCODES:
            return
        if self._parts_size + size > self._max_message_bytes:
            limit = self._max_message_bytes
            raise WebSocketError(CLOSE_TOO_BIG, f"message larger than {limit} bytes")

    def _data_frame(self, fin: bool, opcode: int, payload: bytes) -> Message | None:
        if opcode == OP_CONTINUATION:
            if self._parts_text is None:
                raise WebSocketError(CLOSE_PROTOCOL_ERROR, "continuation without a message")
            text = self._parts_text
        else:
            if self._parts_text is not None:
                raise WebSocketError(CLOSE_PROTOCOL_ERROR, "new message inside a fragmented one")
            text = opcode == OP_TEXT
        if not fin:
            self._parts.append(payload)
            self._parts_size += len(payload)
            self._parts_text = text
            return None
        if self._parts:
            payload = b"".join((*self._parts, payload))
            self._parts, self._parts_size, self._parts_text = [], 0, None
        if text:
            _check_utf8(payload, "text message")
        return Message(text=text, data=payload)


def _check_length(size: int, width: int) -> None:
    if width == 8 and size >> 63:
        raise WebSocketError(CLOSE_PROTOCOL_ERROR, "frame length has its top bit set")
    if size < (126 if width == 2 else 1 << 16):
        raise WebSocketError(CLOSE_PROTOCOL_ERROR, "frame length not in its shortest form")


def _check_utf8(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise WebSocketError(CLOSE_INVALID_DATA, f"{what} is not UTF-8") from None


def _control_event(opcode: int, payload: bytes) -> Event:
    if opcode == OP_PING:
        return Ping(payload=payload)
    if opcode == OP_PONG:
        return Pong(payload=payload)
    if not payload:
        return Close(code=CLOSE_NO_STATUS, reason="")
    if len(payload) == 1:
        raise WebSocketError(CLOSE_PROTOCOL_ERROR, "close payload of one byte")
    code = int.from_bytes(payload[:2], "big")
    if code not in _SENDABLE_CLOSE_CODES and not 3000 <= code <= 4999:
        raise WebSocketError(CLOSE_PROTOCOL_ERROR, f"invalid close code {code}")
    return Close(code=code, reason=_check_utf8(payload[2:], "close reason"))


__all__ = [
    "CLOSE_GOING_AWAY",
    "CLOSE_INTERNAL_ERROR",
    "CLOSE_INVALID_DATA",
    "CLOSE_NORMAL",
    "CLOSE_NO_STATUS",
    "CLOSE_POLICY",
    "CLOSE_PROTOCOL_ERROR",
    "CLOSE_TOO_BIG",
    "CLOSE_TRY_AGAIN_LATER",
    "CLOSE_UNSUPPORTED_DATA",
    "OP_BINARY",
    "OP_CLOSE",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "Close",
    "Event",
    "FrameReader",
    "Message",
    "Ping",
    "Pong",
    "WebSocketError",
    "accept_headers",
    "accept_key",
    "encode_close",
    "encode_frame",
    "handshake_problem",
    "is_upgrade_request",
]
