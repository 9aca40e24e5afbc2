"""The circuit breaker as pure state: opens after N consecutive failures, admits one probe
after the cool-down, closes on the probe's success, reopens on its failure."""

from __future__ import annotations

import pytest

from config.model import BreakerPolicy
from messages.errors import ErrorInfo, ErrorKind
from routing.breaker import (
    Admission,
    Breakers,
    Circuit,
    CircuitState,
    Evidence,
    Transition,
    evidence_of,
)

POLICY = BreakerPolicy(failure_threshold=3, cooldown_s=10.0)
BOOM = ErrorInfo(kind=ErrorKind.UPSTREAM_ERROR, status=500, message="boom")
LIMITED = ErrorInfo(kind=ErrorKind.RATE_LIMITED, status=429, message="slow down")


def _error(kind: ErrorKind) -> ErrorInfo:
    return ErrorInfo(kind=kind, status=500, message=str(kind))


@pytest.mark.parametrize(
    ("kind", "evidence"),
    [
        (ErrorKind.UPSTREAM_ERROR, Evidence.FAILURE),
        (ErrorKind.OVERLOADED, Evidence.FAILURE),
        (ErrorKind.TIMEOUT, Evidence.FAILURE),
        (ErrorKind.PROTOCOL, Evidence.FAILURE),
        (ErrorKind.BAD_REQUEST, Evidence.SUCCESS),
        (ErrorKind.NOT_FOUND, Evidence.SUCCESS),
        (ErrorKind.CONTEXT_TOO_LONG, Evidence.SUCCESS),
        (ErrorKind.RATE_LIMITED, Evidence.NEUTRAL),
        (ErrorKind.QUOTA_EXHAUSTED, Evidence.NEUTRAL),
        (ErrorKind.PROVIDER_AUTH, Evidence.NEUTRAL),
        (ErrorKind.CLIENT_CLOSED, Evidence.NEUTRAL),
    ],
)
def test_what_counts_against_a_provider(kind: ErrorKind, evidence: Evidence) -> None:
    assert evidence_of(_error(kind)) is evidence
    assert evidence_of(None) is Evidence.SUCCESS


def _fail(circuit: Circuit, times: int, now: float = 0.0) -> Circuit:
    for _ in range(times):
        circuit = circuit.record(Evidence.FAILURE, now=now, policy=POLICY)
    return circuit


def test_opens_after_the_threshold_of_consecutive_failures() -> None:
    circuit = _fail(Circuit(), 2)
    assert circuit.state is CircuitState.CLOSED and circuit.failures == 2
    circuit = _fail(circuit, 1, now=5.0)
    assert circuit.state is CircuitState.OPEN and circuit.opened_at == 5.0


def test_a_success_resets_the_count() -> None:
    circuit = _fail(Circuit(), 2).record(Evidence.SUCCESS, now=0, policy=POLICY)
    assert _fail(circuit, 2).state is CircuitState.CLOSED


def test_neutral_outcomes_neither_count_nor_reset() -> None:
    circuit = _fail(Circuit(), 2).record(Evidence.NEUTRAL, now=0, policy=POLICY)
    assert circuit.failures == 2
    assert _fail(circuit, 1).state is CircuitState.OPEN


def test_open_refuses_until_the_cooldown_then_admits_a_single_probe() -> None:
    circuit = _fail(Circuit(), 3, now=100.0)
    circuit, admission = circuit.admit(now=109.9, policy=POLICY, lease_until=200)
    assert admission is Admission.REFUSE
    assert circuit.retry_in(now=109.9, policy=POLICY) == pytest.approx(0.1)
    circuit, admission = circuit.admit(now=110.0, policy=POLICY, lease_until=150)
    assert admission is Admission.PROBE and circuit.state is CircuitState.HALF_OPEN
    circuit, second = circuit.admit(now=111.0, policy=POLICY, lease_until=160)
    assert second is Admission.REFUSE  # one probe at a time


def test_the_probe_closes_or_reopens_the_circuit() -> None:
    probing, _ = _fail(Circuit(), 3).admit(now=10.0, policy=POLICY, lease_until=50)
    assert probing.record(Evidence.SUCCESS, now=11, policy=POLICY) == Circuit()
    reopened = probing.record(Evidence.FAILURE, now=12, policy=POLICY)
    assert reopened.state is CircuitState.OPEN and reopened.opened_at == 12
    assert reopened.admit(now=21.9, policy=POLICY, lease_until=99)[1] is Admission.REFUSE
    assert reopened.admit(now=22.0, policy=POLICY, lease_until=99)[1] is Admission.PROBE


def test_a_neutral_probe_frees_the_slot_for_the_next_request() -> None:
    probing, _ = _fail(Circuit(), 3).admit(now=10.0, policy=POLICY, lease_until=50)
    freed = probing.record(Evidence.NEUTRAL, now=11, policy=POLICY)
    assert freed.state is CircuitState.HALF_OPEN
    assert freed.admit(now=11.5, policy=POLICY, lease_until=60)[1] is Admission.PROBE


def test_an_unreported_probe_holds_the_slot_only_until_its_lease_ends() -> None:
    probing, _ = _fail(Circuit(), 3).admit(now=10.0, policy=POLICY, lease_until=40)
    assert probing.admit(now=39.9, policy=POLICY, lease_until=70)[1] is Admission.REFUSE
    assert probing.retry_in(now=30.0, policy=POLICY) == pytest.approx(10.0)
    assert probing.admit(now=40.0, policy=POLICY, lease_until=70)[1] is Admission.PROBE


def test_the_board_reports_transitions_for_the_log() -> None:
    board = Breakers()
    assert board.admit("a", POLICY, now=0, lease_until=1) == (Admission.PASS, None)
    assert board.record("a", POLICY, BOOM, now=0) is None
    assert board.record("a", POLICY, BOOM, now=0) is None
    opened = board.record("a", POLICY, BOOM, now=1.0)
    assert opened == Transition(
        provider_id="a", before=CircuitState.CLOSED, after=CircuitState.OPEN, failures=3
    )
    assert board.admit("a", POLICY, now=5, lease_until=30) == (Admission.REFUSE, None)
    assert board.retry_in("a", now=5) == pytest.approx(6.0)
    admission, half = board.admit("a", POLICY, now=11, lease_until=30)
    assert admission is Admission.PROBE
    assert half is not None and half.after is CircuitState.HALF_OPEN
    closed = board.record("a", POLICY, None, now=12)
    assert closed is not None and closed.after is CircuitState.CLOSED
    assert board.status(now=12) == ()  # a healthy provider costs nothing to keep


def test_rate_limits_never_open_a_circuit() -> None:
    board = Breakers()
    for _ in range(20):
        assert board.record("a", POLICY, LIMITED, now=0) is None
    assert board.admit("a", POLICY, now=0, lease_until=1)[0] is Admission.PASS


def test_status_lists_troubled_circuits_and_forgets_removed_providers() -> None:
    board = Breakers()
    for _ in range(3):
        board.record("a", POLICY, BOOM, now=0)
    board.record("b", POLICY, BOOM, now=0)
    states = {(s.provider_id, s.state, s.failures) for s in board.status(now=4)}
    assert states == {("a", CircuitState.OPEN, 3), ("b", CircuitState.CLOSED, 1)}
    assert next(s for s in board.status(now=4) if s.provider_id == "a").retry_in_s == 6
    board.keep_only(["b"])
    assert [s.provider_id for s in board.status(now=4)] == ["b"]
    assert board.admit("a", POLICY, now=4, lease_until=5)[0] is Admission.PASS
