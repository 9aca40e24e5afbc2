"""Nothing is served free under a USD budget: a model without a price is refused with a
402 that names it and says how to price it — whether the config routes to it or the
client pins it with ``provider/model`` — unless a ``pricing:`` fallback prices it, and
then the rows say the price was a fallback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes import FakeProviderServer, FakeUsage, Reply, Text
from tests.gateway_rig import Trail, auth, openai_provider
from tests.scenarios.budget_rig import alice, budget_config, budget_gateway, wait_settled
from tests.scenarios.translation_rig import provider_for

ONE_DOLLAR = '  - {level: "virtual_key", id: "alice", limit: 1, period: "daily"}\n'
RATE_ONLY = '  - {level: "virtual_key", id: "alice", requests_per_minute: 1000}\n'
USAGE = FakeUsage(input_tokens=1000, output_tokens=500)


def _chat(model: str) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 50}


def _self_hosted(fake: FakeProviderServer) -> dict[str, Any]:
    return provider_for("openai-compatible", fake)  # model llama-3.3-70b: no shipped price


async def _post(gateway: Any, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
        return await client.post("/v1/chat/completions", json=body, headers=headers)


def _assert_unpriced_refusal(response: httpx.Response, model: str, kind: str) -> None:
    assert response.status_code == 402, response.text
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("budget_exceeded", "model_unpriced")
    message = error["message"]
    assert f"model '{model}' ({kind}) has no price" in message
    assert "virtual_key 'alice'" in message
    assert f'pricing:\' in the config: {{provider: "{kind}", model: "{model}"' in message
    assert "\n" not in message


async def test_an_unpriced_model_under_a_usd_budget_is_refused_and_never_called(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    config = budget_config(
        fake, tmp_path / "trail.db", budgets=ONE_DOLLAR, providers=[_self_hosted(fake)]
    )
    async with budget_gateway(config) as gateway:
        refused = await _post(gateway, _chat("llama-3.3-70b"), alice())
        # the same model for a key without a budget is served (and costs NULL, not 0)
        free = await _post(gateway, _chat("llama-3.3-70b"), auth())
    _assert_unpriced_refusal(refused, "llama-3.3-70b", "openai-compatible")
    assert free.status_code == 200, free.text
    assert len(fake.requests) == 1  # only the unbudgeted key's request reached the provider


async def test_a_client_pinning_an_unpriced_model_is_refused_too(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    # the account's own model is priced; the client pins a model the price list lacks
    config = budget_config(fake, tmp_path / "trail.db", budgets=ONE_DOLLAR)
    async with budget_gateway(config) as gateway:
        pinned = await _post(gateway, _chat("fake-openai/gpt-9-turbo-preview"), alice())
        priced = await _post(gateway, _chat("gpt-5.5"), alice())
    _assert_unpriced_refusal(pinned, "gpt-9-turbo-preview", "openai")
    assert priced.status_code == 200, priced.text
    assert [r.body["model"] for r in fake.requests] == ["gpt-5.5"]  # type: ignore[index]


async def test_a_budget_without_a_usd_limit_does_not_refuse_unpriced_models(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    config = budget_config(
        fake, tmp_path / "trail.db", budgets=RATE_ONLY, providers=[_self_hosted(fake)]
    )
    async with budget_gateway(config) as gateway:
        response = await _post(gateway, _chat("llama-3.3-70b"), alice())
    assert response.status_code == 200, response.text


FALLBACKS = [
    # (pricing entry, provider, requested model, USD per 1M in/out)
    ('{provider: "openai-compatible", model: "*", input: 2, output: 8}', "self-hosted", 2, 8),
    ('{provider: "*", model: "*", input: 3, output: 12}', "self-hosted", 3, 12),
    ('{provider: "*", model: "*", input: 3, output: 12}', "pinned", 3, 12),
]


@pytest.mark.parametrize(("entry", "route", "input_price", "output_price"), FALLBACKS)
async def test_a_fallback_price_serves_the_model_and_the_rows_say_so(
    fake: FakeProviderServer,
    tmp_path: Path,
    entry: str,
    route: str,
    input_price: float,
    output_price: float,
) -> None:
    db = tmp_path / "trail.db"
    providers = [_self_hosted(fake)] if route == "self-hosted" else [openai_provider(fake.base_url)]
    config = budget_config(fake, db, budgets=ONE_DOLLAR, providers=providers, pricing=entry)
    model = "llama-3.3-70b" if route == "self-hosted" else "fake-openai/gpt-9-turbo-preview"
    fake.enqueue(Reply(items=(Text(text="priced by the fallback"),), usage=USAGE))
    async with budget_gateway(config) as gateway:
        response = await _post(gateway, _chat(model), alice())
        assert response.status_code == 200, response.text
        await wait_settled(gateway, 1)
        assert gateway.accountant is not None
        [view] = gateway.accountant.statistics().budgets
    expected = (1000 * input_price + 500 * output_price) / 1e6
    trail = Trail(db)  # the gateway has stopped: its drain wrote it all
    request_id = response.headers["x-request-id"]
    rows = trail.rows(
        "SELECT cost_usd, price_source FROM requests WHERE request_id = ? AND status = 'completed'",
        request_id,
    )
    [attempt] = trail.rows(
        "SELECT cost_usd, price_source FROM attempts WHERE request_id = ?", request_id
    )
    assert (rows[0]["cost_usd"], rows[0]["price_source"]) == (pytest.approx(expected), "fallback")
    assert (attempt["cost_usd"], attempt["price_source"]) == (pytest.approx(expected), "fallback")
    assert view.spent_usd == pytest.approx(expected)


async def test_a_shipped_price_is_recorded_as_such(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    db = tmp_path / "trail.db"
    config = budget_config(fake, db, budgets=ONE_DOLLAR)
    fake.enqueue(Reply(items=(Text(text="listed"),), usage=USAGE))
    async with budget_gateway(config) as gateway:
        response = await _post(gateway, _chat("gpt-5.5"), alice())
        assert response.status_code == 200, response.text
        await wait_settled(gateway, 1)
    rows = Trail(db).rows("SELECT price_source FROM requests WHERE status = 'completed'")
    assert rows[0]["price_source"] == "shipped"


async def test_a_provider_usd_budget_refuses_its_unpriced_model_for_every_key(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    # no key budget at all: the provider's own USD budget is what must not be bypassed
    provider = _self_hosted(fake)
    budgets = f'  - {{level: "provider", id: "{provider["id"]}", limit: 1, period: "daily"}}\n'
    config = budget_config(fake, tmp_path / "trail.db", budgets=budgets, providers=[provider])
    async with budget_gateway(config) as gateway:
        response = await _post(gateway, _chat("llama-3.3-70b"), auth())
    assert response.status_code == 402, response.text
    error = response.json()["error"]
    assert error["code"] == "model_unpriced"
    assert f"provider '{provider['id']}' has a USD budget" in error["message"]
    assert fake.requests == []
