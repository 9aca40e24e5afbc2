"""Budget leases: how replicas share one budget without a database round trip per request.

With shared budgets (several gateway processes on one PostgreSQL), no replica can see
the others' requests in flight, so none may admit against the whole limit. Each
replica instead *leases* slices of a budget's period from a pool row in SQL (an atomic
conditional update: the pool never grants past the limit) and admits requests against
what it holds: ``consumed + reserved + estimate <= granted``. Only when that runs short
does it ask for another slice — one SQL transaction per slice (``share`` of the limit,
1 % by default), not per request.

This module is the pure bookkeeping, one ``Lease`` per budget and period; the SQL is in
``storage.lease_store`` and the asking in ``actors.budget_leases``. Consumption is
reported back (every tick), so a lease that expires because its replica died returns
to the pool only what was not reported consumed. What a replica consumed but had not
reported when it died is the only spend the pool never learns of: the overspend bound
is, per replica killed, the consumption of its last report interval, at most what it
held leased (see README, "Scaling out").

Rolling windows are not leased (their spend ages out continuously; a pool per window
has no fixed key): they stay per replica. Calendar periods and ``total`` are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from messages.budget import BudgetId

TOLERANCE_USD = 1e-9
DEFAULT_SHARE = 0.01
"""A slice is this fraction of the budget's limit (or the request's need, if larger)."""


@dataclass(slots=True)
class Lease:
    """What this replica holds of one budget's period."""

    period_start: float
    granted: float = 0.0
    consumed: float = 0.0  # charged to the budget by this replica since the lease began
    reported: float = 0.0  # of ``consumed``, what SQL has been told
    exhausted: bool = False  # the pool had nothing more to grant

    def room(self) -> float:
        return self.granted - self.consumed


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaseNeed:
    """Ask the pool for at least ``amount`` more of ``identity``'s ``period_start``."""

    identity: BudgetId
    period_start: float
    amount: float
    limit: float
    floor: float  # the spend this replica knows of for the period (a new pool starts there)


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaseReport:
    """``consumed`` so far for a lease (what SQL keeps to settle an expired lease)."""

    identity: BudgetId
    period_start: float
    consumed: float
    granted: float


class LeaseBook:
    def __init__(self, share: float = DEFAULT_SHARE) -> None:
        if not 0.0 < share <= 1.0:
            raise ValueError(f"lease share must be in (0, 1], not {share}")
        self.share = share
        self._leases: dict[BudgetId, Lease] = {}
        self.pending: set[BudgetId] = set()

    def check(
        self,
        identity: BudgetId,
        period_start: float,
        *,
        held: float,
        amount: float,
        limit: float,
        known_spend: float,
    ) -> LeaseNeed | bool:
        """True: ``amount`` fits in what is leased (beside ``held`` by requests in flight);
        False: the pool is exhausted; a ``LeaseNeed``: ask for more first."""
        lease = self._current(identity, period_start)
        wanted = lease.consumed + held + amount - lease.granted
        if wanted <= TOLERANCE_USD:
            return True
        if lease.exhausted:
            return False
        return LeaseNeed(
            identity=identity,
            period_start=period_start,
            amount=max(wanted, self.share * limit),
            limit=limit,
            floor=known_spend,
        )

    def low(self, identity: BudgetId, *, held: float, limit: float) -> bool:
        """Whether the lease has less than half a slice left (time to fetch the next)."""
        lease = self._leases.get(identity)
        if lease is None or lease.exhausted:
            return False
        return lease.room() - held < self.share * limit / 2

    def current(self, identity: BudgetId) -> Lease | None:
        return self._leases.get(identity)

    def items(self) -> list[tuple[BudgetId, Lease]]:
        return list(self._leases.items())

    def granted(self, need: LeaseNeed, amount: float) -> None:
        """The pool granted ``amount`` (less than asked: it has no more)."""
        lease = self._current(need.identity, need.period_start)
        lease.granted += max(0.0, amount)
        if amount < need.amount - TOLERANCE_USD:
            lease.exhausted = True

    def charge(self, identity: BudgetId, usd: float, period_start: float) -> None:
        lease = self._leases.get(identity)
        if lease is not None and lease.period_start == period_start and usd > 0.0:
            lease.consumed += usd

    def reports(self) -> list[LeaseReport]:
        """Every lease's consumption (changed or not: a report also renews it)."""
        out = []
        for identity, lease in self._leases.items():
            lease.reported = lease.consumed
            out.append(
                LeaseReport(
                    identity=identity,
                    period_start=lease.period_start,
                    consumed=lease.consumed,
                    granted=lease.granted,
                )
            )
        return out

    def final_reports(self, held: Iterable[tuple[BudgetId, float]]) -> list[LeaseReport]:
        """At shutdown: holds not yet settled count as consumed (returning less, never
        more, than is really unused)."""
        held_by = dict(held)
        for identity, lease in self._leases.items():
            lease.consumed += held_by.get(identity, 0.0)
        return self.reports()

    def forget(self, identities: Iterable[BudgetId]) -> None:
        for identity in identities:
            self._leases.pop(identity, None)

    def _current(self, identity: BudgetId, period_start: float) -> Lease:
        lease = self._leases.get(identity)
        if lease is None or lease.period_start != period_start:
            lease = Lease(period_start=period_start)  # a new period starts a new lease
            self._leases[identity] = lease
        return lease


def period_key(start: float | None) -> float:
    """A period's start as the pool's key: ``total`` (no start) is 0."""
    return 0.0 if start is None else start


__all__ = [
    "DEFAULT_SHARE",
    "Lease",
    "LeaseBook",
    "LeaseNeed",
    "LeaseReport",
    "period_key",
]
