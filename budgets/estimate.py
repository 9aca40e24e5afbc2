"""A request's cost estimate, made before it is routed (what the accountant holds).

Input tokens are counted with a cheap heuristic: the request body's size in bytes / 4
(about four characters per token for English text and code; JSON syntax and tool
schemas make it an over-count, which errs towards holding too much, never too little).
Output is bounded by what each route's provider is *sent* (``Route.max_output_tokens``,
computed by ``providers.output_limit`` — the same function the adapters use), else by
that provider's own default: the model's ``default_output_tokens`` (``pricing:``, the
operator's choice), else the model's maximum output from the price list (what OpenAI,
Gemini, Mistral… generate up to when no maximum is sent), else ``DEFAULT_OUTPUT_TOKENS``.
Input is priced at the dearer of the input and the cache-write price: a provider whose
prompt cache the gateway marks (Anthropic) may bill the whole prompt as a cache write,
at 1.25 times the input price. The estimate is the dearest of the providers that may serve
the request; a route whose model has no price (nor a fallback price) is named in the
estimate, so that a USD budget refuses it rather than serve it free.
"""

from __future__ import annotations

from dataclasses import dataclass

from budgets.pricing import PriceTable, usage_cost
from config.model import AccountConfig
from messages.budget import Route
from messages.usage import Usage

BYTES_PER_TOKEN = 4
DEFAULT_OUTPUT_TOKENS = 4096


def estimated_input_tokens(body_size: int) -> int:
    return body_size // BYTES_PER_TOKEN


def candidate_routes(
    account: AccountConfig | None, *, pinned_provider: str | None, pinned_model: str | None
) -> tuple[Route, ...]:
    """The (provider type, model) pairs that may serve the request."""
    if account is None:
        return ()
    return tuple(
        Route(provider_type=p.type, model=pinned_model or p.model, provider_id=p.id)
        for p in account.providers
        if pinned_provider is None or p.id == pinned_provider
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Estimate:
    usd: float | None  # the dearest priced route; None: no route has a price
    unpriced: tuple[Route, ...] = ()  # the routes whose model has no price


def estimate_cost(prices: PriceTable, routes: tuple[Route, ...], *, input_tokens: int) -> Estimate:
    """USD the request may cost at most, and which routes (if any) cannot be priced."""
    dearest: float | None = None
    unpriced: tuple[Route, ...] = ()
    for route in routes:
        price = prices.find(route.provider_type, route.model)
        if price is None:
            unpriced += (route,)
            continue
        output = (
            route.max_output_tokens
            or price.default_output_tokens
            or price.max_output_tokens
            or DEFAULT_OUTPUT_TOKENS
        )
        # a prompt-cache write (Anthropic's, marked by the gateway) may cost more than plain
        # input: the prompt is priced as whichever is dearer (the two costs differ only
        # in the prompt's price, so this is the larger of them, computed once)
        rates = price.at_prompt(input_tokens)
        dearer_written = rates.cache_write is not None and rates.cache_write > rates.input
        usage = Usage(
            input_tokens=input_tokens,
            cache_write_tokens=input_tokens if dearer_written else 0,
            output_tokens=output,
        )
        cost = usage_cost(price, usage)
        dearest = cost if dearest is None else max(dearest, cost)
    return Estimate(usd=dearest, unpriced=unpriced)


__all__ = [
    "BYTES_PER_TOKEN",
    "DEFAULT_OUTPUT_TOKENS",
    "Estimate",
    "candidate_routes",
    "estimate_cost",
    "estimated_input_tokens",
]
