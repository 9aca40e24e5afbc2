"""Upstreams are HTTPS in production: the gateway verifies certificates."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import trio
import trustme

from fakes import open_fake_provider
from tests.gateway_rig import auth, config_yaml, make_config, openai_provider, running_gateway

CHAT = {"model": "gpt-5.5", "messages": [{"role": "user", "content": "over TLS"}]}


async def _post_through_gateway(
    tmp_path: Path, server_context: ssl.SSLContext, client_context: ssl.SSLContext | None
) -> httpx.Response:
    async with trio.open_nursery() as nursery:
        fake = await open_fake_provider(nursery, ssl_context=server_context)
        assert fake.base_url.startswith("https://")
        config = make_config(
            config_yaml([openai_provider(fake.base_url)], db_path=tmp_path / "t.db")
        )
        async with running_gateway(config, ssl_context=client_context) as gateway:
            async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
                response = await client.post("/v1/chat/completions", json=CHAT, headers=auth())
        nursery.cancel_scope.cancel()
    return response


def _server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


async def test_tls_upstream_with_a_trusted_ca(tmp_path: Path) -> None:
    ca = trustme.CA()
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    response = await _post_through_gateway(tmp_path, _server_context(ca), client_context)
    assert response.status_code == 200
    assert "over TLS" in response.json()["choices"][0]["message"]["content"]


async def test_tls_upstream_with_an_untrusted_certificate_is_refused(tmp_path: Path) -> None:
    ca = trustme.CA()  # not in certifi's bundle: the default context must refuse it
    response = await _post_through_gateway(tmp_path, _server_context(ca), None)
    assert response.status_code == 502
    assert "could not connect" in response.json()["error"]["message"]
