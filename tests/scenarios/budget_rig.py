"""A gateway with budgets, for the budget scenarios: config text, a fixed-cost fake, and
a request body whose estimate is known to cover what the fake bills."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import trio

from actors.system import GatewayHandle, run_gateway
from config.model import GatewayConfig
from fakes import FakeProviderServer, FakeUsage, Reply, Text, Turn
from tests.gateway_rig import ENVIRON, config_yaml, make_config, openai_provider

ALICE = "sk-alice-budget-test-key-0001"
ALICE_KEY = f"""  - id: "alice"
    key: "{ALICE}"
    account: "dev"
    team: "red"
    customer: "acme"
"""
FIXED_USAGE = FakeUsage(input_tokens=1000, output_tokens=100)
COST = (1000 * 5 + 100 * 30) / 1e6  # what one request costs on gpt-5.5: $0.008
BODY_PADDING = 4000  # bytes, so the estimate's input (bytes / 4) covers the 1000 billed
MAX_OUTPUT = 100


def fixed_cost(fake: FakeProviderServer) -> None:
    """Every answer bills 1000 tokens in and 100 out."""
    fake.fallback = Turn(reply=Reply(items=(Text(text="ok"),), usage=FIXED_USAGE))


def body(text: str = "hello", **extra: Any) -> dict[str, Any]:
    """A Responses body whose estimate is a little over ``COST`` (see ``estimate``)."""
    return {
        "model": "gpt-5.5",
        "input": text + " " + "x" * BODY_PADDING,
        "max_output_tokens": MAX_OUTPUT,
        **extra,
    }


def budget_config(
    fake: FakeProviderServer,
    db: Path,
    *,
    budgets: str = "",
    providers: list[dict[str, Any]] | None = None,
    pricing: str = "",
) -> GatewayConfig:
    text = config_yaml(
        providers or [openai_provider(fake.base_url)], db_path=db, extra_keys=ALICE_KEY
    )
    if budgets:
        text += "budgets:\n" + budgets
    if pricing:
        text += f"pricing:\n  - {pricing}\n"
    return make_config(text, {**ENVIRON})


@asynccontextmanager
async def budget_gateway(config: GatewayConfig) -> AsyncIterator[GatewayHandle]:
    """The gateway, reading the CLI's keys and budgets every 0.1 s."""
    async with trio.open_nursery() as nursery:
        handle: GatewayHandle = await nursery.start(
            lambda task_status: run_gateway(
                config, port=0, store_poll_s=0.1, task_status=task_status
            )
        )
        try:
            yield handle
        finally:
            handle.stop()


async def wait_settled(handle: GatewayHandle, count: int) -> None:
    """Until the accountant has settled ``count`` requests."""
    assert handle.accountant is not None
    with trio.fail_after(10):
        while handle.accountant.statistics().settled < count:
            await handle.accountant.next_message()


def alice() -> dict[str, str]:
    return {"authorization": f"Bearer {ALICE}"}
