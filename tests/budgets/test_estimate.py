"""A request's estimate: input from the body size, output bounded, the dearest route."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budgets.estimate import (
    DEFAULT_OUTPUT_TOKENS,
    candidate_routes,
    estimate_cost,
    estimated_input_tokens,
)
from budgets.pricing import ModelPrice, PriceTable, TierPrice, usage_cost
from config.model import AccountConfig, PriceOverride, ProviderConfig
from messages.budget import Route
from messages.chat import ClientFormat
from messages.usage import Usage
from providers.client_formats.request_fields import RequestInvalid
from providers.output_limit import requested_output_tokens

CHAT, RESPONSES = ClientFormat.CHAT, ClientFormat.RESPONSES

PRICES = PriceTable.shipped()


def _provider(provider_id: str, kind: str, model: str) -> ProviderConfig:
    return ProviderConfig(id=provider_id, type=kind, model=model, weight=1, base_url="x", keys=())


ACCOUNT = AccountConfig(
    id="dev",
    providers=(
        _provider("main", "openai", "gpt-5.5"),
        _provider("cheap", "mistral", "mistral-large-latest"),
    ),
)


def test_input_is_body_bytes_over_four_and_output_is_the_requests_own_bound() -> None:
    assert estimated_input_tokens(4003) == 1000
    assert requested_output_tokens(RESPONSES, {"max_output_tokens": 512}) == 512
    assert requested_output_tokens(RESPONSES, {"max_tokens": 64000}) is None  # not its field
    # Chat: the larger of its two fields (a passthrough upstream gets both)
    assert requested_output_tokens(CHAT, {"max_completion_tokens": 64, "max_tokens": 9}) == 64
    assert requested_output_tokens(CHAT, {"max_completion_tokens": 1, "max_tokens": 64000}) == 64000
    assert requested_output_tokens(CHAT, {"max_output_tokens": 1, "max_tokens": 64000}) == 64000
    assert requested_output_tokens(CHAT, {"max_output_tokens": 1}) is None
    assert requested_output_tokens(CHAT, {}) is None


@pytest.mark.parametrize("value", [True, 0, -5, 1.5, "64", [1]])
def test_a_bound_that_is_not_a_positive_integer_is_a_400(value: object) -> None:
    with pytest.raises(RequestInvalid) as caught:
        requested_output_tokens(CHAT, {"max_completion_tokens": 8, "max_tokens": value})
    assert caught.value.param == "max_tokens"


def test_routes_are_the_accounts_providers_or_the_pinned_one() -> None:
    assert candidate_routes(ACCOUNT, pinned_provider=None, pinned_model=None) == (
        Route(provider_type="openai", model="gpt-5.5", provider_id="main"),
        Route(provider_type="mistral", model="mistral-large-latest", provider_id="cheap"),
    )
    assert candidate_routes(ACCOUNT, pinned_provider="cheap", pinned_model="codestral-latest") == (
        Route(provider_type="mistral", model="codestral-latest", provider_id="cheap"),
    )
    assert candidate_routes(None, pinned_provider=None, pinned_model=None) == ()


def test_the_estimate_is_the_dearest_priced_route() -> None:
    routes = candidate_routes(ACCOUNT, pinned_provider=None, pinned_model=None)
    # gpt-5.5 is dearer than mistral-large: 1000 in at $5, 500 out at $30
    routes = tuple(
        Route(provider_type=r.provider_type, model=r.model, max_output_tokens=500) for r in routes
    )
    assert estimate_cost(PRICES, routes, input_tokens=1000).usd == pytest.approx(
        (1000 * 5 + 500 * 30) / 1e6
    )
    assert estimate_cost(PRICES, routes, input_tokens=1000).unpriced == ()
    llama = Route(provider_type="openai-compatible", model="llama", max_output_tokens=500)
    alone = estimate_cost(PRICES, (llama,), input_tokens=1000)
    assert (alone.usd, alone.unpriced) == (None, (llama,))
    # one unpriced route among priced ones is still named: it could serve the request free
    mixed = estimate_cost(PRICES, (*routes, llama), input_tokens=1000)
    assert mixed.unpriced == (llama,) and mixed.usd == pytest.approx((1000 * 5 + 500 * 30) / 1e6)


def test_without_a_bound_the_output_is_the_models_own_maximum() -> None:
    route = (Route(provider_type="openai", model="gpt-5.5"),)
    ceiling = PRICES.find("openai", "gpt-5.5")
    assert ceiling is not None and ceiling.max_output_tokens is not None
    assert ceiling.max_output_tokens > DEFAULT_OUTPUT_TOKENS
    assert estimate_cost(PRICES, route, input_tokens=0).usd == pytest.approx(
        ceiling.max_output_tokens * 30 / 1e6
    )
    small = PRICES.with_overrides(
        (
            PriceOverride(
                provider="openai", model="gpt-5.5", input=5, output=30, default_output_tokens=100
            ),
        )
    )
    assert estimate_cost(small, route, input_tokens=0).usd == pytest.approx(100 * 30 / 1e6)
    # a model with no known maximum: the gateway's default
    fallback = PRICES.with_overrides(
        (PriceOverride(provider="openai-compatible", model="*", input=1, output=2),)
    )
    llama = (Route(provider_type="openai-compatible", model="llama"),)
    assert estimate_cost(fallback, llama, input_tokens=0).usd == pytest.approx(
        DEFAULT_OUTPUT_TOKENS * 2 / 1e6
    )


def test_a_config_price_keeps_the_listed_ceiling_or_states_its_own() -> None:
    route = (Route(provider_type="openai", model="gpt-5.5"),)
    listed = PRICES.find("openai", "gpt-5.5")
    assert listed is not None and listed.max_output_tokens is not None
    repriced = PRICES.with_overrides(
        (PriceOverride(provider="openai", model="gpt-5.5", input=1, output=2),)
    )
    # a new price does not shrink the hold of a request without a maximum to 4096 tokens
    assert estimate_cost(repriced, route, input_tokens=0).usd == pytest.approx(
        listed.max_output_tokens * 2 / 1e6
    )
    stated = PRICES.with_overrides(
        (
            PriceOverride(
                provider="openai-compatible", model="*", input=1, output=2, max_output_tokens=32768
            ),
        )
    )
    llama = (Route(provider_type="openai-compatible", model="llama"),)
    assert estimate_cost(stated, llama, input_tokens=0).usd == pytest.approx(32768 * 2 / 1e6)


def test_input_is_held_at_the_cache_write_price_where_that_is_dearer() -> None:
    """The gateway marks Anthropic's prompt cache, so a first turn may be billed as a
    cache write (1.25x input): the hold must cover it; OpenAI has no write price."""
    claude = (Route(provider_type="anthropic", model="claude-sonnet-4-5", max_output_tokens=100),)
    price = PRICES.find("anthropic", "claude-sonnet-4-5")
    assert price is not None and price.cache_write is not None
    assert price.cache_write > price.input
    assert estimate_cost(PRICES, claude, input_tokens=1000).usd == pytest.approx(
        (1000 * price.cache_write + 100 * price.output) / 1e6
    )
    gpt = (Route(provider_type="openai", model="gpt-5.5", max_output_tokens=100),)
    assert estimate_cost(PRICES, gpt, input_tokens=1000).usd == pytest.approx(
        (1000 * 5 + 100 * 30) / 1e6
    )


_rate = st.floats(min_value=0, max_value=1000, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(
    input_price=_rate,
    output_price=_rate,
    cache_write=st.none() | _rate,
    tier=st.none() | st.tuples(st.integers(0, 10**6), _rate, st.none() | _rate),
    input_tokens=st.integers(0, 10**8),
    output_tokens=st.integers(1, 10**6),
)
def test_the_prompt_is_priced_as_the_dearer_of_plain_input_and_a_cache_write(
    input_price: float,
    output_price: float,
    cache_write: float | None,
    tier: tuple[int, float, float | None] | None,
    input_tokens: int,
    output_tokens: int,
) -> None:
    price = ModelPrice(
        provider="anthropic",
        model="m",
        input=input_price,
        output=output_price,
        cache_write=cache_write,
        max_output_tokens=output_tokens,
        tier=None
        if tier is None
        else TierPrice(above_tokens=tier[0], input=tier[1], cache_write=tier[2]),
    )
    table = PriceTable([price])
    route = (Route(provider_type="anthropic", model="m"),)
    plain = Usage(input_tokens=input_tokens, output_tokens=output_tokens)
    written = Usage(
        input_tokens=input_tokens, cache_write_tokens=input_tokens, output_tokens=output_tokens
    )
    dearer = max(usage_cost(price, plain), usage_cost(price, written))
    assert estimate_cost(table, route, input_tokens=input_tokens).usd == dearer
