"""``switchyard whatif``: logged traffic priced as if another mix had served it, no calls.

Each logged request is split between the providers the other config would route it to
(``replay.mix``), each share priced with that config's price table
(``budgets.pricing.usage_cost``, tiers included) on the request's logged token counts —
scaled by a re-count factor where the target model counts with another tokenizer
(``Recount``). The original side is the logged request as it was: its cost is the one
the trail recorded. Outcomes are the logged ones and no latency is predicted: a what-if
is always an estimate, and its note says what is exact and what is not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from budgets.pricing import ModelPrice, PriceTable, usage_cost
from messages.usage import Usage
from replay.mix import TargetMix
from replay.report_model import ComparisonReport, ComparisonRow, ModelKey, ReportKind
from replay.tally import Tally
from replay.tokenizers import encoding_for
from replay.traffic import LoggedRequest

Pair = tuple[ModelKey, ModelKey]


@dataclass(frozen=True, slots=True, kw_only=True)
class Recount:
    """Factors turning an original model's logged counts into a target model's:
    ``factors[(original, target encoding)] = (input factor, output factor)``, measured
    on sampled bodies; ``notes`` say how each was measured."""

    factors: Mapping[tuple[ModelKey, str], tuple[float, float]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def factor(self, original: ModelKey, target: ModelKey) -> tuple[float, float] | None:
        """``(1, 1)`` when both count alike; ``None`` when unknown (logged counts used)."""
        if (original.provider_type, original.model) == (target.provider_type, target.model):
            return (1.0, 1.0)
        wanted = encoding_for(target.provider_type, target.model)
        if wanted is not None and wanted == encoding_for(original.provider_type, original.model):
            return (1.0, 1.0)
        return None if wanted is None else self.factors.get((original, wanted))


@dataclass(frozen=True, slots=True, kw_only=True)
class _Leg:
    """One share of a route: where it goes, its re-count factor, price and tallies."""

    share: float
    factor: tuple[float, float]
    price: ModelPrice | None
    original: Tally  # the pair's logged side
    whatif: Tally  # the pair's what-if side


class _Routes:
    """Each distinct (served model, key, account, model asked for) resolved once: its
    legs, each with its pair's tallies, factor and price (a large report has few)."""

    def __init__(self, mix: TargetMix, prices: PriceTable, recount: Recount) -> None:
        self._mix = mix
        self._prices = prices
        self._recount = recount
        self._routes: dict[tuple[str | None, ...], tuple[_Leg, ...]] = {}
        self.pairs: dict[Pair, tuple[Tally, Tally]] = {}
        self.factors: dict[Pair, tuple[float, float] | None] = {}

    def legs(self, request: LoggedRequest) -> tuple[_Leg, ...]:
        r = request
        slot = (
            r.provider,
            r.provider_type,
            r.model,
            r.virtual_key,
            r.account_id,
            r.model_requested,
        )
        found = self._routes.get(slot)
        if found is None:
            found = self._routes[slot] = self._resolve(request)
        return found

    def _resolve(self, request: LoggedRequest) -> tuple[_Leg, ...]:
        original = ModelKey(
            provider=request.provider, provider_type=request.provider_type, model=request.model
        )
        legs = []
        for share in self._mix.shares(request):
            pair = (original, share.model)
            if pair not in self.pairs:
                self.pairs[pair] = (Tally(), Tally())
                self.factors[pair] = self._recount.factor(original, share.model)
            target = share.model
            price = self._prices.find(target.provider_type or "", target.model or "")
            tallies = self.pairs[pair]
            legs.append(
                _Leg(
                    share=share.share,
                    factor=self.factors[pair] or (1.0, 1.0),
                    price=price,
                    original=tallies[0],
                    whatif=tallies[1],
                )
            )
        return tuple(legs)


def _priced(request: LoggedRequest, leg: _Leg) -> tuple[Usage, float | None]:
    usage = _scaled(request, leg.factor)
    if usage.input_tokens <= 0 and usage.output_tokens <= 0:
        return usage, 0.0  # as the gateway meters: nothing used costs nothing
    return usage, None if leg.price is None else usage_cost(leg.price, usage)


