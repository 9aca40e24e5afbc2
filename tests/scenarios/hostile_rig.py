"""A gateway in front of one fake that speaks every wire format (one provider per format,
each pinned by ``<provider id>/<model>``), a second, well-behaved fake serving a sibling
key's stream, and helpers that say what a client got and what the trail holds."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from actors.system import GatewayHandle
from fakes import FakeProviderServer, Fault, Reply, Text, Turn
from tests.gateway_rig import (
    ENVIRON,
    Trail,
    auth,
    config_yaml,
    make_config,
    openai_provider,
    running_gateway,
)
from tests.scenarios.translation_rig import MODELS, provider_for

SIBLING_KEY = "sk-sy-test-sibling-key-0009"
KINDS = ["openai", "anthropic", "gemini", "cohere", "mistral"]  # openai: the passthroughs
ENDPOINTS = ["/v1/responses", "/v1/chat/completions"]
SIBLING_WORDS = [f"w{n:03d} " for n in range(40)]
_SIBLING = f"""  - id: "sibling"
    key: "{SIBLING_KEY}"
    account: "dev"
"""


def pinned(kind: str) -> str:
    return "fake-openai/gpt-5.5" if kind == "openai" else f"fake-{kind}/{MODELS[kind]}"


def body(endpoint: str, kind: str, stream: bool) -> dict[str, Any]:
    if endpoint == "/v1/responses":
        return {"model": pinned(kind), "input": "hi", "stream": stream}
    return {
        "model": pinned(kind),
        "messages": [{"role": "user", "content": "hi"}],
        "stream": stream,
    }


@dataclass(frozen=True, slots=True)
class Seen:
    """What one request got, and what its trail holds."""

    status: int
    in_stream_error: bool  # a 200 stream that ended with the format's failure
    completed: bool  # a 200 answer that ended normally
    error: str  # the error's message (the body's, or the in-stream one)
    request_id: str
    kinds: tuple[str, ...]  # the trail's event kinds, in order
    row: sqlite3.Row


@dataclass
class Hostile:
    gateway: GatewayHandle
    client: httpx.AsyncClient
    trail: Trail

    async def send(self, endpoint: str, kind: str, stream: bool) -> Seen:
        response = await self.client.post(
            endpoint, json=body(endpoint, kind, stream), headers=auth()
        )
        request_id = response.headers["x-request-id"]
        row = await self.finished(request_id)
        failed, completed, error = _read(endpoint, response)
        return Seen(
            status=response.status_code,
            in_stream_error=failed,
            completed=completed,
            error=error,
            request_id=request_id,
            kinds=tuple(self.trail.kinds(request_id)),
            row=row,
        )

    async def finished(self, request_id: str) -> sqlite3.Row:
        rows = await self.trail.wait_rows(
            "SELECT * FROM requests WHERE request_id = ? AND status != 'in_progress'", request_id
        )
        return rows[0]

    def payloads(self, request_id: str, kind: str) -> list[dict[str, Any]]:
        rows = self.trail.rows(
            "SELECT payload FROM events WHERE request_id = ? AND kind = ? ORDER BY seq",
            request_id,
            kind,
        )
        return [orjson.loads(row["payload"]) for row in rows]

    async def sibling_stream(self, calm: FakeProviderServer) -> str:
        """A slow stream for another key on the well-behaved fake; its whole text."""
        reply = Reply(items=(Text(text="".join(SIBLING_WORDS)),))
        calm.enqueue(Turn(reply=reply, fault=Fault(delay_between_events_s=0.03)))
        request = {"model": "calm-openai/gpt-5.5", "input": "talk slowly", "stream": True}
        response = await self.client.post("/v1/responses", json=request, headers=auth(SIBLING_KEY))
        events = _events(response.text)
        assert response.status_code == 200
        assert events[-1]["type"] == "response.completed", events[-1]
        return "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")


def _events(text: str) -> list[dict[str, Any]]:
    return [
        orjson.loads(line[6:])
        for line in text.splitlines()
        if line.startswith("data: ") and line != "data: [DONE]"
    ]


def _read(endpoint: str, response: httpx.Response) -> tuple[bool, bool, str]:
    """(ended with an in-stream failure, ended normally, the error message)."""
    if response.status_code != 200:
        return False, False, str(response.json()["error"]["message"])
    if not response.headers["content-type"].startswith("text/event-stream"):
        return False, True, ""
    events = _events(response.text)
    if endpoint == "/v1/responses":
        failed = [e for e in events if e.get("type") in ("error", "response.failed")]
        done = events[-1].get("type") == "response.completed"
        return bool(failed), done, str(failed[0].get("message", "")) if failed else ""
    errors = [e["error"] for e in events if "error" in e]
    return bool(errors), not errors, str(errors[0]["message"]) if errors else ""


@asynccontextmanager
async def hostile(
    fake: FakeProviderServer,
    calm: FakeProviderServer,
    tmp_path: Path,
    *,
    retry: dict[str, object] | None = None,
) -> AsyncIterator[Hostile]:
    policy = retry or {"max_retries": 0}
    providers = [openai_provider(fake.base_url, retry=policy)]
    providers += [provider_for(kind, fake, retry=policy) for kind in KINDS[1:]]
    providers.append(openai_provider(calm.base_url, id="calm-openai"))
    db = tmp_path / "trail.db"
    config = make_config(config_yaml(providers, db_path=db, extra_keys=_SIBLING), ENVIRON)
    async with running_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=60) as client:
            yield Hostile(gateway=gateway, client=client, trail=Trail(db, gateway.audit))
