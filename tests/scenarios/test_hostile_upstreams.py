"""A provider that sends garbage, huge answers, absurd numbers or a bad ``Retry-After``,
or drops the connection after reading the request, through the real gateway: every
format, both endpoints, streamed and not. The client gets a clean error in its format
(502, or the in-stream failure once bytes were sent), the trail holds a terminal event
for every request, another key's stream in flight is untouched, and the gateway still
serves afterwards.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from actors.upstream_bodies import MAX_BODY_BYTES
from fakes import FakeProviderServer, Fault, Turn, open_fake_provider
from fakes.spoil import GARBAGE_KINDS
from providers.sse import MAX_EVENT_BYTES
from tests.scenarios.hostile_rig import ENDPOINTS, KINDS, SIBLING_WORDS, Hostile, Seen, hostile

CASES = [
    (kind, endpoint, stream) for kind in KINDS for endpoint in ENDPOINTS for stream in (True, False)
]


@pytest.fixture
async def calm(nursery: trio.Nursery) -> FakeProviderServer:
    return await open_fake_provider(nursery)


def _fault(name: str, kind: str, endpoint: str, stream: bool) -> Fault:
    if name == "oversized":
        return Fault(oversize_bytes=(MAX_EVENT_BYTES if stream else MAX_BODY_BYTES) + 1)
    if name == "no_terminal_event":
        # a stream ends cleanly without its terminal event; a body is cut short
        return Fault(garbage="missing_terminal") if stream else Fault(cut_after_events=0)
    if name == "garbage_mid_stream":  # after the client has bytes: the in-stream failure
        return Fault(garbage="truncated_json", garbage_event=-2 if stream else 0)
    if name == "cut_mid_stream":
        return Fault(cut_after_events=2 if stream else 0)
    # the Responses passthrough reads the shape of its terminal event (the rest it checks
    # to be JSON objects and forwards); the other formats read their first event
    last = name == "wrong_shape" and kind == "openai" and endpoint == "/v1/responses"
    return Fault(garbage=name, garbage_event=-1 if last else 0)


def _assert_clean_failure(seen: Seen, stream: bool) -> None:
    if seen.status == 200:
        assert stream and seen.in_stream_error and not seen.completed, seen
    else:
        assert seen.status == 502 and seen.error, seen
    assert seen.row["status"] == "failed"
    assert seen.kinds[-1] == "response.failed" and "attempt.finished" in seen.kinds, seen.kinds
    assert seen.row["error_kind"] in ("protocol", "upstream_error"), dict(seen.row)


async def _alive(g: Hostile) -> None:
    assert (await g.client.get("/healthz")).status_code == 200
    ok = await g.send("/v1/chat/completions", "openai", stream=False)
    assert ok.status == 200 and ok.completed


@pytest.mark.parametrize(
    "name",
    [*GARBAGE_KINDS, "oversized", "no_terminal_event", "cut_mid_stream", "garbage_mid_stream"],
)
async def test_garbage_fails_each_request_alone_and_cleanly(
    fake: FakeProviderServer, calm: FakeProviderServer, tmp_path: Path, name: str
) -> None:
    async with hostile(fake, calm, tmp_path) as g:
        sibling: list[str] = []

        async def sibling_stream() -> None:
            sibling.append(await g.sibling_stream(calm))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(sibling_stream)
            for kind, endpoint, stream in CASES:
                fake.enqueue(Turn(fault=_fault(name, kind, endpoint, stream)))
                seen = await g.send(endpoint, kind, stream)
                print(f"{name:18} {kind:9} {endpoint:21} {stream!s:5} -> {_row(seen)}")
                _assert_clean_failure(seen, stream)
                if name == "garbage_mid_stream" and stream:
                    assert seen.status == 200 and seen.in_stream_error, seen
        assert sibling == ["".join(SIBLING_WORDS)]  # the other key's stream, intact
        await _alive(g)


def _row(seen: Seen) -> str:
    got = f"HTTP {seen.status}" + (" + in-stream failure" if seen.in_stream_error else "")
    return f"{got}; trail {seen.row['status']}/{seen.row['error_kind']}: {seen.error[:70]}"
