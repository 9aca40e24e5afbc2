"""The price table and what a usage costs, checked against dollars computed by hand."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from structlog.testing import capture_logs

from budgets.pricing import Pricer, PriceTable, usage_cost
from config.model import PriceOverride
from messages.usage import Usage

SHIPPED = PriceTable.shipped()


def _cost(provider: str, model: str, usage: Usage) -> float:
    price = SHIPPED.find(provider, model)
    assert price is not None, (provider, model)
    return usage_cost(price, usage)


def test_the_shipped_file_covers_every_provider_type_with_a_date() -> None:
    document = json.loads(
        resources.files("budgets").joinpath("data/model_prices.json").read_text("utf-8")
    )
    assert document["effective_from"] == "2026-11-25"
    providers = {row["provider"] for row in document["prices"]}
    assert providers == {
        "openai",
        "anthropic",
        "gemini",
        "cohere",
        "mistral",
        "groq",
        "cerebras",
        "perplexity",
    }
    assert all(row["input"] > 0 or row["output"] > 0 for row in document["prices"])


def test_openai_cached_input_is_billed_at_the_cached_price() -> None:
    usage = Usage(
        input_tokens=1200, cached_input_tokens=200, output_tokens=300, reasoning_tokens=100
    )
    # gpt-5.5: $5 in, $0.50 cached, $30 out (reasoning billed as output)
    assert _cost("openai", "gpt-5.5", usage) == pytest.approx(
        (1000 * 5 + 200 * 0.5 + 300 * 30) / 1e6, rel=1e-12
    )


def test_anthropic_cache_writes_and_reads() -> None:
    usage = Usage(
        input_tokens=1500, cached_input_tokens=200, cache_write_tokens=300, output_tokens=400
    )
    # claude-sonnet-4-5: $3 in, $0.30 cache read, $3.75 cache write (5 min), $15 out
    expected = (1000 * 3 + 200 * 0.3 + 300 * 3.75 + 400 * 15) / 1e6
    assert _cost("anthropic", "claude-sonnet-4-5-20250929", usage) == pytest.approx(expected)


def test_gemini_above_200k_prices_the_whole_request_at_the_long_context_rate() -> None:
    short = Usage(input_tokens=200_000, output_tokens=1000)
    long = Usage(
        input_tokens=250_000, cached_input_tokens=50_000, output_tokens=1000, reasoning_tokens=200
    )
    # gemini-2.5-pro: $1.25 / $10 up to 200k; above: $2.50 in, $0.25 cached, $15 out
    assert _cost("gemini", "gemini-2.5-pro", short) == pytest.approx(
        (200_000 * 1.25 + 1000 * 10) / 1e6
    )
    assert _cost("gemini", "gemini-2.5-pro", long) == pytest.approx(
        (200_000 * 2.5 + 50_000 * 0.25 + 1000 * 15) / 1e6
    )


def test_a_model_without_a_cached_price_bills_cached_tokens_as_input() -> None:
    usage = Usage(input_tokens=1200, cached_input_tokens=200, output_tokens=300)
    # command-a-03-2025: $2.50 in, $10 out, no cache price
    assert _cost("cohere", "command-a-03-2025", usage) == pytest.approx(
        (1200 * 2.5 + 300 * 10) / 1e6
    )


def test_lookup_ignores_case_and_a_models_prefix_and_falls_back_from_a_dated_snapshot() -> None:
    assert SHIPPED.find("openai", "GPT-5.5") is SHIPPED.find("openai", "gpt-5.5")
    assert SHIPPED.find("gemini", "models/gemini-2.5-pro") is SHIPPED.find(
        "gemini", "gemini-2.5-pro"
    )
    assert SHIPPED.find("anthropic", "claude-haiku-4-5-20991231") is SHIPPED.find(
        "anthropic", "claude-haiku-4-5"
    )
    assert SHIPPED.find("openai", "gpt-4o-2024-05-13").input == 5.0  # listed: its own price
    assert SHIPPED.find("openai-compatible", "llama-3.3-70b") is None
    assert SHIPPED.find("groq", "openai/gpt-oss-120b") is not None


def test_an_unknown_model_costs_none_and_is_warned_about_once() -> None:
    pricer = Pricer(SHIPPED)
    usage = Usage(input_tokens=10, output_tokens=5)
    with capture_logs() as logs:
        assert pricer.cost("openai", "gpt-unknown-9", usage) is None
        assert pricer.cost("openai", "gpt-unknown-9", usage) is None
        assert pricer.cost("openai", "gpt-5.5", None) == 0.0
        assert pricer.cost("openai", "gpt-other-unknown", Usage()) == 0.0  # nothing billed
    warnings = [log for log in logs if log["log_level"] == "warning"]
    assert [(w["provider_type"], w["model"]) for w in warnings] == [("openai", "gpt-unknown-9")]


def test_config_overrides_replace_a_price_and_add_unknown_models() -> None:
    table = SHIPPED.with_overrides(
        (
            PriceOverride(provider="openai", model="gpt-5.5", input=1.0, output=2.0),
            PriceOverride(
                provider="openai-compatible",
                model="Llama-3.3-70B",
                input=0.5,
                output=0.75,
                reasoning=3.0,
                effective_from="2026-12-01",
            ),
        )
    )
    usage = Usage(input_tokens=1000, cached_input_tokens=400, output_tokens=100)
    override = table.find("openai", "gpt-5.5")
    assert override is not None and override.tier is None and override.source == "config"
    assert usage_cost(override, usage) == pytest.approx((1000 * 1.0 + 100 * 2.0) / 1e6)
    llama = table.find("openai-compatible", "llama-3.3-70b")
    assert llama is not None and str(llama.effective_from) == "2026-12-01"
    with_reasoning = Usage(input_tokens=100, output_tokens=50, reasoning_tokens=20)
    assert usage_cost(llama, with_reasoning) == pytest.approx(
        (100 * 0.5 + 30 * 0.75 + 20 * 3.0) / 1e6
    )
    assert SHIPPED.find("openai", "gpt-5.5").input == 5.0  # the shipped table is untouched


def test_a_reload_prices_what_happened_before_it_at_the_old_prices() -> None:
    """The audit logger may price a request that finished before a reload after it."""
    cheap = SHIPPED.with_overrides(
        (PriceOverride(provider="openai", model="gpt-5.5", input=1.0, output=1.0),)
    )
    usage = Usage(input_tokens=1000, output_tokens=100)
    pricer = Pricer(SHIPPED)
    before = pricer.cost("openai", "gpt-5.5", usage)
    pricer.use(cheap, since=1000.0)
    assert pricer.priced("openai", "gpt-5.5", usage, at=999.0)[0] == before
    assert pricer.priced("openai", "gpt-5.5", usage, at=1000.0)[0] == pytest.approx(1100 / 1e6)
    assert pricer.cost("openai", "gpt-5.5", usage) == pytest.approx(1100 / 1e6)  # undated
    pricer.use(SHIPPED, since=2000.0)  # and back: each moment keeps its own table
    assert pricer.priced("openai", "gpt-5.5", usage, at=1500.0)[0] == pytest.approx(1100 / 1e6)
    assert pricer.priced("openai", "gpt-5.5", usage, at=999.0)[0] == before
    assert pricer.priced("openai", "gpt-5.5", usage, at=2500.0)[0] == before