def _scaled(request: LoggedRequest, factor: tuple[float, float]) -> Usage:
    fin, fout = factor
    if fin == 1.0 and fout == 1.0:
        return Usage(
            input_tokens=request.input_tokens,
            cached_input_tokens=request.cached_input_tokens,
            cache_write_tokens=request.cache_write_tokens,
            output_tokens=request.output_tokens,
            reasoning_tokens=request.reasoning_tokens,
        )
    return Usage(
        input_tokens=round(request.input_tokens * fin),
        cached_input_tokens=round(request.cached_input_tokens * fin),
        cache_write_tokens=round(request.cache_write_tokens * fin),
        output_tokens=round(request.output_tokens * fout),
        reasoning_tokens=round(request.reasoning_tokens * fout),
    )


def _tokens(usage: Usage | LoggedRequest) -> tuple[float, float, float]:
    return (usage.input_tokens, usage.cached_input_tokens, usage.output_tokens)


def whatif_report(
    logged: Iterable[LoggedRequest],
    mix: TargetMix,
    prices: PriceTable,
    *,
    selection: str,
    config_name: str,
    recount: Recount | None = None,
) -> ComparisonReport:
    routes = _Routes(mix, prices, recount or Recount())
    original_all, whatif_all = Tally(), Tally()
    unrouted = 0
    for request in logged:
        logged_tokens = _tokens(request)
        failure = _failure(request)
        original_all.add(
            weight=1.0, error_kind=failure, tokens=logged_tokens, cost_usd=request.cost_usd
        )
        original_all.timed(request.latency_ms, request.ttfb_ms)
        legs = routes.legs(request)
        if not legs:
            unrouted += 1
            whatif_all.add(weight=1.0, error_kind=failure, tokens=logged_tokens, cost_usd=None)
            continue
        for leg in legs:
            usage, cost = _priced(request, leg)
            tokens = _tokens(usage)
            w = leg.share
            leg.original.add(
                weight=w, error_kind=failure, tokens=logged_tokens, cost_usd=request.cost_usd
            )
            leg.original.timed(request.latency_ms, request.ttfb_ms)
            leg.whatif.add(weight=w, error_kind=failure, tokens=tokens, cost_usd=cost)
            whatif_all.add(weight=w, error_kind=failure, tokens=tokens, cost_usd=cost)
    rows = tuple(
        ComparisonRow(original_model=o, replay_model=t, original=a.figures(), replay=b.figures())
        for (o, t), (a, b) in sorted(routes.pairs.items(), key=lambda item: _order(item[0]))
    )
    return ComparisonReport(
        kind=ReportKind.WHATIF,
        estimate=True,
        run_id=None,
        selection=selection,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        overall=ComparisonRow(
            original_model=None,
            replay_model=None,
            original=original_all.figures(),
            replay=whatif_all.figures(),
        ),
        rows=rows,
        estimate_note=estimate_note(routes.factors, recount or Recount(), unrouted, config_name),
        replay_config=config_name,
    )


def _failure(request: LoggedRequest) -> str | None:
    if request.status == "completed":
        return None
    return request.error_kind or "unknown"


def _order(pair: Pair) -> tuple[str, str]:
    return (pair[0].label, pair[1].label)


def estimate_note(
    factors: Mapping[Pair, tuple[float, float] | None],
    recount: Recount,
    unrouted: int,
    config_name: str,
) -> str:
    """What the what-if assumed, in words."""
    parts = [
        f"priced at {config_name}'s prices and split by its routing weights; outcomes "
        "as logged, latency not predicted (no calls were made)"
    ]
    as_logged = sorted(f"{o.label} -> {t.label}" for (o, t), f in factors.items() if f is None)
    if as_logged:
        parts.append(
            "token counts as logged (no offline tokenizer for the target, or none sampled): "
            + ", ".join(as_logged)
        )
    parts.extend(recount.notes)
    if unrouted:
        parts.append(f"{unrouted} requests have no account in {config_name}: left unpriced")
    return "; ".join(parts)


__all__ = ["Recount", "estimate_note", "whatif_report"]
