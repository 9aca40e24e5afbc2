"""A small WebSocket client over a raw trio socket, for talking to the real gateway the way
Codex does (and the ways Codex never would): the upgrade, masked frames of any shape,
the server's frames read back whole."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

import orjson
import trio

from http11.sansio.websocket import OP_CLOSE, OP_TEXT, accept_key
from tests.gateway_rig import VIRTUAL_KEY
from tests.http11.test_websocket_sansio import client_frame


@dataclass
class ServerFrame:
    opcode: int
    payload: bytes

    def json(self) -> dict[str, object]:
        value = orjson.loads(self.payload)
        assert isinstance(value, dict)
        return value

    @property
    def close_code(self) -> int:
        assert self.opcode == OP_CLOSE
        return int.from_bytes(self.payload[:2], "big")


class SocketClient:
    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.buffer = bytearray()
        self.status = 0
        self.head = b""

    async def __aenter__(self) -> SocketClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stream.aclose()

    async def send_raw(self, data: bytes) -> None:
        await self.stream.send_all(data)

    async def send_json(self, message: dict[str, object]) -> None:
        await self.send_raw(client_frame(OP_TEXT, orjson.dumps(message)))

    async def _fill(self) -> bool:
        data = await self.stream.receive_some(65536)
        self.buffer += data
        return bool(data)

    async def read_head(self) -> bytes:
        while b"\r\n\r\n" not in self.buffer:
            if not await self._fill():
                raise EOFError("closed before the response head")
        head, _, rest = bytes(self.buffer).partition(b"\r\n\r\n")
        self.buffer = bytearray(rest)
        self.head = head
        self.status = int(head.split(b" ", 2)[1])
        return head

    async def frame(self) -> ServerFrame | None:
        """The server's next frame, or None once it closed the TCP connection."""
        while True:
            if len(self.buffer) >= 2:
                size, offset = self.buffer[1] & 0x7F, 2
                assert not self.buffer[1] & 0x80, "a server frame must not be masked"
                if size >= 126:
                    width = 2 if size == 126 else 8
                    size = int.from_bytes(self.buffer[2 : 2 + width], "big")
                    offset += width
                if len(self.buffer) >= offset + size:
                    opcode = self.buffer[0] & 0x0F
                    payload = bytes(self.buffer[offset : offset + size])
                    del self.buffer[: offset + size]
                    return ServerFrame(opcode=opcode, payload=payload)
            if not await self._fill():
                return None

    async def events_until_done(self) -> list[dict[str, object]]:
        """Text messages up to ``response.completed``/``response.failed`` or an error."""
        found: list[dict[str, object]] = []
        while (frame := await self.frame()) is not None:
            assert frame.opcode == OP_TEXT, frame
            event = frame.json()
            found.append(event)
            kind = event.get("type")
            # an "error" with a status ends the exchange (Codex's wrapped HTTP error); one
            # without is the in-stream error that a response.failed follows
            if kind in ("response.completed", "response.failed") or "status" in event:
                return found
        return found


async def open_socket(
    base_url: str,
    path: str = "/v1/responses",
    *,
    key: str | None = VIRTUAL_KEY,
    extra: tuple[tuple[str, str], ...] = (),
) -> SocketClient:
    """Connect and send the upgrade request; the caller reads the head."""
    host_port = base_url.removeprefix("http://")
    host, _, port = host_port.rpartition(":")
    stream = await trio.open_tcp_stream(host, int(port))
    nonce = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"host: {host_port}",
        "connection: Upgrade",
        "upgrade: websocket",
        "sec-websocket-version: 13",
        f"sec-websocket-key: {nonce}",
        "sec-websocket-extensions: permessage-deflate; client_max_window_bits",
        "openai-beta: responses_websockets=2026-02-06",
        *([f"authorization: Bearer {key}"] if key else []),
        *(f"{name}: {value}" for name, value in extra),
    ]
    client = SocketClient(stream)
    await client.send_raw(("\r\n".join(lines) + "\r\n\r\n").encode())
    client.head = nonce.encode()
    return client


async def accepted_socket(base_url: str, **kwargs: object) -> SocketClient:
    client = await open_socket(base_url, **kwargs)  # type: ignore[arg-type]
    nonce = client.head.decode()
    head = await client.read_head()
    assert client.status == 101, head
    assert f"sec-websocket-accept: {accept_key(nonce)}".encode() in head
    assert b"sec-websocket-extensions" not in head.lower()  # deflate declined
    return client
