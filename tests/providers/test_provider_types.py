"""The provider types are defined once, in ``config/provider_types.py`` (name and default
base URL); every other table keyed by type is checked against it here, so a type added in
one place and forgotten in another fails this test, not a request."""

from __future__ import annotations

import pytest

from config.provider_types import PROVIDER_TYPES
from fakes.openai_wire import CHAT
from fakes.server import FORMATS
from messages.chat import ClientFormat
from providers.exchanges.open_exchange import (
    ANTHROPIC_NATIVE,
    CHAT_NATIVE,
    RESPONSES_NATIVE,
    open_exchange,
)
from providers.registry import REGISTRY
from tests.providers.contract_wires import WIRE_FOR_TYPE, ChatWithUsage

BODIES = {
    ClientFormat.RESPONSES: {"model": "m", "input": "hello"},
    ClientFormat.CHAT: {"model": "m", "messages": [{"role": "user", "content": "hello"}]},
    ClientFormat.ANTHROPIC: {
        "model": "m",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "hello"}],
    },
}


def test_every_configurable_type_has_an_adapter_and_nothing_else_does() -> None:
    assert set(REGISTRY) == set(PROVIDER_TYPES)


def test_the_passthrough_types_are_configurable_types() -> None:
    assert set(RESPONSES_NATIVE | CHAT_NATIVE | ANTHROPIC_NATIVE) <= set(PROVIDER_TYPES)


def test_every_type_has_a_fake_wire_the_fake_server_serves() -> None:
    assert set(WIRE_FOR_TYPE) == set(PROVIDER_TYPES)
    for provider_type, wire in WIRE_FOR_TYPE.items():
        served = CHAT if isinstance(wire, ChatWithUsage) else wire
        assert served in FORMATS, provider_type


@pytest.mark.parametrize("client_format", list(ClientFormat))
@pytest.mark.parametrize("provider_type", sorted(PROVIDER_TYPES))
def test_every_type_serves_every_client_format(
    provider_type: str, client_format: ClientFormat
) -> None:
    exchange = open_exchange(
        client_format,
        BODIES[client_format],
        provider_type=provider_type,
        model="m",
        api_key="k",
        request_id="req_1",
    )
    call = exchange.call()
    assert call.body, (provider_type, client_format)
