"""DirectSocket: send and receive on a connected TCP socket, with trio's error types."""

from __future__ import annotations

import socket
import struct

import pytest
import trio
import trio.testing

from http11._direct_socket import DirectSocket


async def connected_pair() -> tuple[trio.SocketStream, trio.SocketStream]:
    listener = (await trio.open_tcp_listeners(0, host="127.0.0.1"))[0]
    port = listener.socket.getsockname()[1]
    async with trio.open_nursery() as nursery:
        client_box: list[trio.SocketStream] = []

        async def connect() -> None:
            client_box.append(await trio.open_tcp_stream("127.0.0.1", port))

        nursery.start_soon(connect)
        server = await listener.accept()
    await listener.aclose()
    return client_box[0], server


async def test_bytes_go_both_ways_and_eof_reads_empty() -> None:
    client, server = await connected_pair()
    ours = DirectSocket(client)
    await ours.send_all(b"ping")
    assert await server.receive_some(100) == b"ping"
    await server.send_all(b"pong")
    assert await ours.receive_some(100) == b"pong"
    await server.aclose()
    assert await ours.receive_some(100) == b""
    await client.aclose()


async def test_a_send_larger_than_the_kernel_buffers_waits_for_the_reader() -> None:
    client, server = await connected_pair()
    ours = DirectSocket(client)
    payload = bytes(range(256)) * 40_000  # ~10 MB: more than the socket buffers hold
    received = bytearray()

    async def read_all() -> None:
        while len(received) < len(payload):
            received.extend(await server.receive_some(1 << 16))

    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(read_all)
            await ours.send_all(payload)
    assert received == payload
    await client.aclose()
    await server.aclose()


async def test_a_receive_waits_until_data_arrives() -> None:
    client, server = await connected_pair()
    ours = DirectSocket(client)
    got: list[bytes] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(lambda: _append(got, ours))
        await trio.testing.wait_all_tasks_blocked()
        assert got == []  # parked in trio, not spinning
        await server.send_all(b"late")
    assert got == [b"late"]
    await client.aclose()
    await server.aclose()


async def _append(got: list[bytes], ours: DirectSocket) -> None:
    got.append(await ours.receive_some(100))


async def test_a_socket_closed_here_is_a_closed_resource() -> None:
    client, server = await connected_pair()
    ours = DirectSocket(client)
    await client.aclose()
    with pytest.raises(trio.ClosedResourceError):
        await ours.receive_some(100)
    with pytest.raises(trio.ClosedResourceError):
        await ours.send_all(b"x")
    await server.aclose()


async def test_closing_while_waiting_wakes_the_reader_with_closed_resource() -> None:
    client, server = await connected_pair()
    ours = DirectSocket(client)

    async def read() -> None:
        with pytest.raises(trio.ClosedResourceError):
            await ours.receive_some(100)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(read)
        await trio.testing.wait_all_tasks_blocked()
        await client.aclose()
    await server.aclose()


async def test_a_reset_by_the_peer_is_a_broken_resource() -> None:
    client, server = await connected_pair()
    ours = DirectSocket(client)
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    await server.aclose()  # linger 0: the close sends RST
    await trio.sleep(0.05)
    with pytest.raises(trio.BrokenResourceError):
        await ours.receive_some(100)
    await client.aclose()
