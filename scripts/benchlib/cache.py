"""The response cache's workloads (``scripts/bench --cache``).

- **no-cache cost**: what the cache code adds to a request that did not opt in (the
  ingress's ``CacheGate.plan``: one dict lookup and one pass over the headers), timed in
  this process over many calls; and, for scale, what hashing a Codex-sized body costs a
  request that did opt in (``exact_key``).
- **exact hit / semantic hit**: a second gateway (its own SQLite trail, the cache on:
  exact for one key, semantic for another, so the model loads at start) answers one
  request live, then the same request (exact) or a paraphrase of it (semantic) in a
  closed loop from one client: time to the first body byte and to the last, as the
  client sees them over loopback; and the lookup round trips as the ingress measured
  them (``/healthz`` ``cache_lookups``).
- **RSS**: the cache gateway's once the model is loaded, beside the main gateway's.
"""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path
from typing import Any

import orjson
import trio

from benchlib.load import Target, Workload, run_cell
from benchlib.processes import Server, start_gateway, usage
from benchlib.report import percentile
from benchlib.targets import MODEL, UPSTREAM_KEY
from benchlib.trail import ADMIN_KEY

EXACT_KEY = "sk-switchyard-bench-cache-exact-0001"
SEMANTIC_KEY = "sk-switchyard-bench-cache-sem-00002"
ASKED = "How do I reverse a list in Python?"
PARAPHRASE = "How can I reverse a Python list?"


def cache_config(fake_port: int) -> str:
    return f"""\
server:
  admin_key: "{ADMIN_KEY}"
accounts:
  - id: "bench"
    providers:
      - id: "fake"
        type: "openai"
        api_key: "{UPSTREAM_KEY}"
        model: "{MODEL}"
        base_url: "http://127.0.0.1:{fake_port}/v1"
        retry: {{max_retries: 0}}
virtual_keys:
  - {{id: "exact-key", key: "{EXACT_KEY}", account: "bench", team: "exact"}}
  - {{id: "semantic-key", key: "{SEMANTIC_KEY}", account: "bench", team: "semantic"}}
cache:
  policies:
    - {{level: team, id: exact, mode: exact}}
    - {{level: team, id: semantic, mode: semantic}}
pricing:
  - {{provider: "openai", model: "{MODEL}", input: 1.0, output: 2.0}}
"""


def _workload(name: str, text: str) -> Workload:
    body = {"model": MODEL, "stream": True, "input": [{"role": "user", "content": text}]}
    return Workload(
        name=name,
        path="/responses",
        body=orjson.dumps(body),
        streaming=True,
        done_marker=b"response.completed",
    )


def no_cache_cost_us(calls: int = 200_000) -> dict[str, float]:
    """µs per call of the ingress's cache check for a request that did not opt in, and of
    the exact key of a Codex-sized body (40 items, ~60 KB)."""
    from actors.cache_gate import CacheGate
    from cache.exact_key import Scope, exact_key
    from config import parse_config
    from config.model import VirtualKeyConfig
    from http11.server import HttpRequest

    config = parse_config(cache_config(1), source="bench.yaml")
    gate = CacheGate(config, None, None)  # type: ignore[arg-type]
    key = VirtualKeyConfig(id="plain", secret=EXACT_KEY, account="bench")  # no policy names it
    headers = tuple((f"x-codex-header-{i}", "v") for i in range(12))
    request = HttpRequest(
        method="POST", target="/v1/responses", headers=headers, body=b"{}", client=""
    )
    body: dict[str, Any] = {"model": MODEL}
    started = time.perf_counter()
    for _ in range(calls):
        gate.plan(request, body, key, "responses")
    plan_us = (time.perf_counter() - started) / calls * 1e6
    item = {"type": "message", "role": "user", "content": "x" * 1500, "id": "msg_1"}
    codex_body = {"model": MODEL, "input": [item] * 40, "tools": [{"type": "function"}] * 10}
    scope = Scope(account="bench", team="t")
    rounds = 500
    started = time.perf_counter()
    for _ in range(rounds):
        exact_key("responses", scope, codex_body)
    key_us = (time.perf_counter() - started) / rounds * 1e6
    return {"plan_without_cache_us": round(plan_us, 3), "exact_key_60kb_body_us": round(key_us, 1)}


