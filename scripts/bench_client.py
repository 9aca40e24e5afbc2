"""Compare the upstream client (``http11.client.UpstreamPool``) with httpx under trio.

A fast upstream (asyncio, raw sockets, in a separate process pinned with
``taskset -c 1`` when available) answers POSTs with a ~1 KB JSON body, or, on
``/sse``, with 10 server-sent events as separate chunks. This process (pinned to
CPU 0 when there are two) sends N sequential keep-alive POSTs with a ~1 KB JSON
body through each client and reports its own CPU per request
(``time.process_time``) and the wall-clock latency percentiles.

    .venv/bin/python scripts/bench_client.py [--n 5000] [--rounds 1] [--json]

Bounded: the run stops after --deadline seconds, and the upstream process exits
when this one closes its stdin (and is killed by PID in any case).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import trio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

SSE_EVENTS = 10
_WORDS = " ".join(f"word{i}" for i in range(120))
REQUEST_BODY = json.dumps(
    {"model": "gpt-bench", "stream": False, "messages": [{"role": "user", "content": _WORDS}]}
).encode()
REPLY_BODY = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "model": "gpt-bench",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": _WORDS}}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 120, "total_tokens": 240},
    }
).encode()
SSE_EVENT = (
    b"data: "
    + json.dumps(
        {"id": "chatcmpl-bench", "choices": [{"index": 0, "delta": {"content": "token " * 12}}]}
    ).encode()
    + b"\n\n"
)
HEADERS = (
    ("authorization", "Bearer sk-bench-0123456789abcdef0123456789abcdef"),
    ("content-type", "application/json"),
    ("accept", "application/json"),
)


# --- the upstream (runs in its own process) -----------------------------------------------


class _UpstreamProtocol(asyncio.Protocol):
    connections = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        type(self).connections += 1
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1").lower()
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            self._answer(head.split(" ", 2)[1])

    def _answer(self, path: str) -> None:
        if path.startswith("/sse"):
            self.transport.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\n\r\n"
            )
            chunk = b"%x\r\n%s\r\n" % (len(SSE_EVENT), SSE_EVENT)
            for _ in range(SSE_EVENTS):
                self.transport.write(chunk)  # one send() each: separate segments
            self.transport.write(b"0\r\n\r\n")
            return
        body = json.dumps({"connections": self.connections}).encode()
        body = body if path.startswith("/stats") else REPLY_BODY
        self.transport.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\n\r\n%s" % (len(body), body)
        )


def serve_upstream() -> None:
    """Print the port, serve until stdin closes."""
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_UpstreamProtocol, "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(main())


def start_upstream() -> tuple[subprocess.Popen[str], int, bool]:
    pinned = shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2
    command = [sys.executable, __file__, "--serve"]
    if pinned:
        command = ["taskset", "-c", "1", *command]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, int(process.stdout.readline()), pinned


# --- the clients (this process, under trio) ------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    client: str
    reply: str
    requests: int
    cpu_us_per_request: float
    p50_us: float
    p99_us: float
    upstream_connections: int


async def measure(one: Callable[[], Awaitable[int]], n: int) -> tuple[float, list[float]]:
    """CPU µs per request and each request's wall latency in µs."""
    latencies = []
    cpu_start = time.process_time()
    for _ in range(n):
        start = time.perf_counter()
        await one()
        latencies.append((time.perf_counter() - start) * 1e6)
    return (time.process_time() - cpu_start) * 1e6 / n, latencies


async def run_all(port: int, n: int, warmup: int, rounds: int) -> list[Result]:
    from http11.client import UpstreamPool  # after the sys.path line above

    base = f"http://127.0.0.1:{port}"
    async with UpstreamPool() as pool, httpx.AsyncClient(trust_env=False) as client:

        async def pool_json() -> int:
            async with pool.stream("POST", f"{base}/v1/chat", HEADERS, REQUEST_BODY) as reply:
                return len(await reply.read())

        async def httpx_json() -> int:
            reply = await client.post(f"{base}/v1/chat", content=REQUEST_BODY, headers=HEADERS)
            return len(reply.content)

        async def pool_sse() -> int:
            async with pool.stream("POST", f"{base}/sse", HEADERS, REQUEST_BODY) as reply:
                return sum([len(chunk) async for chunk in reply.iter_bytes()])

        async def httpx_sse() -> int:
            url = f"{base}/sse"
            async with client.stream("POST", url, content=REQUEST_BODY, headers=HEADERS) as reply:
                return sum([len(chunk) async for chunk in reply.aiter_raw()])

        async def upstream_connections() -> int:
            async with pool.stream("GET", f"{base}/stats", (), b"") as reply:
                return int(json.loads(await reply.read())["connections"])

        cases = [
            ("UpstreamPool", "json", pool_json),
            ("httpx", "json", httpx_json),
            ("UpstreamPool", "sse x10", pool_sse),
            ("httpx", "sse x10", httpx_sse),
        ]
        assert await pool_json() == len(REPLY_BODY) == await httpx_json()
        assert await pool_sse() == SSE_EVENTS * len(SSE_EVENT) == await httpx_sse()
        results = []
        for client_name, reply_kind, one in cases:
            runs = []
            for _ in range(rounds):
                for _ in range(warmup):
                    await one()
                before = await upstream_connections()
                cpu_us, latencies = await measure(one, n)
                opened = await upstream_connections() - before
                runs.append((cpu_us, latencies, opened))
            cpu_us, latencies, opened = sorted(runs, key=lambda run: run[0])[len(runs) // 2]
            quantiles = statistics.quantiles(latencies, n=100)
            results.append(
                Result(
                    client=client_name,
                    reply=reply_kind,
                    requests=n,
                    cpu_us_per_request=round(cpu_us, 1),
                    p50_us=round(statistics.median(latencies), 1),
                    p99_us=round(quantiles[98], 1),
                    upstream_connections=opened,
                )
            )
        return results


def table(results: list[Result]) -> str:
    heading = ("client", "reply", "CPU µs/req", "p50 µs", "p99 µs", "new conns")
    lines = ["{:<13} {:<9} {:>10} {:>8} {:>8} {:>9}".format(*heading)]
    lines += [
        f"{r.client:<13} {r.reply:<9} {r.cpu_us_per_request:>10.1f} {r.p50_us:>8.1f} "
        f"{r.p99_us:>8.1f} {r.upstream_connections:>9}"
        for r in results
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="measured requests per case")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=1, help="report the median-CPU round")
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds for the whole run")
    parser.add_argument("--json", action="store_true", help="write JSON to stdout")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_upstream()
        return
    process, port, server_pinned = start_upstream()
    client_pinned = server_pinned and hasattr(os, "sched_setaffinity")
    if client_pinned:
        os.sched_setaffinity(0, {0})
    try:

        async def bounded() -> list[Result]:
            with trio.fail_after(args.deadline):
                return await run_all(port, args.n, args.warmup, args.rounds)

        results = trio.run(bounded)
    finally:
        process.kill()
        process.wait()
    if args.json:
        report = {
            "python": sys.version.split()[0],
            "upstream_pinned_cpu1": server_pinned,
            "client_pinned_cpu0": client_pinned,
            "request_bytes": len(REQUEST_BODY),
            "reply_bytes": len(REPLY_BODY),
            "sse_event_bytes": len(SSE_EVENT),
            "results": [asdict(result) for result in results],
        }
        json.dump(report, sys.stdout, indent=2)
        print()
    else:
        print(table(results))


if __name__ == "__main__":
    main()
