"""A request's cost estimate, made before it is routed (what the accountant holds).

Input tokens are counted with a cheap heuristic: the request body's size in bytes / 4
(about four characters per token for English text and code; JSON syntax and tool
schemas make it an over-count, which errs towards holding too much, never too little).
Output is bounded by the request's own limit (``max_output_tokens``,
``max_completion_tokens`` or ``max_tokens``), else the model's ``default_output_tokens``
(``pricing:``), else ``DEFAULT_OUTPUT_TOKENS`` capped at the model's maximum. The
estimate is the dearest of the providers that may serve the request.
"""

from __future__ import annotations

from collections.abc import Mapping

from budgets.pricing import PriceTable, usage_cost
from config.model import AccountConfig
from messages.budget import Route
from messages.usage import Usage

BYTES_PER_TOKEN = 4
DEFAULT_OUTPUT_TOKENS = 4096
_OUTPUT_LIMIT_FIELDS = ("max_output_tokens", "max_completion_tokens", "max_tokens")


def estimated_input_tokens(body_size: int) -> int:
    return body_size // BYTES_PER_TOKEN


def requested_output_tokens(body: Mapping[str, object]) -> int | None:
    """The request's own bound on output tokens, if it gives one."""
    for name in _OUTPUT_LIMIT_FIELDS:
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def candidate_routes(
    account: AccountConfig | None, *, pinned_provider: str | None, pinned_model: str | None
) -> tuple[Route, ...]:
    """The (provider type, model) pairs that may serve the request."""
    if account is None:
        return ()
    return tuple(
        Route(provider_type=p.type, model=pinned_model or p.model)
        for p in account.providers
        if pinned_provider is None or p.id == pinned_provider
    )


def estimate_cost(
    prices: PriceTable,
    routes: tuple[Route, ...],
    *,
    input_tokens: int,
    max_output_tokens: int | None,
) -> float | None:
    """USD the request may cost at most; ``None`` when no route's model has a price."""
    dearest: float | None = None
    for route in routes:
        price = prices.find(route.provider_type, route.model)
        if price is None:
            continue
        output = max_output_tokens or price.default_output_tokens
        if output is None:
            output = min(DEFAULT_OUTPUT_TOKENS, price.max_output_tokens or DEFAULT_OUTPUT_TOKENS)
        cost = usage_cost(price, Usage(input_tokens=input_tokens, output_tokens=output))
        dearest = cost if dearest is None else max(dearest, cost)
    return dearest


__all__ = [
    "BYTES_PER_TOKEN",
    "DEFAULT_OUTPUT_TOKENS",
    "candidate_routes",
    "estimate_cost",
    "estimated_input_tokens",
    "requested_output_tokens",
]