def _health(port: int) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz", headers={"authorization": f"Bearer {ADMIN_KEY}"}
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        health: dict[str, Any] = orjson.loads(answer.read())
        return health


def _wait_model(port: int, timeout_s: float = 180) -> float:
    started = time.perf_counter()
    while not _health(port)["cache"]["model_loaded"]:
        if time.perf_counter() - started > timeout_s:
            raise RuntimeError("the embedding model did not load")
        time.sleep(0.1)
    return float(_health(port)["cache"]["model_load_s"] or 0.0)


def _hits(server: Server, key: str, live: str, asked: str, duration_s: float) -> dict[str, Any]:
    target = Target(name="cache", port=server.port, headers=(("authorization", f"Bearer {key}"),))
    prime = _workload("prime", live)
    trio.run(_one_cell, target, prime, 0.2)  # the live answer, kept by the cache
    time.sleep(0.5)
    load = trio.run(_one_cell, target, _workload("hit", asked), duration_s)
    ttfb, latency = sorted(load.ttfbs_s), sorted(load.latencies_s)
    return {
        "requests": load.answered,
        "errors": load.errors,
        "first_error": load.first_error,
        "ttfb_ms": {p: round(percentile(ttfb, f) * 1000, 3) for p, f in _PCTS},
        "latency_ms": {p: round(percentile(latency, f) * 1000, 3) for p, f in _PCTS},
    }


_PCTS = (("p50", 0.5), ("p99", 0.99))


async def _one_cell(target: Target, workload: Workload, duration_s: float) -> Any:
    return await run_cell(
        target,
        workload,
        clients=1,
        duration_s=duration_s,
        max_requests=100_000,
        request_timeout_s=30,
        probe=lambda: None,
    )


def run_cache_bench(
    workdir: Path, fake: Server, main: Server, *, core: int | None, duration_s: float
) -> dict[str, Any]:
    results: dict[str, Any] = {"no_cache": no_cache_cost_us()}
    config = workdir / "cache" / "switchyard.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(cache_config(fake.port))
    server = start_gateway(config.parent, config, core=core)
    try:
        results["model_load_s"] = round(_wait_model(server.port), 2)
        results["exact_hit"] = _hits(server, EXACT_KEY, ASKED, ASKED, duration_s)
        results["semantic_hit"] = _hits(server, SEMANTIC_KEY, ASKED, PARAPHRASE, duration_s)
        health = _health(server.port)
        results["lookups_in_gateway"] = health["cache_lookups"]
        results["cache"] = health["cache"]
        results["rss_mb"] = {
            "cache_gateway_model_loaded": round(usage(server.pid).rss_bytes / 2**20, 1),
            "main_gateway": round(usage(main.pid).rss_bytes / 2**20, 1),
        }
    finally:
        from benchlib.processes import stop

        stop(server.process)
    return results


def describe_cache(results: dict[str, Any]) -> str:
    lines = [
        "Cache workloads (one client, loopback; see scripts/benchlib/cache.py):",
        f"  no-cache check per request: {results['no_cache']['plan_without_cache_us']} µs; "
        f"exact key of a 60 KB body: {results['no_cache']['exact_key_60kb_body_us']} µs",
    ]
    for layer in ("exact_hit", "semantic_hit"):
        hit = results.get(layer, {})
        ttfb, latency = hit.get("ttfb_ms", {}), hit.get("latency_ms", {})
        lines.append(
            f"  {layer}: {hit.get('requests')} requests, TTFB p50 {ttfb.get('p50')} ms "
            f"p99 {ttfb.get('p99')} ms, last byte p50 {latency.get('p50')} ms, "
            f"errors {hit.get('errors')}"
        )
    lookups = results.get("lookups_in_gateway", {})
    lines.append(
        f"  lookup round trip in the gateway: exact {lookups.get('exact_ms')}, "
        f"semantic {lookups.get('semantic_ms')}"
    )
    lines.append(f"  RSS MB: {results.get('rss_mb')}; model load {results.get('model_load_s')} s")
    return "\n".join(lines)


__all__ = ["describe_cache", "run_cache_bench"]
