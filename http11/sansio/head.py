"""Strict, sans-I/O HTTP/1.1 message heads for the gateway's server and upstream client.

Pure functions over bytes (no sockets, no trio): ``find_head_end`` finds where a
head ends in a receive buffer, ``parse_request_head`` / ``parse_response_head``
turn it into a frozen head with its body framing decided, and
``encode_request_head`` builds an outgoing request head. Bodies are taken out of
the buffer by ``http11.sansio.body.BodyReader``.

Leniency follows h11 where it is safe (bare LF line ends in a head, any case of
``chunked``, obs-text in values); everything request smuggling feeds on is an
error (``ProtocolError``, with the status a server answers): Content-Length and
Transfer-Encoding together, more than one Content-Length or a list of them, any
Transfer-Encoding but a single ``chunked`` (and none in HTTP/1.0), obs-fold,
whitespace before a colon, non-token methods and names, control characters in a
request head, a request-target with spaces or controls, versions other than
HTTP/1.0 and HTTP/1.1, a missing (HTTP/1.1) or repeated Host; a head over
``MAX_HEAD_BYTES`` or with more than ``MAX_HEADERS`` fields is a 431.

Response heads from upstreams keep h11's tolerance for control characters other
than NUL, CR, LF, VT and FF in field values (real servers send them in cookies);
their framing fields are held to the request rules.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MAX_HEAD_BYTES = 64 * 1024
"""The largest head accepted, from its first byte through the blank line."""
MAX_HEADERS = 100
"""The most header fields in one head (or one chunked trailer section)."""

Headers = tuple[tuple[str, str], ...]
"""Field names lower-cased, values decoded as latin-1 without surrounding whitespace."""

_TOKEN = r"[-!#$%&'*+.^_`|~0-9A-Za-z]+"
_HEAD_END = re.compile(rb"\n\r?\n")
_REQUEST_LINE = re.compile(rf"({_TOKEN}) ([\x21-\x7e]+) HTTP/1\.([01])")
_STATUS_LINE = re.compile(r"HTTP/1\.([01]) ([0-9]{3})(?: [^\n]*)?")
# Once CRLFs are LFs, each field line is "token:value\n" from a line start (a head is
# valid only if every line matches); the value's characters were vetted before. Linear:
# the value's greedy run only ever backs off over trailing whitespace.
_FIELD_LINE = re.compile(rf"^({_TOKEN}):[ \t]*((?:[^\n]*[^ \t\n])?)[ \t]*\n", re.MULTILINE)
# Bytes a head may hold: what remains after deleting these is what is wrong.
_REQUEST_HEAD_BYTES = b"\t\n\r" + bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100))
_RESPONSE_HEAD_BYTES = bytes(b for b in range(0x100) if b not in (0x00, 0x0B, 0x0C))
_OUTGOING_HEAD = re.compile(
    rf"{_TOKEN} [\x21-\x7e]+ HTTP/1\.1\r\n"
    rf"(?:{_TOKEN}: (?:[\x21-\x7e]+(?:[ \t]+[\x21-\x7e]+)*)?\r\n)*\r\n"
)
_OUTGOING_NAMES = re.compile(rf"(?:{_TOKEN}(?: {_TOKEN})*)?")
_FRAMING_FIELDS = frozenset({"content-length", "transfer-encoding", "connection", "expect", "host"})
_MAX_LENGTH_DIGITS = 20
_NO_BODY_STATUSES = frozenset({204, 304})


class ProtocolError(Exception):
    """The peer's bytes are not HTTP/1.1 we accept; ``status`` is what a server answers."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestHead:
    """A parsed request head and how its body is framed."""

    method: str
    target: str
    http_1_0: bool
    headers: Headers
    content_length: int | None
    """The body's length; None when it is chunked."""
    chunked: bool
    keep_alive: bool
    """Whether the client lets the connection carry another request after this one."""
    expects_continue: bool
    """``Expect: 100-continue`` (HTTP/1.1 only): the client waits for a 100 before the body."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseHead:
    """A parsed response head and how its body is framed (given the request it answers)."""

    status: int
    http_1_0: bool
    headers: Headers
    content_length: int | None
    """The body's length (0 for 1xx, 204, 304 and HEAD); None when chunked or until close."""
    chunked: bool
    keep_alive: bool
    """Whether the server lets the connection carry another exchange after this one."""


_Framing = tuple[int | None, bool, list[str], list[str], int]
"""What the framing fields of a head say: Content-Length, chunked, the Connection and
Expect tokens (lower-cased), the number of Host fields."""


def find_head_end(buffer: bytes | bytearray, searched: int = 0) -> int:
    """The index just past the blank line that ends the head starting ``buffer``, or -1.

    ``searched``: how many bytes of ``buffer`` an earlier call already searched.
    Raises ``ProtocolError`` when the buffer cannot start a message, and with
    status 431 once the head is (or would be) longer than ``MAX_HEAD_BYTES``.
    """
    if buffer and buffer[0] < 0x21:
        raise ProtocolError("the message does not start with a request or status line")
    match = _HEAD_END.search(buffer, max(0, searched - 2))
    if match is None:
        if len(buffer) >= MAX_HEAD_BYTES:
            raise ProtocolError("the message head is too large", status=431)
        return -1
    end = match.end()
    if end > MAX_HEAD_BYTES:
        raise ProtocolError("the message head is too large", status=431)
    return end


