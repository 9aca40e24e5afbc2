from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import trio

from fakes import FakeProviderServer, open_fake_provider
from tests.fakes.recorded import sse_events

API_KEY = "sk-fake-test-key"


@pytest.fixture
async def fake(nursery: trio.Nursery) -> FakeProviderServer:
    return await open_fake_provider(nursery)


@pytest.fixture
async def client(fake: FakeProviderServer) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx.AsyncClient(base_url=fake.origin, headers=headers, timeout=10) as http:
        yield http


def responses_body(prompt: str = "hello", *, stream: bool = True, **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-5.5", "input": prompt, "stream": stream, **extra}


def chat_body(prompt: str = "hello", *, stream: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": prompt}],
        "stream": stream,
        **extra,
    }


async def read_stream(
    http: httpx.AsyncClient, path: str, body: dict[str, Any]
) -> tuple[httpx.Response, list[tuple[str | None, str]]]:
    """POST and read a whole SSE answer: the response and its ``(event, data)`` pairs."""
    async with http.stream("POST", path, json=body) as response:
        raw = b"".join([chunk async for chunk in response.aiter_bytes()])
    return response, sse_events(raw)


def payloads(events: list[tuple[str | None, str]]) -> list[dict[str, Any]]:
    return [json.loads(data) for _, data in events if data != "[DONE]"]
