"""The config's ``pricing:`` section, and budgets in the seed's format."""

from __future__ import annotations

import pytest

from budgets.pricing import PriceTable
from budgets.rules import merged_rules, rules_from_config
from config import ConfigError, parse_config
from messages.budget import BudgetRule

BASE = """\
accounts:
  - id: "dev"
    providers:
      - {id: "p", type: "openai", model: "gpt-5.5", api_key: "sk"}
virtual_keys:
  - {id: "codex-cli-dev", key: "sk-v-0123456789abcdef", account: "dev", team: "red"}
"""


def test_pricing_overrides_are_read_with_their_defaults() -> None:
    config = parse_config(
        BASE
        + """pricing:
  - provider: "openai"
    model: "GPT-5.5"
    input: 1.25
    output: 10
    cached_input: 0.125
    default_output_tokens: 2048
    effective_from: "2026-12-01"
""",
        source="t.yaml",
        environ={},
    )
    [price] = config.pricing
    assert (price.provider, price.model, price.input, price.output) == (
        "openai",
        "gpt-5.5",
        1.25,
        10.0,
    )
    assert (price.cached_input, price.cache_write, price.reasoning) == (0.125, None, None)
    assert (price.default_output_tokens, price.effective_from, price.line) == (
        2048,
        "2026-12-01",
        8,
    )


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ('{provider: "openia", model: "m", input: 1, output: 1}', "unknown provider type 'openia'"),
        ('{provider: "openai", model: "m", input: 1}', "missing required key 'output'"),
        ('{provider: "openai", model: "m", input: -1, output: 1}', "must not be negative"),
        (
            '{provider: "openai", model: "m", input: 1, output: 1, effective_from: "soon"}',
            "expected a date",
        ),
        (
            '{provider: "openai", model: "m", input: 1, output: 1, per_request: 2}',
            "unknown key 'per_request'",
        ),
        ('{provider: "*", model: "gpt-5.5", input: 1, output: 1}', 'needs model: "*"'),
        ('{provider: "openai", model: "*", input: .nan, output: 1}', "must be a finite number"),
        ('{provider: "openai", model: "*", input: 1, output: .inf}', "must be a finite number"),
    ],
)
def test_pricing_mistakes_name_the_line(item: str, problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(BASE + f"pricing:\n  - {item}\n", source="t.yaml", environ={})
    assert raised.value.line == 8 and problem in raised.value.problem


def test_seed_format_budgets_become_rules_and_the_cli_wins() -> None:
    config = parse_config(
        BASE
        + """budgets:
  - level: "virtual_key"
    id: "codex-cli-dev"
    limit: 150
    period: "monthly"
  - {level: "team", id: "red", requests_per_minute: 60}
""",
        source="t.yaml",
        environ={},
    )
    rules = rules_from_config(config.budgets)
    assert rules == (
        BudgetRule(
            level="virtual_key", scope_id="codex-cli-dev", period="monthly", limit_usd=150.0
        ),
        BudgetRule(
            level="team", scope_id="red", period="total", limit_usd=None, requests_per_minute=60
        ),
    )
    cli = BudgetRule(
        level="virtual_key",
        scope_id="codex-cli-dev",
        period="monthly",
        limit_usd=99.0,
        source="cli",
    )
    merged = merged_rules({"config": rules, "cli": (cli,)})
    assert cli in merged and rules[0] not in merged and rules[1] in merged


def test_fallback_prices_are_read_as_fallbacks() -> None:
    config = parse_config(
        BASE
        + """pricing:
  - {provider: "openai-compatible", model: "*", input: 1, output: 2}
  - {provider: "*", model: "*", input: 3, output: 4}
""",
        source="t.yaml",
        environ={},
    )
    table = PriceTable.shipped().with_overrides(config.pricing)
    own = table.find("openai-compatible", "llama-3.3-70b")
    anywhere = table.find("gemini", "gemini-9-ultra")
    listed = table.find("gemini", "gemini-2.5-pro")
    assert own is not None and (own.input, own.output, own.source) == (1, 2, "fallback")
    assert anywhere is not None and (anywhere.input, anywhere.source) == (3, "fallback")
    assert listed is not None and listed.source == "shipped"  # a listed price wins


@pytest.mark.parametrize("limit", [".nan", ".inf", "-.inf", "-1"])
def test_a_budget_limit_must_be_a_finite_amount(limit: str) -> None:
    budget = f'budgets:\n  - {{level: "team", id: "red", limit: {limit}, period: "daily"}}\n'
    with pytest.raises(ConfigError) as raised:
        parse_config(BASE + budget, source="t.yaml", environ={})
    assert raised.value.line == 8
    assert "must be a finite number" in raised.value.problem or "negative" in raised.value.problem