def parse_request_head(head: bytes | bytearray) -> RequestHead:
    """Parse a request head (through its blank line, as ``find_head_end`` delimits it)."""
    text = _head_text(head, _REQUEST_HEAD_BYTES)
    line_end = text.find("\n")
    line = _REQUEST_LINE.fullmatch(text, 0, line_end)
    if line is None:
        raise ProtocolError("invalid request line")
    method, target, minor = line.groups()
    http_1_0 = minor == "0"
    headers = _parse_fields(text, line_end + 1)
    content_length, chunked, connection, expect, hosts = _read_framing(headers, http_1_0)
    if hosts > 1 or (hosts == 0 and not http_1_0):
        raise ProtocolError("an HTTP/1.1 request needs exactly one Host header")
    return RequestHead(
        method=method,
        target=target,
        http_1_0=http_1_0,
        headers=headers,
        content_length=None if chunked else content_length or 0,
        chunked=chunked,
        # HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 only if told to keep it.
        keep_alive="close" not in connection and (not http_1_0 or "keep-alive" in connection),
        expects_continue=not http_1_0 and "100-continue" in expect,
    )


def parse_response_head(head: bytes | bytearray, *, head_request: bool) -> ResponseHead:
    """Parse a response head; ``head_request``: it answers a HEAD, so it has no body."""
    text = _head_text(head, _RESPONSE_HEAD_BYTES)
    line_end = text.find("\n")
    line = _STATUS_LINE.fullmatch(text, 0, line_end)
    if line is None or line.group(2) < "100":
        raise ProtocolError("invalid status line")
    http_1_0 = line.group(1) == "0"
    status = int(line.group(2))
    headers = _parse_fields(text, line_end + 1)
    content_length, chunked, connection, _, _ = _read_framing(headers, http_1_0)
    if status < 200 or status in _NO_BODY_STATUSES or head_request:
        content_length, chunked = 0, False
    return ResponseHead(
        status=status,
        http_1_0=http_1_0,
        headers=headers,
        content_length=content_length,
        chunked=chunked,
        keep_alive=(
            not http_1_0 and "close" not in connection and (chunked or content_length is not None)
        ),
    )


def check_trailer_section(section: bytes | bytearray, *, response: bool) -> None:
    """Vet a chunked body's trailer section (through its blank line); its fields are dropped."""
    text = _head_text(section, _RESPONSE_HEAD_BYTES if response else _REQUEST_HEAD_BYTES)
    _parse_fields(text, 0, trailers=True)


def _parse_fields(text: str, start: int, *, trailers: bool = False) -> Headers:
    """The field lines of ``text[start:]``, which ends with the blank line ("\\n" only).

    ``text`` comes from ``_head_text``. A trailer section may not carry framing fields.
    """
    end = len(text) - 1
    lines = text.count("\n", start, end)
    if lines > MAX_HEADERS:
        raise ProtocolError("too many header fields", status=431)
    fields = _FIELD_LINE.findall(text, start, end)
    if len(fields) != lines:
        raise ProtocolError("invalid header line (obs-fold, space before a colon, bad name)")
    headers = tuple([(name.lower(), value) for name, value in fields])
    if trailers and any(name in _FRAMING_FIELDS for name, _ in headers):
        raise ProtocolError("framing header in a chunked trailer section")
    return headers


def encode_request_head(method: str, target: str, headers: Sequence[tuple[str, str]]) -> bytes:
    """``method target HTTP/1.1``, the header lines as given, the blank line.

    Raises ValueError (naming no value: they may be credentials) for a method or
    name that is not a token, a target that is not visible ASCII, or a value with
    anything but visible ASCII and inner spaces or tabs (so no CR/LF injection).
    """
    lines = "".join([f"{name}: {value}\r\n" for name, value in headers])
    text = f"{method} {target} HTTP/1.1\r\n{lines}\r\n"
    if (
        _OUTGOING_HEAD.fullmatch(text) is None
        or text.count("\n") != len(headers) + 2
        or _OUTGOING_NAMES.fullmatch(" ".join([name for name, _ in headers])) is None
    ):
        raise ValueError("request method, path or headers are not valid HTTP/1.1") from None
    return text.encode("ascii")


def _head_text(head: bytes | bytearray, allowed: bytes) -> str:
    """The head as text with LF line ends, once no byte in it is out of place."""
    wrong = head.translate(None, allowed)
    if wrong:
        raise ProtocolError(f"invalid character {bytes(wrong[:1])!r} in the message head")
    text = head.decode("latin-1").replace("\r\n", "\n")
    if "\r" in text:
        raise ProtocolError("CR without LF in the message head")
    return text


def _read_framing(headers: Headers, http_1_0: bool) -> _Framing:
    content_length: int | None = None
    chunked = False
    connection: list[str] = []
    expect: list[str] = []
    hosts = 0
    for name, value in headers:
        if name not in _FRAMING_FIELDS:
            continue
        if name == "content-length":
            if content_length is not None:
                raise ProtocolError("more than one Content-Length")
            content_length = _content_length(value)
        elif name == "transfer-encoding":
            if chunked or value.lower() != "chunked":
                raise ProtocolError("Transfer-Encoding other than one chunked coding")
            chunked = True
        elif name == "host":
            hosts += 1
        else:
            tokens = connection if name == "connection" else expect
            tokens += [token.strip() for token in value.lower().split(",")]
    if chunked and (content_length is not None or http_1_0):
        raise ProtocolError("Transfer-Encoding with Content-Length or in HTTP/1.0")
    return content_length, chunked, connection, expect, hosts


def _content_length(value: str) -> int:
    if not (value.isdigit() and value.isascii() and len(value) <= _MAX_LENGTH_DIGITS):
        raise ProtocolError("invalid Content-Length")
    return int(value)
