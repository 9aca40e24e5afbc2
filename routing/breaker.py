"""Per-provider circuit breakers. Pure: the caller passes the clock.

::

    closed ──(failure_threshold consecutive failed attempts)──► open
    open ──(cooldown_s passed; one request is admitted as the probe)──► half-open
    half-open ──(the probe succeeds)──► closed
    half-open ──(the probe fails)──► open (a new cool-down)

Only the provider's own failures count (5xx, overloaded, timeouts, unreadable answers).
A request the provider refused as the *request's* fault (400, 404…) proves it is up, so
it counts as a success. Rate limits, rejected keys and clients that left prove nothing
either way: they are neutral, and a neutral probe frees the probe slot for the next one.
A probe whose report never comes (its request was answered by another provider first)
holds the slot only until its lease — the request's deadline — passes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from config.model import BreakerPolicy
from messages.errors import CLIENT_FAULTS, ErrorInfo, ErrorKind


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Evidence(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    NEUTRAL = "neutral"


class Admission(StrEnum):
    PASS = "pass"  # closed: use it as usual
    PROBE = "probe"  # half-open: this request carries the single probe
    REFUSE = "refuse"  # open, or half-open with its probe in flight


_PROVIDER_FAILURES = frozenset(
    {ErrorKind.UPSTREAM_ERROR, ErrorKind.OVERLOADED, ErrorKind.TIMEOUT, ErrorKind.PROTOCOL}
)


def evidence_of(error: ErrorInfo | None) -> Evidence:
    """What an attempt's outcome says about the provider's health (``None``: it served)."""
    if error is None or error.kind in CLIENT_FAULTS:
        return Evidence.SUCCESS
    if error.kind in _PROVIDER_FAILURES:
        return Evidence.FAILURE
    return Evidence.NEUTRAL


@dataclass(frozen=True, slots=True, kw_only=True)
class Circuit:
    """One provider's breaker, as a value; each transition returns a new one."""

    state: CircuitState = CircuitState.CLOSED
    failures: int = 0  # consecutive failed attempts
    opened_at: float = 0.0
    probe_until: float | None = None  # half-open: the lease of the probe in flight

    def admit(
        self, *, now: float, policy: BreakerPolicy, lease_until: float
    ) -> tuple[Circuit, Admission]:
        if self.state is CircuitState.CLOSED:
            return self, Admission.PASS
        if self.state is CircuitState.OPEN and now < self.opened_at + policy.cooldown_s:
            return self, Admission.REFUSE
        if self.probe_until is not None and now < self.probe_until:
            return self, Admission.REFUSE
        probing = replace(self, state=CircuitState.HALF_OPEN, probe_until=lease_until)
        return probing, Admission.PROBE

    def record(self, evidence: Evidence, *, now: float, policy: BreakerPolicy) -> Circuit:
        if evidence is Evidence.SUCCESS:
            return Circuit()
        if evidence is Evidence.NEUTRAL:
            if self.state is CircuitState.HALF_OPEN:
                return replace(self, probe_until=None)
            return self
        failures = self.failures + 1
        if self.state is CircuitState.HALF_OPEN or (
            self.state is CircuitState.CLOSED and failures >= policy.failure_threshold
        ):
            return Circuit(state=CircuitState.OPEN, failures=failures, opened_at=now)
        return replace(self, failures=failures)

    def retry_in(self, *, now: float, policy: BreakerPolicy) -> float:
        """Seconds until a probe may be admitted (0 when one may be now)."""
        if self.state is CircuitState.CLOSED:
            return 0.0
        ready = self.opened_at + policy.cooldown_s
        if self.probe_until is not None:
            ready = max(ready, self.probe_until)
        return max(0.0, ready - now)


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """A change of state, for the log."""

    provider_id: str
    before: CircuitState
    after: CircuitState
    failures: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CircuitStatus:
    """One breaker as the health endpoint shows it."""

    provider_id: str
    state: CircuitState
    failures: int
    retry_in_s: float


class Breakers:
    """The circuits of every provider, by provider id. Owned by the router actor."""

    def __init__(self) -> None:
        self._circuits: dict[str, Circuit] = {}
        self._policies: dict[str, BreakerPolicy] = {}

    def admit(
        self, provider_id: str, policy: BreakerPolicy, *, now: float, lease_until: float
    ) -> tuple[Admission, Transition | None]:
        before = self._circuits.get(provider_id)
        if before is None:  # the common case: never failed, nothing stored
            return Admission.PASS, None
        after, admission = before.admit(now=now, policy=policy, lease_until=lease_until)
        return admission, self._store(provider_id, policy, before, after)

    def record(
        self, provider_id: str, policy: BreakerPolicy, error: ErrorInfo | None, *, now: float
    ) -> Transition | None:
        before = self._circuits.get(provider_id, Circuit())
        after = before.record(evidence_of(error), now=now, policy=policy)
        return self._store(provider_id, policy, before, after)

    def retry_in(self, provider_id: str, *, now: float) -> float:
        circuit = self._circuits.get(provider_id)
        if circuit is None:
            return 0.0
        return circuit.retry_in(now=now, policy=self._policies[provider_id])

    def keep_only(self, provider_ids: Iterable[str]) -> None:
        """Forget the circuits of providers no longer configured."""
        keep = frozenset(provider_ids)
        for provider_id in [p for p in self._circuits if p not in keep]:
            del self._circuits[provider_id]
            del self._policies[provider_id]

    def status(self, *, now: float) -> tuple[CircuitStatus, ...]:
        return tuple(
            CircuitStatus(
                provider_id=provider_id,
                state=circuit.state,
                failures=circuit.failures,
                retry_in_s=circuit.retry_in(now=now, policy=self._policies[provider_id]),
            )
            for provider_id, circuit in sorted(self._circuits.items())
        )

    def _store(
        self, provider_id: str, policy: BreakerPolicy, before: Circuit, after: Circuit
    ) -> Transition | None:
        if after == Circuit():
            self._circuits.pop(provider_id, None)
            self._policies.pop(provider_id, None)
        else:
            self._circuits[provider_id] = after
            self._policies[provider_id] = policy
        if before.state is after.state:
            return None
        return Transition(
            provider_id=provider_id,
            before=before.state,
            after=after.state,
            failures=after.failures,
        )


__all__ = [
    "Admission",
    "Breakers",
    "Circuit",
    "CircuitState",
    "CircuitStatus",
    "Evidence",
    "Transition",
    "evidence_of",
]
