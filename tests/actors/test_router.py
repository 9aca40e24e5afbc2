"""The router actor driven through its channels (virtual time): breakers fed by attempt
reports change the candidates, every change is logged and visible in ``route.decided``,
a reload swaps the config, and a full inbox never stalls the worker."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
import trio
from structlog.testing import capture_logs

from actors.router import Router
from config.model import BreakerPolicy, GatewayConfig, ProviderConfig
from messages.chat import ClientFormat
from messages.commands import ClientRequest, Reply, ReplyError
from messages.errors import ErrorInfo, ErrorKind
from messages.events import RouteDecided, TrailEvent
from routing.commands import AttemptReport, ProviderJob, ReloadConfig, RouteRequest, RouterInbox
from tests.gateway_rig import make_config

BOOM = ErrorInfo(kind=ErrorKind.UPSTREAM_ERROR, status=500, message="boom")

CONFIG = """\
defaults:
  breaker: {failure_threshold: 2, cooldown_s: 5}
accounts:
  - id: "dev"
    providers:
      - {id: "a", type: "openai", api_key: "k", model: "m-a", weight: 60}
      - {id: "b", type: "openai", api_key: "k", model: "m-b", weight: 25}
      - {id: "c", type: "openai", api_key: "k", model: "m-c", weight: 15}
virtual_keys:
  - {id: "vk", key: "${TEST_VIRTUAL_KEY}", account: "dev"}
"""


@dataclass
class Rig:
    inbox: trio.MemorySendChannel[RouterInbox]
    jobs: trio.MemoryReceiveChannel[ProviderJob]
    audit: trio.MemoryReceiveChannel[TrailEvent]
    router: Router
    config: GatewayConfig

    def provider(self, provider_id: str) -> ProviderConfig:
        return next(p for p in self.config.accounts[0].providers if p.id == provider_id)

    async def route(self, *, pinned: str | None = None) -> tuple[ProviderJob | Reply, str]:
        """Send one request; return the job (or the refusal) and route.decided's reason."""
        send, receive = trio.open_memory_channel[Reply](1)
        request = ClientRequest(
            request_id="req_1",
            received_at=0.0,
            started=trio.current_time(),
            client_format=ClientFormat.CHAT,
            endpoint="/v1/chat/completions",
            model="m",
            stream=False,
            body={},
            virtual_key_id="vk",
            account_id="dev",
            session_id=None,
            pinned_provider=pinned,
        )
        deadline = trio.current_time() + 60
        await self.inbox.send(RouteRequest(request=request, reply_to=send, deadline=deadline))
        decided = await self.audit.receive()
        assert isinstance(decided, RouteDecided)
        with trio.move_on_after(1):
            return await self.jobs.receive(), decided.reason
        return receive.receive_nowait(), decided.reason

    async def report(self, provider_id: str, error: ErrorInfo | None) -> None:
        report = AttemptReport(request_id="req_0", provider=self.provider(provider_id), error=error)
        await self.inbox.send(report)
        await trio.sleep(0.01)  # let the router take it


@pytest.fixture
async def rig(nursery: trio.Nursery) -> Rig:
    config = make_config(CONFIG)
    inbox_send, inbox_receive = trio.open_memory_channel[RouterInbox](16)
    jobs_send, jobs_receive = trio.open_memory_channel[ProviderJob](16)
    audit_send, audit_receive = trio.open_memory_channel[TrailEvent](64)
    router = Router(config, workers=jobs_send, audit=audit_send, rng=random.Random(5))
    await nursery.start(router.run, inbox_receive)
    return Rig(inbox_send, jobs_receive, audit_receive, router, config)


def _ids(job: ProviderJob | Reply) -> list[str]:
    assert isinstance(job, ProviderJob), job
    return [c.provider.id for c in job.candidates]


