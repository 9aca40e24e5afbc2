"""The provider worker reports every attempt to the router without waiting: a full router
inbox drops reports (counted, logged) and never stalls or crashes a request."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import trio
from structlog.testing import capture_logs

from actors.provider_worker import ProviderWorker
from config.model import RetryPolicy
from fakes import FakeProviderServer, Fault, open_fake_provider
from http11.client import UpstreamPool
from messages.chat import ClientFormat
from messages.commands import ClientRequest, Reply, ReplyError, ReplyHead
from messages.errors import ErrorKind
from messages.events import TrailEvent
from routing.commands import AttemptReport, Candidate, ProviderJob, RouterInbox
from tests.gateway_rig import config_yaml, make_config, openai_provider

FAST_RETRY = RetryPolicy(max_retries=1, backoff_base_s=0.01, backoff_max_s=0.01)


def _job(
    fake: FakeProviderServer, db: Path, reply_to: trio.MemorySendChannel[Reply], retry: bool
) -> ProviderJob:
    provider = make_config(config_yaml([openai_provider(fake.base_url)], db_path=db))
    configured = provider.accounts[0].providers[0]
    if retry:
        configured = replace(configured, retry=FAST_RETRY)
    request = ClientRequest(
        request_id="req_worker",
        received_at=0.0,
        started=trio.current_time(),
        client_format=ClientFormat.CHAT,
        endpoint="/v1/chat/completions",
        model="gpt-5.5",
        stream=False,
        body={"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}]},
        virtual_key_id="vk",
        account_id="dev",
        session_id=None,
    )
    return ProviderJob(
        request=request,
        candidates=(Candidate(provider=configured, model=configured.model),),
        reply_to=reply_to,
        deadline=trio.current_time() + 10,
    )


async def _serve(
    fake: FakeProviderServer,
    db: Path,
    router: trio.MemorySendChannel[RouterInbox],
    *,
    retry: bool = False,
) -> tuple[ProviderWorker, Reply]:
    """Run a worker on one job; return it and the job's first reply."""
    audit_send, _audit_receive = trio.open_memory_channel[TrailEvent](256)
    reply_send, reply_receive = trio.open_memory_channel[Reply](8)
    jobs_send, jobs_receive = trio.open_memory_channel[ProviderJob](1)
    async with UpstreamPool() as pool:
        worker = ProviderWorker(pool=pool, audit=audit_send, router=router)
        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                await nursery.start(worker.run, jobs_receive)
                await jobs_send.send(_job(fake, db, reply_send, retry))
                await jobs_send.aclose()
    return worker, reply_receive.receive_nowait()


async def test_a_full_router_inbox_drops_reports_and_the_request_goes_on(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    fake = await open_fake_provider(nursery)
    fake.enqueue(Fault(status=500))
    router_send, router_receive = trio.open_memory_channel[RouterInbox](0)  # nobody reads
    with capture_logs() as logs:
        worker, reply = await _serve(fake, tmp_path / "t.db", router_send)
    assert isinstance(reply, ReplyError) and reply.error.status == 500
    assert worker.statistics().reports_dropped == 1
    assert any(e["event"] == "router inbox full: reports dropped" for e in logs)
    router_receive.close()


async def test_a_closed_router_inbox_is_no_crash_either(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    fake = await open_fake_provider(nursery)
    router_send, router_receive = trio.open_memory_channel[RouterInbox](4)
    router_receive.close()
    _, reply = await _serve(fake, tmp_path / "t.db", router_send)
    assert isinstance(reply, ReplyHead) and reply.status == 200


async def test_every_attempt_is_reported_with_its_outcome(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    fake = await open_fake_provider(nursery)
    fake.enqueue(Fault(status=503))
    router_send, router_receive = trio.open_memory_channel[RouterInbox](8)
    _, reply = await _serve(fake, tmp_path / "t.db", router_send, retry=True)
    assert isinstance(reply, ReplyHead)
    first, second = router_receive.receive_nowait(), router_receive.receive_nowait()
    assert isinstance(first, AttemptReport) and isinstance(second, AttemptReport)
    assert first.error is not None and first.error.kind is ErrorKind.OVERLOADED
    assert second.error is None
    assert first.provider.id == "fake-openai"
    assert len(fake.requests) == 2
