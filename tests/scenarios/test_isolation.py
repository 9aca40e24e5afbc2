"""One caller's malformed requests never touch another caller's streams (issue 10).

Fifty streams from one key (both endpoints) are in flight while another key sends
every wrong type and absurd value for every field the gateway reads, on both
endpoints, streaming and not, plus fields only a translation reads, on both routes.
The streams end intact; every malformed request is a 400 naming its ``param``; the
process is alive afterwards; every request has its terminal trail event in SQLite.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import httpx
import trio

from tests.gateway_rig import auth
from tests.scenarios.hostile_bodies import BASES, CHAT, DEEP_CASES, RESPONSES, malformed_cases
from tests.scenarios.isolation_rig import (
    HOSTILE_KEY,
    PASSTHROUGH_MODEL,
    TRANSLATED_MODEL,
    VICTIM_TEXT,
    IsolationRig,
    isolation_rig,
    streamed_text,
    terminal_kinds,
)

STREAMS = 50
BARRAGE_CONCURRENCY = 12


async def _victim_stream(rig: IsolationRig, endpoint: str, out: list[dict[str, Any]]) -> None:
    body: dict[str, Any] = {**BASES[endpoint], "stream": True}
    async with rig.client.stream("POST", endpoint, json=body, headers=auth()) as response:
        data = b"".join([piece async for piece in response.aiter_bytes()])
    text, ending = streamed_text(endpoint, data)
    out.append(
        {
            "status": response.status_code,
            "request_id": response.headers.get("x-request-id"),
            "text": text,
            "ending": ending,
            "ended_at": trio.current_time(),
        }
    )


async def _post(rig: IsolationRig, endpoint: str, body: dict[str, Any]) -> httpx.Response:
    # stdlib json: it writes integers beyond 64 bits, which a client may send
    content = json.dumps(body).encode()
    headers = {**auth(HOSTILE_KEY), "content-type": "application/json"}
    return await rig.client.post(endpoint, content=content, headers=headers)


async def _barrage(rig: IsolationRig, results: list[dict[str, Any]]) -> None:
    jobs: list[tuple[str, dict[str, Any], str | None, str]] = [
        (case.endpoint, case.body, case.param, f"{case.field} stream={case.stream}")
        for case in malformed_cases()
    ]
    for deep in DEEP_CASES:
        for model, route in ((TRANSLATED_MODEL, "translated"), (PASSTHROUGH_MODEL, "passthrough")):
            for stream in (False, True):
                body = {**BASES[deep.endpoint], **deep.body_patch, "model": model}
                body["stream"] = stream
                expected = deep.param if route == "translated" else None
                jobs.append((deep.endpoint, body, expected, f"{deep.param} {route}"))
    random.Random(10).shuffle(jobs)  # every kind of fault early and late in the barrage
    send, receive = trio.open_memory_channel[tuple[str, dict[str, Any], str | None, str]](len(jobs))
    for job in jobs:
        send.send_nowait(job)
    send.close()

    async def worker() -> None:
        async for endpoint, body, param, label in receive:
            response = await _post(rig, endpoint, body)
            error = response.json().get("error") if response.status_code >= 400 else None
            results.append(
                {
                    "label": label,
                    "expected_param": param,
                    "status": response.status_code,
                    "param": error.get("param") if error else None,
                    "request_id": response.headers.get("x-request-id"),
                    "provider": response.headers.get("x-switchyard-provider"),
                }
            )

    async with trio.open_nursery() as nursery:
        for _ in range(BARRAGE_CONCURRENCY):
            nursery.start_soon(worker)


async def test_malformed_requests_from_one_key_leave_anothers_streams_intact(
    tmp_path: Path,
) -> None:
    async with isolation_rig(tmp_path, delay_s=0.1) as rig:  # streams of about 4 s
        streams: list[dict[str, Any]] = []
        hostile: list[dict[str, Any]] = []
        async with trio.open_nursery() as nursery:
            for index in range(STREAMS):
                endpoint = RESPONSES if index % 2 else CHAT
                nursery.start_soon(_victim_stream, rig, endpoint, streams)
            with trio.fail_after(20):
                await rig.victim_fake.wait_requests(STREAMS)
            barrage_started = trio.current_time()
            await _barrage(rig, hostile)
            barrage_ended = trio.current_time()

        # the streams: all intact, and they were in flight while the barrage ran
        assert len(streams) == STREAMS
        for stream in streams:
            assert stream["status"] == 200
            assert stream["ending"] == "completed", stream
            assert stream["text"] == VICTIM_TEXT
        assert min(s["ended_at"] for s in streams) > barrage_started
        print(  # the figure for the report
            f"\n{len(hostile)} malformed requests in {barrage_ended - barrage_started:.2f}s; "
            f"streams ended {min(s['ended_at'] for s in streams) - barrage_started:.2f}s to "
            f"{max(s['ended_at'] for s in streams) - barrage_started:.2f}s after it began"
        )

        # the malformed requests: a 400 naming the param, never a 5xx of ours
        assert len(hostile) >= 200
        for result in hostile:
            if result["expected_param"] is not None:
                assert result["status"] == 400, result
                assert result["param"] == result["expected_param"], result
            else:  # a field only a translation reads, on a passthrough: the provider's call
                assert result["status"] < 500 or result["provider"] is not None, result

        # the process is alive and serves
        alive = await rig.client.post(CHAT, json=BASES[CHAT], headers=auth())
        assert alive.status_code == 200

        # every request has its terminal trail event, and the audit logger holds none open
        ids = [r["request_id"] for r in streams + hostile] + [alive.headers["x-request-id"]]
        assert all(ids)
        kinds = await terminal_kinds(rig.trail, ids)
        assert set(kinds) == set(ids)
        assert all(kinds[s["request_id"]] == "response.completed" for s in streams)
        audit = rig.gateway.audit
        assert audit is not None
        await rig.trail.wait_until(lambda: not audit.statistics().open_requests, within_s=5)
        assert audit.statistics().open_requests == 0
