"""``GET /metrics`` after mixed traffic, read with prometheus-client's own parser: every
count agrees with the trail in SQL, and only an admin may read it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import trio
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from actors.admin_sessions import AdminSessions, access
from fakes import FakeProviderServer, open_fake_provider
from tests.scenarios.operator_rig import admin, gateway_with_traffic


@pytest.fixture
async def a(nursery: trio.Nursery) -> FakeProviderServer:
    return await open_fake_provider(nursery)


@pytest.fixture
async def b(nursery: trio.Nursery) -> FakeProviderServer:
    return await open_fake_provider(nursery)


def _samples(text: str) -> dict[str, list[Sample]]:
    out: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append(sample)
    return out


def _by(samples: list[Sample], *labels: str) -> dict[tuple[str, ...], float]:
    out: Counter[tuple[str, ...]] = Counter()
    for sample in samples:
        out[tuple(sample.labels[label] for label in labels)] += sample.value
    return dict(out)


async def test_metrics_count_what_the_trail_recorded(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path
) -> None:
    async with gateway_with_traffic(a, b, tmp_path) as traffic:
        response = await traffic.client.get("/metrics", headers=admin())
        rows = traffic.trail.rows(
            "SELECT COALESCE(provider, 'none') AS provider, COALESCE(model, 'none') AS model,"
            " client_format, http_status, input_tokens, output_tokens, cost_usd FROM requests"
        )
        attempts = traffic.trail.rows("SELECT provider, reason FROM attempts")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = _samples(response.text)

    requests = _by(samples["switchyard_requests_total"], "provider", "model", "endpoint", "status")
    expected = Counter(
        (r["provider"], r["model"], r["client_format"], str(r["http_status"])) for r in rows
    )
    assert requests == {key: float(n) for key, n in expected.items()}
    assert expected[("none", "none", "responses", "402")] == 1  # the budget refusal
    assert sum(expected.values()) == 9

    by_provider = _by(samples["switchyard_upstream_attempts_total"], "provider")
    assert by_provider == dict(Counter((row["provider"],) for row in attempts)) | {}
    kinds = _by(samples["switchyard_upstream_attempts_total"], "kind")
    assert kinds[("retry",)] == sum(r["reason"].startswith("retry") for r in attempts) == 1
    assert kinds[("failover",)] == sum(r["reason"].startswith("failover") for r in attempts) == 1
    assert _by(samples["switchyard_upstream_retries_total"], "provider", "reason") == {
        ("a", "upstream_error"): 1.0
    }
    assert _by(samples["switchyard_failovers_total"], "from_provider", "reason") == {
        ("a", "upstream_error"): 1.0
    }

    tokens = _by(samples["switchyard_tokens_total"], "provider", "kind")
    for provider in ("a", "b"):
        served = [r for r in rows if r["provider"] == provider]
        assert tokens[(provider, "input")] == sum(r["input_tokens"] for r in served) > 0
        assert tokens[(provider, "output")] == sum(r["output_tokens"] for r in served) > 0
    cost = _by(samples["switchyard_cost_usd_total"], "provider", "model")
    assert cost[("b", "gpt-5.5")] == pytest.approx(
        sum(r["cost_usd"] or 0 for r in rows if r["provider"] == "b")
    )
    assert sum(cost.values()) == pytest.approx(sum(r["cost_usd"] or 0 for r in rows))

    durations = _by(samples["switchyard_request_duration_seconds_count"], "endpoint")
    assert durations == {
        (fmt,): float(n) for fmt, n in Counter(r["client_format"] for r in rows).items()
    }
    served_inf = [
        s
        for s in samples["switchyard_request_first_byte_seconds_bucket"]
        if s.labels["le"] == "+Inf"
    ]
    assert sum(s.value for s in served_inf) == 7  # the served ones had an upstream byte
    assert sum(s.value for s in samples["switchyard_gateway_overhead_seconds_count"]) == 7

    blue = _by(samples["switchyard_budget_utilisation_ratio"], "level", "scope")
    assert blue[("team", "blue")] == 0.0  # refused before it spent anything
    assert blue[("virtual_key", "codex-dev")] == pytest.approx(
        sum(r["cost_usd"] or 0 for r in rows) / 50
    )
    assert samples["switchyard_budget_refusals_total"][0].value == 1
    channels = {s.labels["channel"] for s in samples["switchyard_channel_depth"]}
    assert channels == {"audit", "router", "provider_worker", "budget_accountant"}
    assert samples["switchyard_trail_database_up"][0].value == 1
    assert "switchyard_trail_backlog_events" in samples
    assert "switchyard_cache_lookups_total" not in samples  # no cache yet: an empty family


async def test_metrics_need_the_admin_key_when_one_is_set(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path
) -> None:
    async with gateway_with_traffic(a, b, tmp_path) as traffic:
        missing = await traffic.client.get("/metrics")
        wrong = await traffic.client.get("/metrics", headers={"authorization": "Bearer nope"})
        tenant = await traffic.client.get(
            "/metrics", headers={"authorization": "Bearer sk-sy-test-virtual-key-0001"}
        )
    assert [r.status_code for r in (missing, wrong, tenant)] == [401, 401, 401]
    assert "switchyard_" not in missing.text + wrong.text + tenant.text
    assert "admin key required" in missing.json()["error"]["message"]


async def test_without_an_admin_key_metrics_are_open_on_loopback_only(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path
) -> None:
    async with gateway_with_traffic(a, b, tmp_path, admin_key=False) as traffic:
        response = await traffic.client.get("/metrics")
    assert response.status_code == 200
    assert "switchyard_requests_total" in response.text
    sessions = AdminSessions()
    for host in ("0.0.0.0", "10.1.2.3", "::", "gateway.example"):
        refused = access(
            authorization=None, cookie=None, admin_key=None, bound_host=host, sessions=sessions
        )
        assert refused is not None
        assert refused.status == 403
    for host in ("127.0.0.1", "::1", "localhost"):
        allowed = access(
            authorization=None, cookie=None, admin_key=None, bound_host=host, sessions=sessions
        )
        assert allowed is None
