"""Which providers may serve a request, in which order. Pure; the RNG is injected.

A pinned request (``provider/model``) may use only that provider. Otherwise the
account's providers: a primary drawn at random by weight (weights normalise
themselves), then the rest as fallbacks in descending weight.

Providers that may not serve now are *skipped*, each with its reason; the router
collects them from its checks (an open circuit; later, a spent budget) and this module
only honours them. Providers *probing* a half-open circuit go first, so their single
probe is spent on a real attempt.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter

from config.model import AccountConfig, ProviderConfig
from routing.commands import Candidate


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutePlan:
    """The ordered candidates, and which providers were left out and why."""

    candidates: tuple[Candidate, ...]
    skipped: tuple[tuple[str, str], ...] = ()  # (provider id, reason)
    probes: tuple[str, ...] = ()  # provider ids whose circuit this request probes

    def describe(self, *, pinned: bool) -> str:
        """One line for the trail: how the order was chosen and what was left out."""
        parts = ["pinned" if pinned else "weighted"]
        parts += [f"probe {provider_id} (circuit half-open)" for provider_id in self.probes]
        parts += [f"skip {provider_id} ({reason})" for provider_id, reason in self.skipped]
        return "; ".join(parts)


def eligible_providers(
    account: AccountConfig, *, pinned_provider: str | None = None
) -> tuple[ProviderConfig, ...]:
    """The providers a request may use, before any check (empty: a pin naming none)."""
    if pinned_provider is None:
        return account.providers
    return tuple(provider for provider in account.providers if provider.id == pinned_provider)


def weighted_order(
    providers: Sequence[ProviderConfig], rng: random.Random
) -> tuple[ProviderConfig, ...]:
    """A primary drawn by weight, then the others by descending weight (stable)."""
    if len(providers) <= 1:
        return tuple(providers)
    weights = [provider.weight for provider in providers]
    point = rng.random() * sum(weights)
    chosen = len(providers) - 1
    for index, weight in enumerate(weights):
        point -= weight
        if point < 0:
            chosen = index
            break
    rest = [*providers[:chosen], *providers[chosen + 1 :]]
    rest.sort(key=_weight, reverse=True)  # reverse keeps equal weights in config order
    return (providers[chosen], *rest)


_weight = attrgetter("weight")


def plan_route(
    providers: Sequence[ProviderConfig],
    rng: random.Random,
    *,
    pinned_model: str | None = None,
    skip: Mapping[str, str] | None = None,
    probes: frozenset[str] = frozenset(),
) -> RoutePlan:
    """Order ``providers`` for one request, leaving out those in ``skip``."""
    if not skip and not probes:  # the hot path: every provider healthy
        return RoutePlan(candidates=_candidates(weighted_order(providers, rng), pinned_model))
    skip = skip or {}
    usable = [provider for provider in providers if provider.id not in skip]
    probing = sorted(
        (provider for provider in usable if provider.id in probes), key=lambda p: -p.weight
    )
    ordered = (*probing, *weighted_order([p for p in usable if p.id not in probes], rng))
    return RoutePlan(
        candidates=_candidates(ordered, pinned_model),
        skipped=tuple((p.id, skip[p.id]) for p in providers if p.id in skip),
        probes=tuple(provider.id for provider in probing),
    )


def _candidates(
    ordered: Sequence[ProviderConfig], pinned_model: str | None
) -> tuple[Candidate, ...]:
    return tuple([Candidate(provider=p, model=pinned_model or p.model) for p in ordered])


__all__ = ["RoutePlan", "eligible_providers", "plan_route", "weighted_order"]
