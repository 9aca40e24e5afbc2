"""``switchyard doctor --providers``: one small request per provider key — a one-word
chat asking for at most one token, sent the way the gateway sends it (the provider's
adapter, the upstream pool) — telling whether the provider answers and takes the key.
It may cost a fraction of a cent. Keys never appear in what it reports."""

from __future__ import annotations

from dataclasses import dataclass

import trio

from config.model import GatewayConfig, ProviderConfig
from http11.client import UpstreamPool, UpstreamTransportError
from messages.chat import ClientFormat
from messages.errors import ErrorKind
from providers.exchanges.open_exchange import open_exchange

PROBE_TIMEOUT_S = 15.0
_KEY_REFUSED = {ErrorKind.UNAUTHENTICATED, ErrorKind.PROVIDER_AUTH, ErrorKind.QUOTA_EXHAUSTED}


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeResult:
    name: str  # the provider id, with the key's number when it has several
    ok: bool
    detail: str


def probe_providers(config: GatewayConfig) -> list[ProbeResult]:
    """Every distinct provider of every account, each key once, one after another."""
    return trio.run(_probe_all, config)


async def _probe_all(config: GatewayConfig) -> list[ProbeResult]:
    seen: set[str] = set()
    results = []
    async with UpstreamPool() as pool:
        for account in config.accounts:
            for provider in account.providers:
                if provider.id in seen:
                    continue
                seen.add(provider.id)
                for number, key in enumerate(provider.keys, start=1):
                    several = len(provider.keys) > 1
                    name = f"{provider.id} key {number}" if several else provider.id
                    results.append(await _probe(pool, provider, key.secret, name))
    return results


async def _probe(pool: UpstreamPool, provider: ProviderConfig, key: str, name: str) -> ProbeResult:
    body: dict[str, object] = {
        "model": provider.model,
        "messages": [{"role": "user", "content": "ping"}],
        "max_tokens": 1,
    }
    exchange = open_exchange(
        ClientFormat.CHAT,
        body,
        provider_type=provider.type,
        model=provider.model,
        api_key=key,
        request_id="doctor",
    )
    call = exchange.call()
    url = provider.base_url.rstrip("/") + call.path
    started = trio.current_time()
    try:
        with trio.fail_after(PROBE_TIMEOUT_S):
            async with pool.stream(call.method, url, call.headers, call.body) as response:
                status, headers, reply = response.status, response.headers, await response.read()
    except trio.TooSlowError:
        return ProbeResult(name=name, ok=False, detail=f"no answer within {PROBE_TIMEOUT_S:g} s")
    except UpstreamTransportError as exc:
        why = f"{type(exc).__name__}: {str(exc)[:160]}" if str(exc) else type(exc).__name__
        return ProbeResult(name=name, ok=False, detail=f"unreachable at {provider.base_url}: {why}")
    ms = (trio.current_time() - started) * 1000
    if 200 <= status < 300:
        detail = f"{provider.type} {provider.model} answered in {ms:.0f} ms"
        return ProbeResult(name=name, ok=True, detail=detail)
    error = exchange.map_error(status, headers, reply)
    what = "the key was refused" if error.kind in _KEY_REFUSED else "the request failed"
    detail = f"{what}: HTTP {status} {error.kind}: {error.message[:160]}"
    return ProbeResult(name=name, ok=False, detail=detail)


__all__ = ["ProbeResult", "probe_providers"]
