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

Windows — rolling budgets (``12h``, ``7d``) and rate limits (requests and tokens per
minute) — are leased in steps: a pool row per ``WINDOW_STEPS``-th of the window, keyed by
the step's start, and the pool grants while the rows of the last window *and one step*
hold no more than the limit (so it errs towards refusing: a grant ages out between one
window and one step more after it was made). A replica's lease is for the current step;
when the step ends it gives back what it did not consume (``retired``), and spend
settled later counts in the step it settles in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from messages.budget import BudgetId

TOLERANCE_USD = 1e-9
DEFAULT_SHARE = 0.01
"""A slice is this fraction of the budget's limit (or the request's need, if larger)."""
WINDOW_STEPS = 10
"""A leased window (rolling budget, rate limit) is pooled in steps of 1/10 of it."""


@dataclass(slots=True)
class Lease:
    """What this replica holds of one budget's period."""

    period_start: float
    granted: float = 0.0
    consumed: float = 0.0  # charged to the budget by this replica since the lease began
    reported: float = 0.0  # of ``consumed``, what SQL has been told
    exhausted: bool = False  # the pool had nothing more to grant
    window_s: float | None = None  # a window's step (None: a calendar period or total)

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
    window_s: float | None = None  # a window: the pool sums its steps over this long


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
        self._retired: list[LeaseReport] = []  # leases of ended periods or steps
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
        window_s: float | None = None,
    ) -> LeaseNeed | bool:
        """True: ``amount`` fits in what is leased (beside ``held`` by requests in flight);
        False: the pool is exhausted; a ``LeaseNeed``: ask for more first."""
        lease = self._current(identity, period_start, window_s)
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
            window_s=window_s,
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
        """The pool granted ``amount`` (less than asked: it has no more). A grant for a
        step that ended while it was asked for is given back with the retired leases."""
        current = self._leases.get(need.identity)
        if current is not None and current.period_start > need.period_start:
            stale = LeaseReport(
                identity=need.identity,
                period_start=need.period_start,
                consumed=0.0,
                granted=amount,
            )
            self._retired.append(stale)
            return
        lease = self._current(need.identity, need.period_start, need.window_s)
        lease.granted += max(0.0, amount)
        if amount < need.amount - TOLERANCE_USD:
            lease.exhausted = True

    def charge(self, identity: BudgetId, amount: float, period_start: float | None) -> None:
        """Count ``amount`` consumed, in the lease of ``period_start`` only (a charge for
        an ended period is not this lease's), or — ``None``, a window — in the current
        step's lease. A negative amount corrects an earlier estimate (never below 0)."""
        lease = self._leases.get(identity)
        if lease is None or not math.isfinite(amount):
            return
        if period_start is None or lease.period_start == period_start:
            lease.consumed = max(0.0, lease.consumed + amount)

    def retire_again(self, reports: Iterable[LeaseReport]) -> None:
        """Ending ``reports`` failed (the database): try again with the next ones."""
        self._retired.extend(reports)

    def retired(self) -> list[LeaseReport]:
        """The final reports of leases whose period or step has ended (taken once)."""
        merged: dict[tuple[BudgetId, float], LeaseReport] = {}
        for report in self._retired:  # a late grant of a step beside that step's lease
            key = (report.identity, report.period_start)
            other = merged.get(key)
            if other is not None:
                report = LeaseReport(
                    identity=report.identity,
                    period_start=report.period_start,
                    consumed=other.consumed + report.consumed,
                    granted=other.granted + report.granted,
                )
            merged[key] = report
        self._retired = []
        return list(merged.values())

    def reports(self) -> list[LeaseReport]:
        """Every lease's consumption (changed or not: a report also renews it)."""
        return [
            _report(identity, lease)
            for identity, lease in self._leases.items()
            if lease.granted > 0.0 or lease.consumed > 0.0  # else SQL has nothing of it
        ]

    def final_reports(self, held: Iterable[tuple[BudgetId, float]]) -> list[LeaseReport]:
        """At shutdown: holds not yet settled count as consumed (returning less, never
        more, than is really unused)."""
        held_by = dict(held)
        for identity, lease in self._leases.items():
            lease.consumed += held_by.get(identity, 0.0)
        return self.retired() + self.reports()

    def forget(self, identities: Iterable[BudgetId]) -> None:
        for identity in identities:
            self._leases.pop(identity, None)

    def _current(
        self, identity: BudgetId, period_start: float, window_s: float | None = None
    ) -> Lease:
        lease = self._leases.get(identity)
        if lease is None or lease.period_start != period_start:
            if lease is not None and (lease.granted > 0.0 or lease.consumed > 0.0):
                self._retired.append(_report(identity, lease))
            lease = Lease(period_start=period_start, window_s=window_s)  # a new period
            self._leases[identity] = lease
        return lease


def _report(identity: BudgetId, lease: Lease) -> LeaseReport:
    lease.reported = lease.consumed
    return LeaseReport(
        identity=identity,
        period_start=lease.period_start,
        consumed=lease.consumed,
        granted=lease.granted,
    )


def window_step_start(now: float, window_s: float) -> float:
    """The start of the pool step of a ``window_s`` window that ``now`` is in."""
    step = window_s / WINDOW_STEPS
    return math.floor(now / step) * step


def period_key(start: float | None) -> float:
    """A period's start as the pool's key: ``total`` (no start) is 0."""
    return 0.0 if start is None else start


__all__ = [
    "DEFAULT_SHARE",
    "WINDOW_STEPS",
    "Lease",
    "LeaseBook",
    "LeaseNeed",
    "LeaseReport",
    "period_key",
    "window_step_start",
]
