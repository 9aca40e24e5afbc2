"""Weighted routing from the seed's YAML: the primary is drawn by weight, fallbacks follow
in descending weight, pins and skips are honoured. Pure: no trio, no sockets."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from config import parse_config
from config.model import AccountConfig
from routing.candidates import RoutePlan, eligible_providers, plan_route, weighted_order

SEED = """\
accounts:
  - id: "codex-dev"
    providers:
      - id: "claude-primary"
        type: "anthropic"
        api_key: "${ANTHROPIC_API_KEY}"
        model: "anthropic/claude-sonnet-4-5-20250929"
        weight: 60
      - id: "gemini-secondary"
        type: "gemini"
        api_key: "${GEMINI_API_KEY}"
        model: "gemini/gemini-2-5-pro"
        weight: 25
      - id: "openai-fallback"
        type: "openai"
        api_key: "${OPENAI_API_KEY}"
        model: "gpt-4o"
        weight: 15
"""
ENV = {"ANTHROPIC_API_KEY": "a", "GEMINI_API_KEY": "g", "OPENAI_API_KEY": "o"}
WEIGHTS = {"claude-primary": 0.60, "gemini-secondary": 0.25, "openai-fallback": 0.15}
DECISIONS = 10_000


@pytest.fixture
def account() -> AccountConfig:
    return parse_config(SEED, source="seed.yaml", environ=ENV).accounts[0]


def _primaries(account: AccountConfig, rng: random.Random) -> Counter[str]:
    providers = eligible_providers(account)
    return Counter(plan_route(providers, rng).candidates[0].provider.id for _ in range(DECISIONS))


def test_10000_seeded_decisions_land_within_two_points_of_the_weights(
    account: AccountConfig,
) -> None:
    counts = _primaries(account, random.Random(20250929))
    for provider_id, weight in WEIGHTS.items():
        share = counts[provider_id] / DECISIONS
        assert abs(share - weight) <= 0.02, (provider_id, share)


def test_10000_unseeded_decisions_pass_a_chi_square_test(account: AccountConfig) -> None:
    counts = _primaries(account, random.Random())
    chi_square = sum(
        (counts[provider_id] - DECISIONS * weight) ** 2 / (DECISIONS * weight)
        for provider_id, weight in WEIGHTS.items()
    )
    # two degrees of freedom: the survival function is exactly exp(-x / 2)
    p_value = math.exp(-chi_square / 2)
    assert p_value > 1e-6, (counts, chi_square)


def test_the_statistical_test_rejects_a_biased_router(account: AccountConfig) -> None:
    """The chi-square check above can fail: a uniform choice is far outside it."""
    rng = random.Random(7)
    ids = list(WEIGHTS)
    counts = Counter(rng.choice(ids) for _ in range(DECISIONS))
    chi_square = sum((counts[p] - DECISIONS * w) ** 2 / (DECISIONS * w) for p, w in WEIGHTS.items())
    assert math.exp(-chi_square / 2) < 1e-6


def test_weights_normalise_themselves(account: AccountConfig) -> None:
    scaled = parse_config(
        SEED.replace("weight: 60", "weight: 6")
        .replace("weight: 25", "weight: 2.5")
        .replace("weight: 15", "weight: 1.5"),
        source="scaled.yaml",
        environ=ENV,
    ).accounts[0]
    assert _primaries(account, random.Random(3)) == _primaries(scaled, random.Random(3))


def test_fallbacks_follow_the_primary_in_descending_weight(account: AccountConfig) -> None:
    rng = random.Random(11)
    orders = {
        tuple(c.provider.id for c in plan_route(account.providers, rng).candidates)
        for _ in range(500)
    }
    assert orders == {
        ("claude-primary", "gemini-secondary", "openai-fallback"),
        ("gemini-secondary", "claude-primary", "openai-fallback"),
        ("openai-fallback", "claude-primary", "gemini-secondary"),
    }


def test_each_candidate_sends_its_providers_model(account: AccountConfig) -> None:
    plan = plan_route(account.providers, random.Random(1))
    models = {c.provider.id: c.model for c in plan.candidates}
    assert models == {
        "claude-primary": "claude-sonnet-4-5-20250929",
        "gemini-secondary": "gemini-2-5-pro",
        "openai-fallback": "gpt-4o",
    }


def test_a_pin_allows_only_that_provider_with_the_pinned_model(account: AccountConfig) -> None:
    providers = eligible_providers(account, pinned_provider="openai-fallback")
    plan = plan_route(providers, random.Random(1), pinned_model="gpt-4o-mini")
    assert [(c.provider.id, c.model) for c in plan.candidates] == [
        ("openai-fallback", "gpt-4o-mini")
    ]
    assert eligible_providers(account, pinned_provider="nope") == ()


def test_skipped_providers_are_left_out_with_their_reason(account: AccountConfig) -> None:
    skip = {"claude-primary": "circuit open"}
    for seed in range(50):
        plan = plan_route(account.providers, random.Random(seed), skip=skip)
        assert [c.provider.id for c in plan.candidates][1:] in (
            ["openai-fallback"],
            ["gemini-secondary"],
        )
        assert "claude-primary" not in {c.provider.id for c in plan.candidates}
        assert plan.skipped == (("claude-primary", "circuit open"),)
    everything = dict.fromkeys(WEIGHTS, "budget spent")
    assert plan_route(account.providers, random.Random(0), skip=everything).candidates == ()


def test_a_probing_provider_goes_first(account: AccountConfig) -> None:
    for seed in range(50):
        plan = plan_route(
            account.providers, random.Random(seed), probes=frozenset({"openai-fallback"})
        )
        assert plan.candidates[0].provider.id == "openai-fallback"
        assert plan.probes == ("openai-fallback",)
        assert len(plan.candidates) == 3


def test_the_plan_describes_itself_for_the_trail() -> None:
    plan = RoutePlan(candidates=(), skipped=(("a", "circuit open"),), probes=("b",))
    assert (
        plan.describe(pinned=False)
        == "weighted; probe b (circuit half-open); skip a (circuit open)"
    )
    assert RoutePlan(candidates=()).describe(pinned=True) == "pinned"


def test_one_provider_needs_no_draw(account: AccountConfig) -> None:
    class NoDraw(random.Random):
        def random(self) -> float:
            raise AssertionError("no draw needed")

    assert weighted_order(account.providers[:1], NoDraw()) == account.providers[:1]