async def test_the_breaker_opens_probes_and_closes_through_the_router(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    with capture_logs() as logs:
        await rig.report("a", BOOM)
        await rig.report("a", BOOM)
        job, reason = await rig.route()
        assert "a" not in _ids(job)
        assert "skip a (circuit open, next probe in 5.0s)" in reason
        assert rig.router.statistics().circuits[0].state == "open"

        await trio.sleep(5)
        probe, reason = await rig.route()
        assert _ids(probe)[0] == "a"
        assert "probe a (circuit half-open)" in reason
        during, reason = await rig.route()
        assert "a" not in _ids(during)  # one probe at a time

        await rig.report("a", None)
        after, _ = await rig.route()
        assert sorted(_ids(after)) == ["a", "b", "c"]
        assert rig.router.statistics().circuits == ()
    changes = [(e["event"], e["provider"], e["to_state"]) for e in logs if "provider" in e]
    assert changes == [
        ("circuit opened", "a", "open"),
        ("circuit half-open: probing", "a", "half_open"),
        ("circuit closed", "a", "closed"),
    ]


async def test_a_failed_probe_reopens_for_another_cooldown(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    await rig.report("a", BOOM)
    await rig.report("a", BOOM)
    await trio.sleep(5)
    await rig.route()  # the probe
    await rig.report("a", BOOM)
    job, reason = await rig.route()
    assert "a" not in _ids(job) and "skip a (circuit open" in reason


async def test_a_pinned_provider_with_an_open_circuit_is_refused_with_retry_after(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    await rig.report("b", BOOM)
    await rig.report("b", BOOM)
    await trio.sleep(2)
    refusal, reason = await rig.route(pinned="b")
    assert isinstance(refusal, ReplyError)
    assert refusal.error.status == 503
    assert refusal.error.retry_after == pytest.approx(3.0, abs=0.1)
    assert "circuit open" in refusal.error.message
    assert reason.startswith("pinned; skip b")


async def test_rate_limits_and_rejected_keys_do_not_open_the_circuit(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    for kind in (ErrorKind.RATE_LIMITED, ErrorKind.PROVIDER_AUTH, ErrorKind.QUOTA_EXHAUSTED):
        for _ in range(3):
            await rig.report("a", ErrorInfo(kind=kind, status=429, message="x"))
    job, _ = await rig.route()
    assert "a" in _ids(job)


async def test_a_reload_swaps_the_config_and_forgets_removed_circuits(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    await rig.report("a", BOOM)
    await rig.report("c", BOOM)
    await rig.report("c", BOOM)
    new = make_config(CONFIG.replace('id: "c"', 'id: "d"').replace("m-c", "m-d"))
    await rig.inbox.send(ReloadConfig(config=new))
    job, _ = await rig.route()
    assert sorted(_ids(job)) == ["a", "b", "d"]
    assert [s.provider_id for s in rig.router.statistics().circuits] == ["a"]


async def test_checks_plug_in_before_the_breaker(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """How a spent budget will leave a provider out: a check returning a reason."""
    config = make_config(CONFIG)
    inbox_send, inbox_receive = trio.open_memory_channel[RouterInbox](4)
    jobs_send, jobs_receive = trio.open_memory_channel[ProviderJob](4)
    audit_send, audit_receive = trio.open_memory_channel[TrailEvent](8)
    router = Router(
        config,
        workers=jobs_send,
        audit=audit_send,
        checks=[lambda request, provider: "budget spent" if provider.id == "a" else None],
    )
    await nursery.start(router.run, inbox_receive)
    rig = Rig(inbox_send, jobs_receive, audit_receive, router, config)
    job, reason = await rig.route()
    assert sorted(_ids(job)) == ["b", "c"]
    assert "skip a (budget spent)" in reason


def test_breaker_policy_is_read_from_defaults_and_per_provider() -> None:
    config = make_config(
        CONFIG.replace(
            '{id: "c", type: "openai", api_key: "k", model: "m-c", weight: 15}',
            '{id: "c", type: "openai", api_key: "k", model: "m-c", weight: 15, '
            "breaker: {cooldown_s: 1}}",
        )
    )
    a, _, c = config.accounts[0].providers
    assert a.breaker == BreakerPolicy(failure_threshold=2, cooldown_s=5)
    assert c.breaker == BreakerPolicy(failure_threshold=2, cooldown_s=1)
