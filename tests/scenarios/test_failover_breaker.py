"""The circuit breaker through the whole gateway: a provider that keeps failing stops
being tried (counted at its fake), one probe tries it again after the cool-down, and
every change of state is logged and visible in the trail."""

from __future__ import annotations

from pathlib import Path

import trio
from structlog.testing import capture_logs

from fakes import Fault, Turn, open_fake_provider
from tests.scenarios.failover_rig import gate, upstream

PRIMARY = 1_000_000_000
BREAKER = {"failure_threshold": 2, "cooldown_s": 0.4}


async def test_the_circuit_opens_probes_once_and_closes(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    a, b = await open_fake_provider(nursery), await open_fake_provider(nursery)
    a.fallback = Turn(fault=Fault(status=500))
    providers = [upstream(a, "a", weight=PRIMARY, breaker=BREAKER), upstream(b, "b")]
    with capture_logs() as logs:
        async with gate(providers, tmp_path) as g:
            for _ in range(2):
                assert (await g.chat()).headers["x-switchyard-provider"] == "b"
            assert len(a.requests) == 2  # two failed attempts: the circuit opens

            skipped = [await g.chat() for _ in range(3)]
            assert len(a.requests) == 2  # not tried while open
            assert all(r.headers["x-switchyard-attempts"] == "1" for r in skipped)
            assert "skip a (circuit open" in await g.route_reason(skipped[0])

            await trio.sleep(0.45)
            a.fallback = None  # it recovered
            probe = await g.chat()
            assert probe.headers["x-switchyard-provider"] == "a"
            assert "probe a (circuit half-open)" in await g.route_reason(probe)
            closed = await g.chat()
            assert closed.headers["x-switchyard-provider"] == "a"
            assert await g.route_reason(closed) == "weighted"
    changes = [(e["event"], e["provider"]) for e in logs if e.get("provider") == "a"]
    assert [event for event, _ in changes if event.startswith("circuit")] == [
        "circuit opened",
        "circuit half-open: probing",
        "circuit closed",
    ]


async def test_a_failed_probe_reopens_and_the_fallback_still_serves(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    a, b = await open_fake_provider(nursery), await open_fake_provider(nursery)
    a.fallback = Turn(fault=Fault(status=503))
    providers = [upstream(a, "a", weight=PRIMARY, breaker=BREAKER), upstream(b, "b")]
    async with gate(providers, tmp_path) as g:
        for _ in range(2):
            await g.chat()
        await trio.sleep(0.45)
        probe = await g.chat()
        attempts = await g.attempts(probe)
        after = await g.chat()
    assert probe.headers["x-switchyard-provider"] == "b"
    assert [r["provider"] for r in attempts] == ["a", "b"]
    assert after.headers["x-switchyard-attempts"] == "1"
    assert len(a.requests) == 3  # two to open it, one probe


async def test_with_every_circuit_open_the_client_is_told_when_to_come_back(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    a = await open_fake_provider(nursery)
    a.fallback = Turn(fault=Fault(status=500))
    breaker = {"failure_threshold": 1, "cooldown_s": 5}
    async with gate([upstream(a, "a", breaker=breaker)], tmp_path) as g:
        assert (await g.chat()).status_code == 500
        refused = await g.chat()
        row = await g.finished(refused.headers["x-request-id"])
    assert refused.status_code == 503
    assert int(refused.headers["retry-after"]) in (4, 5)
    assert "circuit open" in refused.json()["error"]["message"]
    assert len(a.requests) == 1
    assert (row["status"], row["attempts"]) == ("failed", 0)
