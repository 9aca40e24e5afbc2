"""Which providers may serve a request, in which order. Pure; the RNG is injected.

A pinned request (``provider/model``) has one candidate. Otherwise the account's
providers: a primary drawn at random by weight (weights normalise themselves), then the
rest as fallbacks in descending weight.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from config.model import AccountConfig, ProviderConfig
from messages.commands import Candidate


def weighted_order(
    providers: Sequence[ProviderConfig], rng: random.Random
) -> tuple[ProviderConfig, ...]:
    if len(providers) <= 1:
        return tuple(providers)
    total = sum(provider.weight for provider in providers)
    point = rng.random() * total
    primary = providers[-1]
    for provider in providers:
        point -= provider.weight
        if point < 0:
            primary = provider
            break
    rest = sorted(
        (provider for provider in providers if provider is not primary),
        key=lambda provider: -provider.weight,
    )
    return (primary, *rest)


def candidates_for(
    account: AccountConfig,
    rng: random.Random,
    *,
    pinned_provider: str | None = None,
    pinned_model: str | None = None,
    excluded: frozenset[str] = frozenset(),
) -> tuple[Candidate, ...]:
    if pinned_provider is not None:
        for provider in account.providers:
            if provider.id == pinned_provider:
                return (Candidate(provider=provider, model=pinned_model or provider.model),)
        return ()
    usable = [provider for provider in account.providers if provider.id not in excluded]
    return tuple(
        Candidate(provider=provider, model=provider.model)
        for provider in weighted_order(usable, rng)
    )


__all__ = ["candidates_for", "weighted_order"]
