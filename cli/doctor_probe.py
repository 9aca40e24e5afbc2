"""``switchyard doctor --providers``: one small request per provider key — a one-word
chat asking for at most one token, sent the way the gateway would send it — telling
whether the provider answers and accepts the key. It may cost a fraction of a cent."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx

from cli.verdicts import Verdict
from config.model import GatewayConfig, ProviderConfig
from messages.chat import ClientFormat
from messages.errors import ErrorKind
from providers.exchanges.open_exchange import open_exchange

PROBE_TIMEOUT_S = 15.0
_KEY_REFUSED = {ErrorKind.UNAUTHENTICATED, ErrorKind.PROVIDER_AUTH, ErrorKind.QUOTA_EXHAUSTED}


def probe_providers(config: GatewayConfig) -> Iterator[Verdict]:
    seen: set[str] = set()
    for account in config.accounts:
        for provider in account.providers:
            if provider.id in seen:
                continue
            seen.add(provider.id)
            for number, key in enumerate(provider.keys, start=1):
                name = provider.id if len(provider.keys) == 1 else f"{provider.id} key {number}"
                yield _probe(provider, key.secret, f"provider {name}")


def _probe(provider: ProviderConfig, api_key: str, check: str) -> Verdict:
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
        api_key=api_key,
        request_id="doctor",
    )
    call = exchange.call()
    url = provider.base_url.rstrip("/") + call.path
    timeout = httpx.Timeout(PROBE_TIMEOUT_S, connect=min(provider.timeouts.connect_s, 10.0))
    started = time.perf_counter()
    try:
        with httpx.Client(timeout=timeout) as client:
            reply = client.request(call.method, url, headers=list(call.headers), content=call.body)
    except httpx.HTTPError as exc:
        why = type(exc).__name__ if not str(exc) else str(exc).splitlines()[0]
        return Verdict(check, "FAIL", f"unreachable at {provider.base_url}: {why[:160]}")
    ms = (time.perf_counter() - started) * 1000
    if reply.is_success:
        return Verdict(check, "ok", f"{provider.type} {provider.model} answered in {ms:.0f} ms")
    error = exchange.map_error(reply.status_code, list(reply.headers.items()), reply.content)
    what = "the key was refused" if error.kind in _KEY_REFUSED else "the request failed"
    detail = f"{what}: HTTP {reply.status_code} {error.kind}: {error.message[:160]}"
    return Verdict(check, "FAIL", detail)


__all__ = ["probe_providers"]
