"""What the budget accountant is told and answers: budgets, reservations, settlements.

A request is reserved before it is routed (``Reserve`` → ``Reserved`` | ``Refused``) and
settled when its trail ends (``Settle``, sent by the audit logger, which prices every
attempt): the settlement charges what the providers billed and releases the
reservation, whatever the outcome — a failed request settles its real cost, often 0.

Budgets apply to four tiers, from the widest: customer → team → virtual key, plus the
provider that served an attempt. A request must pass each of its tiers' budgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal, Protocol, TypeAlias


class BudgetLevel(StrEnum):
    CUSTOMER = "customer"
    TEAM = "team"
    VIRTUAL_KEY = "virtual_key"
    PROVIDER = "provider"


REQUEST_LEVELS = (BudgetLevel.CUSTOMER, BudgetLevel.TEAM, BudgetLevel.VIRTUAL_KEY)
"""The tiers a request is reserved against, widest first (providers are skipped instead)."""

BudgetId: TypeAlias = tuple[str, str, str]
"""``(level, scope_id, period)``: at most one budget per scope and period."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BudgetRule:
    """One budget: a USD limit per period and/or rate limits, for one scope.

    ``period`` is ``daily``, ``weekly``, ``monthly`` (calendar-aligned, UTC), ``total``
    (never resets) or a duration such as ``12h`` / ``7d`` (a rolling window).
    ``source`` says where it was declared: ``config`` or ``cli`` (stored in SQL).
    """

    level: str
    scope_id: str
    period: str
    limit_usd: float | None
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    source: str = "config"

    @property
    def identity(self) -> BudgetId:
        return (self.level, self.scope_id, self.period)


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """A provider type and upstream model a request may be served by (for its estimate),
    with the output-token maximum that provider is sent (``None``: none is sent, the
    model's own maximum applies)."""

    provider_type: str
    model: str
    max_output_tokens: int | None = None
    provider_id: str | None = None  # the configured provider (for provider budgets)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reserved:
    request_id: str
    estimate_usd: float | None  # None: no candidate's model has a price (and no USD budget)


@dataclass(frozen=True, slots=True, kw_only=True)
class Refused:
    """The request may not start: a budget would be exceeded, a rate limit is hit, or a
    model that may serve it has no price while a USD budget applies (``unpriced``)."""

    request_id: str
    reason: Literal["budget", "rate", "unpriced"]
    level: str
    scope_id: str
    period: str  # the budget's period, or "minute" for a rate limit
    limit: float  # USD, requests or tokens
    unit: str  # "usd", "requests" or "tokens"
    used: float  # spent (USD) or used in the last minute
    reserved: float = 0.0  # USD held by requests in flight
    estimate: float = 0.0  # this request's estimate (USD or tokens)
    resets_at: float | None = None  # unix seconds; None: never (a total budget)
    retry_after_s: float | None = None
    unpriced_route: Route | None = None  # reason "unpriced": the model without a price

    def describe(self) -> str:
        """The sentence the client sees: which tier, what limit, when it resets."""
        who = f"{self.level} '{self.scope_id}'"
        if self.unpriced_route is not None:
            return _unpriced(self.unpriced_route, who)
        if self.reason == "rate":
            wait = self.retry_after_s or 1.0
            return (
                f"rate limit exceeded for {who}: {self.limit:g} {self.unit} per minute "
                f"({self.used:g} used in the last minute); retry in {wait:.0f}s"
            )
        held = f", {usd(self.reserved)} reserved by requests in flight" if self.reserved else ""
        return (
            f"budget exceeded for {who}: {usd(self.used)} of {usd(self.limit)} "
            f"{_period_words(self.period)} spent{held}, and this request may cost up to "
            f"{usd(self.estimate)}; {_resets(self.resets_at, self.period)}"
        )


def usd(amount: float) -> str:
    """Dollars to at most four decimals, at least two: ``$0.005``, ``$150.00``."""
    text = f"{amount:,.4f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def _period_words(period: str) -> str:
    named = {
        "daily": "per day (UTC)",
        "weekly": "per week (UTC, from Monday)",
        "monthly": "per month (UTC)",
        "total": "in total",
    }
    return named.get(period, f"per rolling {period}")


def _unpriced(route: Route, who: str) -> str:
    kind, model = route.provider_type, route.model
    return (
        f"model '{model}' ({kind}) has no price, and {who} has a USD budget, so the "
        f"gateway cannot count what it costs; ask the gateway's operator to add it under "
        f'\'pricing:\' in the config: {{provider: "{kind}", model: "{model}", '
        f"input: <USD per 1M input tokens>, output: <USD per 1M output tokens>}} "
        f'(or a fallback for every {kind} model: model: "*")'
    )


def _resets(resets_at: float | None, period: str) -> str:
    if resets_at is None:
        return "a total budget never resets; raise it with 'switchyard budgets set'"
    when = datetime.fromtimestamp(resets_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if period in ("daily", "weekly", "monthly"):
        return f"it resets at {when}"
    return f"enough spend leaves the rolling window at {when}"


class ReservationSink(Protocol):
    """The sending end of a reservation's one-shot reply channel."""

    def send_nowait(self, value: Reserved | Refused, /) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Reserve:
    """Hold an estimate against every budget of the request's tiers before routing.

    ``input_tokens`` is the ingress's estimate (request body bytes / 4); the output is
    bounded by each route's ``max_output_tokens`` (what that provider is sent) or the
    model's own maximum. The estimate is the
    dearest of ``routes``. The hold lapses at ``expires_at`` (unix seconds) if no
    settlement ever comes.
    """

    request_id: str
    virtual_key_id: str
    team: str | None
    customer: str | None
    routes: tuple[Route, ...]
    input_tokens: int
    expires_at: float
    reply_to: ReservationSink


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderCharge:
    """What one attempt cost at one provider (``at``: when the attempt finished)."""

    provider_id: str
    cost_usd: float
    tokens: int
    at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Settle:
    """A request's trail ended (or a late event added cost): charge and release.

    ``cost_usd`` is what this settlement adds to the request's tiers (priced attempts
    only; an unpriced model adds 0 and is recorded NULL in SQL). ``at`` is the terminal
    event's time, the request's ``finished_at`` in SQL.
    """

    request_id: str
    at: float
    virtual_key_id: str | None
    team: str | None
    customer: str | None
    cost_usd: float
    tokens: int
    provider_charges: tuple[ProviderCharge, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class UseBudgets:
    """The budgets declared by ``source`` (``config`` or ``cli``) from now on."""

    source: str
    rules: tuple[BudgetRule, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadedSpend:
    """A budget's spend read from SQL before ``cutoff``: ``(bucket_start, usd)`` pairs."""

    identity: BudgetId
    buckets: tuple[tuple[float, float], ...]


AccountantInbox: TypeAlias = Reserve | Settle | UseBudgets

__all__ = [
    "REQUEST_LEVELS",
    "AccountantInbox",
    "BudgetId",
    "BudgetLevel",
    "BudgetRule",
    "LoadedSpend",
    "ProviderCharge",
    "Refused",
    "ReservationSink",
    "Reserve",
    "Reserved",
    "Route",
    "Settle",
    "UseBudgets",
    "usd",
]
