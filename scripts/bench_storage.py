"""Measure the trail's write path: ``SqlRecorder.append`` on a fresh SQLite file.

100k events by default, 6 per request (received with a ~2 KB JSON body, routed,
attempt started / first byte / finished, completed with a small response body; with
``--bodies bench``, the body ``scripts/bench``'s responses-stream sends and a 1.2 KB
Responses object like the fake's answer, which the trail keeps whole),
64 requests in flight so their events interleave as they do at the audit inbox.
Each batch size gets its own fresh, migrated database; the events are built
beforehand, so the timing covers what the audit logger's worker thread does:
encoding, projecting and committing. A last run goes through ``AuditLogger`` itself.

    .venv/bin/python scripts/bench_storage.py [--events 100000] [--batches 256,1024,2048]
        [--bodies codex|bench]
        [--url postgresql://…]   # a PostgreSQL database to use instead (its trail is dropped)
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson
import structlog
import trio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchlib.load import WORKLOADS

from actors.audit import AuditLogger
from messages.events import (
    AttemptFinished,
    AttemptFirstByte,
    AttemptStarted,
    RequestReceived,
    ResponseCompleted,
    RouteDecided,
    TrailEvent,
)
from messages.usage import Usage
from storage import SequencedEvent, SqlRecorder, downgrade, make_engine, migrate

IN_FLIGHT = 64
USAGE = Usage(input_tokens=1800, cached_input_tokens=1500, output_tokens=250, reasoning_tokens=64)


def _body(n: int) -> bytes:
    prompt = f"request {n}: refactor the parser and keep the tests green. " * 30
    return orjson.dumps(
        {"model": "gpt-5-codex", "input": [{"role": "user", "content": prompt}], "stream": True}
    )


def _bench_response(n: int) -> bytes:
    """A completed Responses object shaped like the fake upstream's (about 1.2 KB)."""
    text = "switchyard " * 24
    message = {
        "id": f"msg_{n:028d}",
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": text}],
    }
    usage = {
        "input_tokens": 100,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": 49,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 149,
    }
    return orjson.dumps({
        "id": f"resp_{n:024d}", "object": "response", "created_at": 1700000000,
        "status": "completed", "background": False, "error": None, "incomplete_details": None,
        "instructions": None, "max_output_tokens": None, "max_tool_calls": None,
        "model": "gpt-bench", "output": [message], "parallel_tool_calls": True,
        "previous_response_id": None, "prompt_cache_key": None, "prompt_cache_retention": None,
        "reasoning": {"effort": None, "summary": None}, "safety_identifier": None,
        "service_tier": "default", "store": True, "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"}, "tool_choice": "auto",
        "tools": [], "top_logprobs": 0, "top_p": 1.0, "truncation": "disabled", "usage": usage,
        "user": None, "metadata": {},
    })  # fmt: skip


def _bench_request(n: int, at: float) -> list[TrailEvent]:
    """``_request`` with the bodies of ``scripts/bench``'s responses-stream cell."""
    received, *middle, completed = _request(n, at)
    assert isinstance(received, RequestReceived)
    assert isinstance(completed, ResponseCompleted)
    return [
        dataclasses.replace(received, body=WORKLOADS["responses-stream"].body),
        *middle,
        dataclasses.replace(completed, response=_bench_response(n)),
    ]


def _request(n: int, at: float) -> list[TrailEvent]:
    rid = f"req-{n:08d}"
    return [
        RequestReceived(
            request_id=rid, at=at, client_format="openai-responses", endpoint="/v1/responses",
            model_requested="gpt-5-codex", stream=True, virtual_key_id="vk-team-a",
            account_id="acct-1", session_id=f"s-{n // 20}", thread_id=None,
            user_agent="codex_cli_rs/0.169.0", body=_body(n),
        ),
        RouteDecided(request_id=rid, at=at + 0.001, candidates=("openai-main",), reason="w"),
        AttemptStarted(
            request_id=rid, at=at + 0.002, attempt=1, provider_id="openai-main",
            provider_type="openai", model="gpt-5-codex", key_id="key-3f9a", reason="primary",
        ),
        AttemptFirstByte(request_id=rid, at=at + 0.3, attempt=1, status=200, ttfb_ms=298.0),
        AttemptFinished(
            request_id=rid, at=at + 1.2, attempt=1, provider_id="openai-main",
            model="gpt-5-codex", status=200, latency_ms=1198.0, usage=USAGE, error=None,
            cost_usd=0.0031,
        ),
        ResponseCompleted(
            request_id=rid, at=at + 1.201, status=200, latency_ms=1201.0,
            provider_id="openai-main", model="gpt-5-codex", attempts=1, usage=USAGE,
            response=b'{"id":"resp_%d","status":"completed","usage":{"input_tokens":1800}}' % n,
            cost_usd=0.0031,
        ),
    ]  # fmt: skip


