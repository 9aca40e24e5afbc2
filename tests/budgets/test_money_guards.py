"""Range-checked money: a hostile or broken usage never makes a negative, NaN or
infinite cost, no charge ever lowers a budget's spend, and a NaN limit refuses."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from budgets.ledger import Claim, Ledger
from budgets.metering import Meter
from budgets.periods import parse_period
from budgets.pricing import MAX_TOKENS, Pricer, PriceTable, safe_cost, usage_cost
from budgets.spend import MAX_CHARGE_USD, SpendWindow
from messages.budget import BudgetRule, Refused, Reserved, Settle
from messages.events import AttemptFinished, AttemptStarted, RequestReceived, ResponseCompleted
from messages.usage import Usage

PRICES = PriceTable.shipped()
GPT_55 = PRICES.find("openai", "gpt-5.5")
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC).timestamp()

HOSTILE = [
    Usage(input_tokens=-1_000_000),
    Usage(input_tokens=-1_000_000, output_tokens=10),
    Usage(output_tokens=-5, reasoning_tokens=-5),
    Usage(input_tokens=100, cached_input_tokens=-(10**9), cache_write_tokens=-(10**9)),
    Usage(input_tokens=100, cached_input_tokens=10**9, output_tokens=7, reasoning_tokens=10**9),
    Usage(input_tokens=10**400, output_tokens=10**400),  # would overflow a float
    Usage(input_tokens=True, output_tokens=1.5e300),  # type: ignore[arg-type]  # wrong types
]


@pytest.mark.parametrize("usage", HOSTILE)
def test_no_usage_prices_below_zero_or_beyond_a_finite_amount(usage: Usage) -> None:
    assert GPT_55 is not None
    cost = usage_cost(GPT_55, usage)
    assert math.isfinite(cost) and cost >= 0.0
    priced = Pricer(PRICES).cost("openai", "gpt-5.5", usage)
    assert priced is not None and math.isfinite(priced) and priced >= 0.0


def test_a_negative_input_is_zero_not_a_credit_and_an_absurd_one_is_capped() -> None:
    assert GPT_55 is not None
    honest = usage_cost(GPT_55, Usage(output_tokens=10))
    assert usage_cost(GPT_55, Usage(input_tokens=-1_000_000, output_tokens=10)) == honest
    huge = usage_cost(GPT_55, Usage(input_tokens=10**400))
    assert huge == usage_cost(GPT_55, Usage(input_tokens=MAX_TOKENS)) > 1e6


@pytest.mark.parametrize(
    ("usd", "safe"), [(-1.0, 0.0), (math.nan, 0.0), (-math.inf, 0.0), (math.inf, 1e300), (0.5, 0.5)]
)
def test_safe_cost(usd: float, safe: float) -> None:
    assert safe_cost(usd) == safe


@pytest.mark.parametrize("usd", [-5.0, math.nan, -math.inf])
def test_a_bad_charge_never_lowers_the_spend(usd: float) -> None:
    for period in ("total", "daily", "12h"):
        window = SpendWindow(parse_period(period))
        window.charge(1.0, NOON)
        window.charge(usd, NOON)
        window.charge(1.0, math.nan)  # a broken time is ignored too
        assert window.spent(NOON) == 1.0
    window = SpendWindow(parse_period("total"))
    window.charge(math.inf, NOON)
    assert window.spent(NOON) == MAX_CHARGE_USD  # infinity counts, but stays a number


def _trail(usage: Usage) -> list[object]:
    return [
        RequestReceived(
            request_id="r1",
            at=1.0,
            client_format="openai-chat",
            endpoint="/v1/chat/completions",
            model_requested="gpt-5.5",
            stream=False,
            virtual_key_id="key-1",
            account_id="dev",
            session_id=None,
            thread_id=None,
            user_agent=None,
            body=b"{}",
        ),
        AttemptStarted(
            request_id="r1",
            at=2.0,
            attempt=1,
            provider_id="main",
            provider_type="openai",
            model="gpt-5.5",
            key_id="k",
            reason="primary",
        ),
        AttemptFinished(
            request_id="r1",
            at=3.0,
            attempt=1,
            provider_id="main",
            model="gpt-5.5",
            status=200,
            latency_ms=1.0,
            usage=usage,
            error=None,
        ),
        ResponseCompleted(
            request_id="r1",
            at=4.0,
            status=200,
            latency_ms=3.0,
            provider_id="main",
            model="gpt-5.5",
            attempts=1,
            usage=usage,
            response=b"{}",
        ),
    ]


@pytest.mark.parametrize("usage", HOSTILE)
def test_the_meter_never_settles_a_negative_or_non_finite_amount(usage: Usage) -> None:
    meter = Meter(Pricer(PRICES))
    settles = [s for event in _trail(usage) for s in [meter.observe(event)[1]] if s is not None]  # type: ignore[arg-type]
    [settle] = settles
    assert math.isfinite(settle.cost_usd) and settle.cost_usd >= 0.0
    assert settle.tokens >= 0
    assert all(c.cost_usd >= 0.0 for c in settle.provider_charges)


def _claim(request_id: str, estimate: float | None) -> Claim:
    return Claim(
        request_id=request_id,
        virtual_key_id="key-1",
        team=None,
        customer=None,
        estimate_usd=estimate,
        input_tokens=10,
        expires_at=NOON + 60,
    )


def test_hostile_settlements_never_lower_a_budgets_spend() -> None:
    ledger = Ledger()
    ledger.use_rules(
        [BudgetRule(level="virtual_key", scope_id="key-1", period="total", limit_usd=1.0)], NOON
    )
    assert isinstance(ledger.reserve(_claim("a", 0.6), NOON), Reserved)
    ledger.settle(
        Settle(
            request_id="a",
            at=NOON,
            virtual_key_id="key-1",
            team=None,
            customer=None,
            cost_usd=0.6,
            tokens=1,
        ),
        NOON,
    )
    for n, usd in enumerate((-1_000_000.0, math.nan, -math.inf)):
        ledger.settle(
            Settle(
                request_id=f"bad{n}",
                at=NOON,
                virtual_key_id="key-1",
                team=None,
                customer=None,
                cost_usd=usd,
                tokens=-5,
            ),
            NOON,
        )
    [view] = ledger.views(NOON)
    assert view.spent_usd == pytest.approx(0.6)
    assert isinstance(ledger.reserve(_claim("b", 0.6), NOON), Refused)  # still refuses


def test_a_nan_limit_refuses_rather_than_admits() -> None:
    # config and CLI reject it; should one reach the ledger anyway, it fails closed
    ledger = Ledger()
    ledger.use_rules(
        [BudgetRule(level="virtual_key", scope_id="key-1", period="total", limit_usd=math.nan)],
        NOON,
    )
    refused = ledger.reserve(_claim("a", 0.01), NOON)
    assert isinstance(refused, Refused) and refused.reason == "budget"
