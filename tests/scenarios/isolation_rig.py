"""A gateway with two keys on two accounts: a victim's (one OpenAI fake whose streams
are slow, so they are in flight for seconds) and a hostile caller's (an OpenAI
passthrough and an Anthropic translation on a second fake). Plus readers for what the
client got and what the trail holds."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import trio
import yaml

from actors.system import GatewayHandle
from fakes import FakeProviderServer, open_fake_provider
from fakes.script import Fault, Reply, Text, Turn
from tests.gateway_rig import (
    ADMIN_KEY,
    ENVIRON,
    Trail,
    make_config,
    openai_provider,
    running_gateway,
)
from tests.scenarios.translation_rig import MODELS, provider_for

HOSTILE_KEY = "sk-sy-hostile-caller-key-0003"
VICTIM_TEXT = " ".join(f"word{i}" for i in range(40))
PASSTHROUGH_MODEL = "hostile-openai/gpt-5.5"
TRANSLATED_MODEL = f"fake-anthropic/{MODELS['anthropic']}"
ROUTED_MODELS = (PASSTHROUGH_MODEL, *(f"fake-{kind}/{model}" for kind, model in MODELS.items()))
"""Every route of the hostile account: the OpenAI passthrough, then each translation."""


@dataclass
class IsolationRig:
    victim_fake: FakeProviderServer
    hostile_fake: FakeProviderServer
    gateway: GatewayHandle
    client: httpx.AsyncClient
    trail: Trail


@asynccontextmanager
async def isolation_rig(tmp_path: Path, *, delay_s: float = 0.05) -> AsyncIterator[IsolationRig]:
    async with trio.open_nursery() as nursery:
        victim = await open_fake_provider(nursery)
        hostile = await open_fake_provider(nursery)
        victim.fallback = Turn(
            reply=Reply(items=(Text(text=VICTIM_TEXT),)),
            fault=Fault(delay_between_events_s=delay_s),
        )
        db = tmp_path / "trail.db"
        document = {
            "server": {"max_body_bytes": 1_000_000, "max_inflight": 1024, "admin_key": ADMIN_KEY},
            "database": {"url": f"sqlite:///{db}"},
            "accounts": [
                {"id": "dev", "providers": [openai_provider(victim.base_url)]},
                {
                    "id": "hostile",
                    "providers": [
                        openai_provider(hostile.base_url, id="hostile-openai"),
                        *(provider_for(kind, hostile) for kind in MODELS),
                    ],
                },
            ],
            "virtual_keys": [
                {"id": "codex-dev", "key": "${TEST_VIRTUAL_KEY}", "account": "dev"},
                {"id": "hostile", "key": "${HOSTILE_KEY}", "account": "hostile"},
            ],
        }
        config = make_config(
            yaml.safe_dump(document), environ={**ENVIRON, "HOSTILE_KEY": HOSTILE_KEY}
        )
        async with running_gateway(config) as gateway:
            limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
            async with httpx.AsyncClient(
                base_url=gateway.base_url, timeout=30, limits=limits
            ) as client:
                yield IsolationRig(victim, hostile, gateway, client, Trail(db, gateway.audit))
        nursery.cancel_scope.cancel()


def sse_data(body: bytes) -> list[Any]:
    """Each ``data:`` payload of an SSE body, JSON-decoded (``[DONE]`` as the string)."""
    out: list[Any] = []
    for line in body.split(b"\n"):
        if line.startswith(b"data: "):
            payload = line[6:]
            out.append("[DONE]" if payload == b"[DONE]" else json.loads(payload))
    return out


def streamed_text(endpoint: str, body: bytes) -> tuple[str, str]:
    """(the text a stream carried, how it ended: "completed" or what failed)."""
    events = sse_data(body)
    if endpoint.endswith("/responses"):
        text = "".join(e["delta"] for e in events if e.get("type") == "response.output_text.delta")
        last = events[-1] if events else {}
        return text, "completed" if last.get("type") == "response.completed" else str(last)
    chunks = [e for e in events if e != "[DONE]"]
    text = "".join(
        choice["delta"].get("content") or ""
        for chunk in chunks
        for choice in chunk.get("choices", ())
    )
    errors = [chunk["error"] for chunk in chunks if "error" in chunk]
    done = bool(events) and events[-1] == "[DONE]"
    return text, "completed" if done and not errors else f"failed: {errors}"


async def terminal_kinds(trail: Trail, request_ids: list[str]) -> dict[str, str]:
    """Each request's terminal event kind (waits up to 10 s for the trail to catch up)."""
    wanted = set(request_ids)
    found: dict[str, str] = {}

    def all_found() -> bool:
        rows = trail.rows(
            "SELECT request_id, kind FROM events"
            " WHERE kind IN ('response.completed', 'response.failed')"
        )
        found.update((r["request_id"], r["kind"]) for r in rows if r["request_id"] in wanted)
        return len(found) == len(wanted)

    with trio.move_on_after(10):
        await trail.wait_until(all_found, within_s=10)
    return found


async def failed_error(trail: Trail, request_id: str) -> dict[str, Any]:
    """The ``response.failed`` payload of ``request_id`` (waits for it)."""
    rows = await trail.wait_rows(
        "SELECT payload FROM events WHERE request_id = ? AND kind = 'response.failed' ORDER BY seq",
        request_id,
    )
    payload: dict[str, Any] = json.loads(rows[0]["payload"])
    return payload


__all__ = [
    "HOSTILE_KEY",
    "PASSTHROUGH_MODEL",
    "ROUTED_MODELS",
    "TRANSLATED_MODEL",
    "VICTIM_TEXT",
    "IsolationRig",
    "failed_error",
    "isolation_rig",
    "sse_data",
    "streamed_text",
    "terminal_kinds",
]
