"""The ingress's side of the cache never makes a request wait on a cache actor that is
busy, silent or gone: each is a miss (recorded), and the request goes on."""

from __future__ import annotations

import time

import orjson
import trio

from actors.cache import CacheActor
from actors.cache_gate import EXACT_LOOKUP_TIMEOUT_S, CacheGate
from config.cache_policy import CacheConfig
from config.model import GatewayConfig
from messages.cache import CacheInbox, CachePlan, CacheStore
from messages.chat import ClientFormat
from messages.commands import ClientRequest
from messages.events import CacheMiss, TrailEvent
from messages.usage import Usage

PLAN = CachePlan(mode="exact", scope="dev/-/-", key=b"k" * 32, ttl_s=60, threshold=0.9)
CONFIG = GatewayConfig(accounts=(), virtual_keys=())


def _request(request_id: str = "req_1") -> ClientRequest:
    return ClientRequest(
        request_id=request_id,
        received_at=time.time(),
        started=trio.current_time(),
        client_format=ClientFormat.RESPONSES,
        endpoint="/v1/responses",
        model="gpt-5.5",
        stream=False,
        body={"model": "gpt-5.5", "input": "hi"},
        virtual_key_id="k",
        account_id="dev",
        session_id=None,
        cache=PLAN,
    )


async def _miss_reason(gate: CacheGate, audit: trio.MemoryReceiveChannel[TrailEvent]) -> str:
    assert not await gate.answered(_request(), None)  # type: ignore[arg-type]
    event = audit.receive_nowait()
    assert isinstance(event, CacheMiss)
    return event.reason


async def test_a_full_inbox_is_a_miss_at_once() -> None:
    send, _receive = trio.open_memory_channel[CacheInbox](0)
    audit_send, audit = trio.open_memory_channel[TrailEvent](4)
    gate = CacheGate(CONFIG, send, audit_send)
    with trio.fail_after(0.05):
        assert await _miss_reason(gate, audit) == "the cache actor is busy"
    assert gate.statistics().full_inbox == 1


async def test_a_silent_actor_costs_the_lookup_timeout(autojump_clock: trio.abc.Clock) -> None:
    send, _receive = trio.open_memory_channel[CacheInbox](1)  # nobody answers
    audit_send, audit = trio.open_memory_channel[TrailEvent](4)
    gate = CacheGate(CONFIG, send, audit_send)
    started = trio.current_time()
    assert await _miss_reason(gate, audit) == f"the lookup took over {EXACT_LOOKUP_TIMEOUT_S:g}s"
    assert trio.current_time() - started == EXACT_LOOKUP_TIMEOUT_S


async def test_a_stopped_actor_is_a_miss() -> None:
    send, receive = trio.open_memory_channel[CacheInbox](1)
    receive.close()
    audit_send, audit = trio.open_memory_channel[TrailEvent](4)
    assert (
        await _miss_reason(CacheGate(CONFIG, send, audit_send), audit) == "the cache is not running"
    )


async def test_the_actor_answers_what_it_was_given(nursery: trio.Nursery) -> None:
    actor = CacheActor(CacheConfig())
    send, receive = trio.open_memory_channel[CacheInbox](8)
    await nursery.start(actor.run, receive)
    audit_send, audit = trio.open_memory_channel[TrailEvent](4)
    gate = CacheGate(CONFIG, send, audit_send)
    assert await _miss_reason(gate, audit) == "no entry"
    response = {
        "status": "completed",
        "output": [{"type": "message", "content": [{"type": "output_text", "text": "4"}]}],
        "usage": {"input_tokens": 3, "output_tokens": 1},
    }
    store = CacheStore(
        request_id="req_0",
        plan=PLAN,
        client_format="responses",
        response=orjson.dumps(response),
        usage=Usage(input_tokens=3),
        provider_type="openai",
        model="gpt-5.5",
        at=time.time(),
    )
    send.send_nowait(store)
    while actor.statistics().stored < 1:
        await trio.sleep(0.001)
    hit = await gate._lookup(_request("req_2"), PLAN)
    assert not isinstance(hit, str)
    assert (hit.layer, hit.origin_request_id, hit.similarity) == ("exact", "req_0", None)
    other_scope = CachePlan(mode="exact", scope="dev/red/-", key=PLAN.key, ttl_s=60, threshold=0.9)
    assert await gate._lookup(_request("req_3"), other_scope) == "no entry"
