"""Measure ``http11.server``: server CPU per request, requests per second, latency.

The server runs in this process under trio with a trivial handler (a small JSON
body); the load comes from one or more client processes (this same file, run with
``--client``) that each drive sequential keep-alive POSTs over one connection on
127.0.0.1. Server CPU is ``time.process_time()`` of this process, taken from the
first measured request to the last, divided by the requests measured.

    .venv/bin/python scripts/bench_http_server.py [--requests 20000] [--connections 1]

Bounded: the clients stop after their requests, and the whole run after --deadline.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

REQUEST_BODY = json.dumps(
    {"model": "gpt-5-codex", "input": "say hello", "stream": False, "store": False}
).encode()
REQUEST = (
    b"POST /v1/responses HTTP/1.1\r\n"
    b"host: 127.0.0.1\r\n"
    b"authorization: Bearer sk-switchyard-bench-0123456789abcdef\r\n"
    b"content-type: application/json\r\n"
    b"accept: */*\r\n"
    b"user-agent: bench/1\r\n"
    b"content-length: " + str(len(REQUEST_BODY)).encode() + b"\r\n\r\n" + REQUEST_BODY
)
RESPONSE_BODY = b'{"id":"resp_bench","object":"response","status":"completed"}'
WARMUP = 1000


def run_client(port: int, count: int) -> None:
    """Send ``count`` requests, one at a time, on one keep-alive connection."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    latencies: list[float] = []
    buffer = b""
    for _ in range(count):
        started = time.perf_counter()
        sock.sendall(REQUEST)
        buffer = read_response(sock, buffer)
        latencies.append(time.perf_counter() - started)
    sock.close()
    json.dump({"latencies": latencies}, sys.stdout)


def read_response(sock: socket.socket, buffer: bytes) -> bytes:
    """Read one Content-Length response; return what follows it."""
    while b"\r\n\r\n" not in buffer:
        buffer += receive(sock)
    head, _, rest = buffer.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise SystemExit(f"unexpected response: {head[:80]!r}")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    while len(rest) < length:
        rest += receive(sock)
    return rest[length:]


def receive(sock: socket.socket) -> bytes:
    data = sock.recv(65536)
    if not data:
        raise SystemExit("server closed the connection")
    return data


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run_server_and_load(requests: int, connections: int, deadline: float) -> dict[str, float]:
    import trio

    from http11.server import HttpRequest, HttpServer, ResponseWriter

    per_client = requests // connections
    measured = per_client * connections
    marks: dict[str, float] = {}
    served = 0

    async def handler(request: HttpRequest, writer: ResponseWriter) -> None:
        nonlocal served
        served += 1
        if served == WARMUP + 1:
            marks["cpu0"], marks["wall0"] = time.process_time(), time.perf_counter()
        elif served == WARMUP + measured:
            marks["cpu1"], marks["wall1"] = time.process_time(), time.perf_counter()
        await writer.send_response(200, (("content-type", "application/json"),), RESPONSE_BODY)

    def render_error(status: int, message: str) -> tuple[list[tuple[str, str]], bytes]:
        return [("content-type", "text/plain")], message.encode()

    server = HttpServer(handler, render_error=render_error)
    latencies: list[float] = []
    with trio.fail_after(deadline):
        async with trio.open_nursery() as nursery:
            port = await nursery.start(server.serve, "127.0.0.1", 0)
            # WARMUP requests first on one connection, then the measured load.
            await run_clients(port, [WARMUP], [])
            await run_clients(port, [per_client] * connections, latencies)
            nursery.cancel_scope.cancel()
    # The marks bracket measured - 1 whole request cycles (first to last handler call).
    cycles = measured - 1
    cpu = marks["cpu1"] - marks["cpu0"]
    wall = marks["wall1"] - marks["wall0"]
    return {
        "requests": measured,
        "connections": connections,
        "server_cpu_us_per_request": cpu / cycles * 1e6,
        "requests_per_second": cycles / wall,
        "client_latency_p50_us": percentile(latencies, 0.50) * 1e6,
        "client_latency_p99_us": percentile(latencies, 0.99) * 1e6,
        "client_latency_mean_us": statistics.fmean(latencies) * 1e6,
    }


async def run_clients(port: int, counts: list[int], latencies: list[float]) -> None:
    import trio

    async def one(count: int) -> None:
        command = [sys.executable, __file__, "--client", str(port), str(count)]
        done = await trio.run_process(command, capture_stdout=True, stderr=subprocess.STDOUT)
        latencies.extend(json.loads(done.stdout)["latencies"])

    async with trio.open_nursery() as nursery:
        for count in counts:
            nursery.start_soon(one, count)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--client":
        run_client(int(sys.argv[2]), int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds for the whole run")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import trio

    result = trio.run(run_server_and_load, args.requests, args.connections, args.deadline)
    for key, value in result.items():
        print(f"{key:28} {value:12.1f}")


if __name__ == "__main__":
    main()
