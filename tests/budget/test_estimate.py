"""A request's estimate: input from the body size, output bounded, the dearest route."""

from __future__ import annotations

import pytest

from budgets.estimate import (
    DEFAULT_OUTPUT_TOKENS,
    candidate_routes,
    estimate_cost,
    estimated_input_tokens,
    requested_output_tokens,
)
from budgets.pricing import PriceTable
from config.model import AccountConfig, PriceOverride, ProviderConfig
from messages.budget import Route

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
    assert requested_output_tokens({"max_output_tokens": 512}) == 512
    assert requested_output_tokens({"max_completion_tokens": 64, "max_tokens": 9}) == 64
    assert requested_output_tokens({"max_tokens": 9}) == 9
    assert requested_output_tokens({"max_tokens": True}) is None
    assert requested_output_tokens({}) is None


def test_routes_are_the_accounts_providers_or_the_pinned_one() -> None:
    assert candidate_routes(ACCOUNT, pinned_provider=None, pinned_model=None) == (
        Route(provider_type="openai", model="gpt-5.5"),
        Route(provider_type="mistral", model="mistral-large-latest"),
    )
    assert candidate_routes(ACCOUNT, pinned_provider="cheap", pinned_model="codestral-latest") == (
        Route(provider_type="mistral", model="codestral-latest"),
    )
    assert candidate_routes(None, pinned_provider=None, pinned_model=None) == ()


def test_the_estimate_is_the_dearest_priced_route() -> None:
    routes = candidate_routes(ACCOUNT, pinned_provider=None, pinned_model=None)
    # gpt-5.5 is dearer than mistral-large: 1000 in at $5, 500 out at $30
    assert estimate_cost(PRICES, routes, input_tokens=1000, max_output_tokens=500) == pytest.approx(
        (1000 * 5 + 500 * 30) / 1e6
    )
    unpriced = (Route(provider_type="openai-compatible", model="llama"),)
    assert estimate_cost(PRICES, unpriced, input_tokens=1000, max_output_tokens=500) is None


def test_without_a_bound_the_output_is_a_per_model_default() -> None:
    route = (Route(provider_type="openai", model="gpt-5.5"),)
    assert estimate_cost(PRICES, route, input_tokens=0, max_output_tokens=None) == pytest.approx(
        DEFAULT_OUTPUT_TOKENS * 30 / 1e6
    )
    small = PRICES.with_overrides(
        (
            PriceOverride(
                provider="openai", model="gpt-5.5", input=5, output=30, default_output_tokens=100
            ),
        )
    )
    assert estimate_cost(small, route, input_tokens=0, max_output_tokens=None) == pytest.approx(
        100 * 30 / 1e6
    )
