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
from replay.mix import Share, TargetMix
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


class _Pricing:
    """Prices by target model (looked up once each) and the pairs seen so far."""

    def __init__(self, prices: PriceTable, recount: Recount) -> None:
        self._prices = prices
        self._recount = recount
        self._found: dict[ModelKey, ModelPrice | None] = {}
        self.factors: dict[Pair, tuple[float, float] | None] = {}

    def cost(self, request: LoggedRequest, original: ModelKey, share: Share) -> _Priced:
        pair = (original, share.model)
        if pair not in self.factors:
            self.factors[pair] = self._recount.factor(original, share.model)
        factor = self.factors[pair] or (1.0, 1.0)
        usage = _scaled(request, factor)
        if usage.input_tokens <= 0 and usage.output_tokens <= 0:
            return _Priced(usage, 0.0)  # as the gateway meters: nothing used costs nothing
        if share.model not in self._found:
            model = share.model
            self._found[model] = self._prices.find(model.provider_type or "", model.model or "")
        price = self._found[share.model]
        return _Priced(usage, None if price is None else usage_cost(price, usage))


@dataclass(frozen=True, slots=True)
class _Priced:
    usage: Usage
    cost_usd: float | None


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
    pricing = _Pricing(prices, recount or Recount())
    original_all, whatif_all = Tally(), Tally()
    pairs: dict[Pair, tuple[Tally, Tally]] = {}
    unrouted = 0
    for request in logged:
        original = ModelKey(
            provider=request.provider, provider_type=request.provider_type, model=request.model
        )
        _add(original_all, request, 1.0, _tokens(request), request.cost_usd, timed=True)
        shares = mix.shares(request)
        if not shares:
            unrouted += 1
            _add(whatif_all, request, 1.0, _tokens(request), None)
            continue
        for share in shares:
            priced = pricing.cost(request, original, share)
            tallies = pairs.get((original, share.model))
            if tallies is None:
                tallies = pairs[original, share.model] = (Tally(), Tally())
            _add(tallies[0], request, share.share, _tokens(request), request.cost_usd, timed=True)
            _add(tallies[1], request, share.share, _tokens(priced.usage), priced.cost_usd)
            _add(whatif_all, request, share.share, _tokens(priced.usage), priced.cost_usd)
    rows = tuple(
        ComparisonRow(original_model=o, replay_model=t, original=a.figures(), replay=b.figures())
        for (o, t), (a, b) in sorted(pairs.items(), key=lambda item: _order(item[0]))
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
        estimate_note=estimate_note(pricing.factors, recount or Recount(), unrouted, config_name),
        replay_config=config_name,
    )


def _add(
    tally: Tally,
    request: LoggedRequest,
    weight: float,
    tokens: tuple[float, float, float],
    cost: float | None,
    *,
    timed: bool = False,
) -> None:
    tally.add(weight=weight, error_kind=_failure(request), tokens=tokens, cost_usd=cost)
    if timed:  # the logged side only: a what-if predicts no latency
        tally.timed(request.latency_ms, request.ttfb_ms)
    tally.session(request.session_id)


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