def trail(total: int, bodies: str = "codex") -> list[SequencedEvent]:
    """``total`` events, ``IN_FLIGHT`` requests at a time, interleaved round-robin."""
    out: list[SequencedEvent] = []
    now, n = time.time(), 0
    request = _bench_request if bodies == "bench" else _request
    while len(out) < total:
        group = [request(n + i, now) for i in range(IN_FLIGHT)]
        n += IN_FLIGHT
        for step in range(6):
            out.extend(SequencedEvent(seq=step + 1, event=events[step]) for events in group)
    return out[:total]


def _fresh(url: str | None, directory: Path, name: str) -> str:
    if url is None:
        url = f"sqlite:///{directory / name}"
    else:
        downgrade(url, "base")
    migrate(url)
    return url


def bench_recorder(url: str, events: list[SequencedEvent], batch: int) -> str:
    engine = make_engine(url)
    recorder = SqlRecorder(engine)
    times = []
    started, cpu_started = time.perf_counter(), time.process_time()
    for start in range(0, len(events), batch):
        t0 = time.perf_counter()
        recorder.append(events[start : start + batch])
        times.append((time.perf_counter() - t0) * 1000)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    engine.dispose()
    p99 = statistics.quantiles(times, n=100)[98] if len(times) > 1 else times[0]
    return (
        f"batch {batch:>5}: {len(events) / elapsed:>9,.0f} events/s   "
        f"batch write p50 {statistics.median(times):7.1f} ms  p99 {p99:7.1f} ms   "
        f"CPU {cpu / len(events) * 1e6:5.1f} µs/event"
    )


async def _through_actor(url: str, events: list[TrailEvent]) -> str:
    engine = make_engine(url)
    logger = AuditLogger(SqlRecorder(engine))
    send, receive = trio.open_memory_channel[TrailEvent](8192)
    started = time.perf_counter()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(logger.run, receive)
        async with send:
            for event in events:
                await send.send(event)
    elapsed = time.perf_counter() - started
    engine.dispose()
    stats = logger.statistics()
    return (
        f"AuditLogger (batch_max 2048, inbox 8192): {len(events) / elapsed:,.0f} events/s, "
        f"{stats.batches} batches, write p50 {stats.write_ms_p50:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batches", default="256,1024,2048")
    parser.add_argument(
        "--bodies",
        choices=("codex", "bench"),
        default="codex",
        help="codex: a 1.8 KB prompt (split into blobs); bench: scripts/bench's bodies",
    )
    parser.add_argument("--url", help="PostgreSQL URL to use instead of SQLite files")
    args = parser.parse_args()
    # the audit logger's one line per request would drown the figures
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    events = trail(args.events, args.bodies)
    size = sum(len(item.event.body) for item in events if isinstance(item.event, RequestReceived))
    print(f"{len(events):,} events, {size / (len(events) / 6) / 1024:.1f} KB per request body")
    with tempfile.TemporaryDirectory() as directory:
        for batch in (int(value) for value in args.batches.split(",")):
            url = _fresh(args.url, Path(directory), f"bench-{batch}.db")
            print(bench_recorder(url, events, batch), flush=True)
        url = _fresh(args.url, Path(directory), "bench-actor.db")
        print(trio.run(_through_actor, url, [item.event for item in events]))


if __name__ == "__main__":
    main()
