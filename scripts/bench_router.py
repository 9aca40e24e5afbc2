"""Measure what the router costs on a request's hot path: one provider against three
weighted ones (the seed's 60/25/15).

Three figures per layout, all in this one process (CPU time, ``time.process_time``, so
other load on the machine inflates them less than wall-clock time would):

- ``plan``: the pure decision, ``routing.candidates.plan_route`` (weighted draw,
  fallback order, candidate values);
- ``route``: the router actor's whole handling of one ``RouteRequest`` — breaker checks,
  the plan, the ``route.decided`` event and the job handed to the worker channel — with
  the channels drained between timed batches;
- ``gateway``: if ``--requests`` > 0, sequential non-streaming chat requests through the
  running gateway to an in-process fake provider (httpx client): wall-clock p50 latency,
  and the process's CPU per request (client, gateway and fake together). The router's
  share is the difference between the layouts, well within the noise of this figure.

    .venv/bin/python scripts/bench_router.py [--decisions 200000] [--requests 1000]

Bounded: a fixed number of iterations, and the gateway part stops after --deadline s.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import structlog
import trio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actors.router import Router
from actors.system import run_gateway
from config import parse_config
from config.model import GatewayConfig
from fakes import open_fake_provider
from messages.chat import ClientFormat
from messages.commands import ClientRequest, Reply
from messages.events import TrailEvent
from routing.candidates import eligible_providers, plan_route
from routing.commands import ProviderJob, RouteRequest

BATCH = 1_000
KEY = "sk-bench-virtual-key"
WEIGHTS = {"one": [("p1", 1)], "three": [("p1", 60), ("p2", 25), ("p3", 15)]}


def _config(layout: str, base_url: str, db: Path) -> GatewayConfig:
    providers = "".join(
        f'      - {{id: "{pid}", type: "openai", api_key: "sk-x", model: "gpt-5.5", '
        f'weight: {weight}, base_url: "{base_url}"}}\n'
        for pid, weight in WEIGHTS[layout]
    )
    text = (
        f'database: {{url: "sqlite:///{db}"}}\n'
        f'accounts:\n  - id: "dev"\n    providers:\n{providers}'
        f'virtual_keys:\n  - {{id: "vk", key: "{KEY}", account: "dev"}}\n'
    )
    return parse_config(text, source=f"{layout}.yaml", environ={})


def _request() -> ClientRequest:
    return ClientRequest(
        request_id="req_bench",
        received_at=0.0,
        started=0.0,
        client_format=ClientFormat.CHAT,
        endpoint="/v1/chat/completions",
        model="gpt-5.5",
        stream=False,
        body={"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}]},
        virtual_key_id="vk",
        account_id="dev",
        session_id=None,
    )


def bench_plan(config: GatewayConfig, decisions: int) -> float:
    """Microseconds per pure routing decision."""
    account = config.accounts[0]
    rng = random.Random(1)
    started = time.process_time()
    for _ in range(decisions):
        plan_route(eligible_providers(account), rng)
    return (time.process_time() - started) / decisions * 1e6


async def bench_route(config: GatewayConfig, decisions: int) -> float:
    """Microseconds per ``RouteRequest`` handled by the router actor (no channel wait)."""
    workers_send, workers_receive = trio.open_memory_channel[ProviderJob](BATCH)
    audit_send, audit_receive = trio.open_memory_channel[TrailEvent](BATCH)
    reply_send, _reply_receive = trio.open_memory_channel[Reply](1)
    router = Router(config, workers=workers_send, audit=audit_send, rng=random.Random(1))
    message = RouteRequest(request=_request(), reply_to=reply_send, deadline=1e12)
    elapsed = 0.0
    for _ in range(max(1, decisions // BATCH)):
        started = time.process_time()
        for _ in range(BATCH):
            router._route(message)  # the handler the actor's loop calls, minus the receive
        elapsed += time.process_time() - started
        for _ in range(BATCH):
            workers_receive.receive_nowait()
            audit_receive.receive_nowait()
        await trio.lowlevel.checkpoint()
    return elapsed / (max(1, decisions // BATCH) * BATCH) * 1e6


async def bench_gateway(layout: str, requests: int, deadline_s: float) -> tuple[float, float]:
    """p50 latency (ms) and CPU per request (ms) of sequential chat requests."""
    import httpx

    latencies: list[float] = []
    cpu = 0.0
    body = {"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}]}
    headers = {"authorization": f"Bearer {KEY}"}
    with tempfile.TemporaryDirectory() as tmp, trio.move_on_after(deadline_s):
        async with trio.open_nursery() as upstreams:
            fake = await open_fake_provider(upstreams)
            config = _config(layout, fake.base_url, Path(tmp) / "trail.db")
            async with trio.open_nursery() as gateways:
                gateway = await gateways.start(
                    lambda task_status: run_gateway(config, port=0, task_status=task_status)
                )
                async with httpx.AsyncClient(base_url=gateway.base_url) as client:
                    for n in range(requests + 50):
                        started, cpu_started = time.perf_counter(), time.process_time()
                        response = await client.post(
                            "/v1/chat/completions", json=body, headers=headers
                        )
                        response.raise_for_status()
                        if n >= 50:  # warm-up excluded
                            latencies.append((time.perf_counter() - started) * 1000)
                            cpu += time.process_time() - cpu_started
                gateway.stop()
            upstreams.cancel_scope.cancel()
    if not latencies:
        return float("nan"), float("nan")
    return statistics.median(latencies), cpu / len(latencies) * 1000


async def main(args: argparse.Namespace) -> None:
    results: dict[str, dict[str, float]] = {}
    for layout in WEIGHTS:
        config = _config(layout, "http://127.0.0.1:9/v1", Path("unused.db"))
        results[layout] = {
            "plan_us": bench_plan(config, args.decisions),
            "route_us": await bench_route(config, args.decisions),
        }
    for layout in WEIGHTS if args.requests else ():
        p50, cpu = await bench_gateway(layout, args.requests, args.deadline)
        results[layout] |= {"gateway_p50_ms": p50, "gateway_cpu_ms": cpu}
    for layout, figures in results.items():
        shown = ", ".join(f"{name} {value:.3f}" for name, value in figures.items())
        print(f"{layout} provider(s): {shown}")
    one, three = results["one"], results["three"]
    print(
        f"three weighted vs one: plan +{three['plan_us'] - one['plan_us']:.2f} us, "
        f"route +{three['route_us'] - one['route_us']:.2f} us per request"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=1_000)
    parser.add_argument("--deadline", type=float, default=60.0)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    trio.run(main, parser.parse_args())
