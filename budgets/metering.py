"""The meter: prices a request's trail as it passes and says what to settle.

The audit logger runs every event through ``Meter.observe`` before writing it:

- ``attempt.finished`` gets its ``cost_usd`` from its usage and the price of its
  provider type (learnt from ``attempt.started``) and model;
- ``response.completed`` / ``response.failed`` get the request's ``cost_usd``: the sum
  of its attempts' costs — what the providers billed, retries and failovers included —
  ``NULL`` if an attempt that used tokens has no price, 0.0 if nothing was billed;
- each terminal event yields a ``Settle`` for the accountant: the cost added since the
  last settlement (a second terminal event for the same request, as when the ingress
  gave up before the worker finished, settles only the difference), the tokens used
  and each attempt's charge to its provider.

So SQL and the accountant's counters are fed by one computation and cannot disagree.
Each priced event also says where its price came from (``price_source``: ``shipped``,
``config`` or ``fallback``; a request's is its attempts' least certain). A cost is
range-checked once more here (``safe_cost``): never negative, NaN or infinite, so no
settlement ever lowers a budget's spend.
Finished requests are remembered (the last ``CLOSED_MEMORY``) for late events.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field, fields
from typing import TypeVar

from budgets.pricing import Pricer, safe_cost
from messages.budget import ProviderCharge, Settle
from messages.events import (
    AttemptAnomaly,
    AttemptFinished,
    AttemptFirstByte,
    AttemptStarted,
    CacheHit,
    CacheMiss,
    RequestReceived,
    ResponseCompleted,
    ResponseFailed,
    RouteDecided,
    TrailEvent,
)

CLOSED_MEMORY = 4096
_UNPRICED = frozenset({RouteDecided, AttemptFirstByte, AttemptAnomaly, CacheHit, CacheMiss})
"""Event classes the meter passes on as they are."""
_SOURCE_RANK = {"shipped": 1, "config": 2, "fallback": 3}


@dataclass(slots=True)
class _Request:
    virtual_key_id: str | None = None
    team: str | None = None
    customer: str | None = None
    provider_types: dict[int, str] = field(default_factory=dict)
    cost: float = 0.0
    unpriced: bool = False
    price_source: str | None = None
    charged: float = 0.0
    tokens: int = 0
    pending: list[ProviderCharge] = field(default_factory=list)


class Meter:
    def __init__(self, pricer: Pricer) -> None:
        self._pricer = pricer
        self._open: dict[str, _Request] = {}
        self._closed: OrderedDict[str, _Request] = OrderedDict()

    @property
    def pricer(self) -> Pricer:
        return self._pricer

    @property
    def open_requests(self) -> int:
        return len(self._open)

    def observe(self, event: TrailEvent) -> tuple[TrailEvent, Settle | None]:
        """The event as it should be stored (priced), and the settlement it triggers."""
        if type(event) in _UNPRICED:  # half of a request's events: one set lookup, not a match
            return event, None
        match event:
            case RequestReceived():
                self._open[event.request_id] = _Request(
                    virtual_key_id=event.virtual_key_id, team=event.team, customer=event.customer
                )
            case AttemptStarted():
                self._state(event.request_id).provider_types[event.attempt] = event.provider_type
            case AttemptFinished():
                return self._attempt_finished(event), None
            case ResponseCompleted() | ResponseFailed():
                return self._terminal(event)
        return event, None

    def _attempt_finished(self, event: AttemptFinished) -> AttemptFinished:
        state = self._state(event.request_id)
        provider_type = state.provider_types.get(event.attempt)
        usage = event.usage
        source = None
        if provider_type is None:
            cost = 0.0 if usage is None else None
        else:
            cost, source = self._pricer.priced(provider_type, event.model, usage, event.at)
        tokens = 0 if usage is None else max(0, usage.total_tokens)
        state.tokens += tokens
        if cost is None:
            state.unpriced = True
        else:
            cost = safe_cost(cost)
            state.cost += cost
            state.price_source = _least_certain(state.price_source, source)
        state.pending.append(
            ProviderCharge(
                provider_id=event.provider_id, cost_usd=cost or 0.0, tokens=tokens, at=event.at
            )
        )
        return _priced(event, cost, source)

    def _terminal(self, event: ResponseCompleted | ResponseFailed) -> tuple[TrailEvent, Settle]:
        state = self._open.pop(event.request_id, None) or self._closed.pop(event.request_id, None)
        if state is None:
            state = _Request()
        settle = Settle(
            request_id=event.request_id,
            at=event.at,
            virtual_key_id=state.virtual_key_id,
            team=state.team,
            customer=state.customer,
            cost_usd=max(0.0, state.cost - state.charged),
            tokens=state.tokens,
            provider_charges=tuple(state.pending),
        )
        state.charged = state.cost
        state.tokens = 0
        state.pending = []
        self._remember(event.request_id, state)
        cost = None if state.unpriced else state.cost
        return _priced(event, cost, state.price_source), settle

    def _state(self, request_id: str) -> _Request:
        state = self._open.get(request_id) or self._closed.get(request_id)
        if state is None:
            state = self._open[request_id] = _Request()
        return state

    def _remember(self, request_id: str, state: _Request) -> None:
        self._closed[request_id] = state
        if len(self._closed) > CLOSED_MEMORY:
            self._closed.popitem(last=False)


_Priced = TypeVar("_Priced", bound=AttemptFinished | ResponseCompleted | ResponseFailed)
_INIT_FIELDS: dict[type, tuple[str, ...]] = {}


def _priced(event: _Priced, cost: float | None, source: str | None) -> _Priced:
    """``dataclasses.replace(event, cost_usd=cost, price_source=source)`` with the class's
    field names looked up once, not on every call (two events of every request)."""
    cls = type(event)
    names = _INIT_FIELDS.get(cls)
    if names is None:
        names = _INIT_FIELDS[cls] = tuple(f.name for f in fields(cls) if f.init)
    values = {name: getattr(event, name) for name in names}
    values["cost_usd"] = cost
    values["price_source"] = source
    return cls(**values)


def _least_certain(current: str | None, new: str | None) -> str | None:
    if current is None or _SOURCE_RANK.get(new or "", 0) > _SOURCE_RANK.get(current, 0):
        return new or current
    return current


__all__ = ["CLOSED_MEMORY", "Meter"]
