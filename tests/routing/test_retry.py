"""The retry policy as a table: what each failure leads to, and the error a client sees
when every candidate failed."""

from __future__ import annotations

import random

import pytest

from config.model import RetryPolicy
from messages.errors import ErrorInfo, ErrorKind
from routing.retry import (
    MAX_RETRY_AFTER_S,
    RESEND_NOTE,
    Next,
    bounded_retry_after,
    decide,
    describe,
    most_informative,
)

POLICY = RetryPolicy(max_retries=2, backoff_base_s=0.5, backoff_max_s=3.0, max_retry_after_s=10)


def _error(kind: ErrorKind, status: int, **fields: object) -> ErrorInfo:
    return ErrorInfo(kind=kind, status=status, message=str(kind), **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (ErrorKind.RATE_LIMITED, 429),
        (ErrorKind.UPSTREAM_ERROR, 500),
        (ErrorKind.OVERLOADED, 503),  # 503 and 529
        (ErrorKind.UPSTREAM_ERROR, 502),  # connection refused or reset
        (ErrorKind.TIMEOUT, 504),  # connect, first byte or idle gap
        (ErrorKind.PROTOCOL, 502),
    ],
)
def test_provider_trouble_is_retried_then_failed_over(kind: ErrorKind, status: int) -> None:
    error = _error(kind, status)
    rng = random.Random(0)
    first = decide(error, retries_done=0, policy=POLICY, rng=rng)
    second = decide(error, retries_done=1, policy=POLICY, rng=rng)
    third = decide(error, retries_done=2, policy=POLICY, rng=rng)
    assert (first.next, second.next, third.next) == (Next.RETRY, Next.RETRY, Next.FAILOVER)
    assert 0.25 <= first.delay_s <= 0.5  # base, with jitter in [50 %, 100 %]
    assert 0.5 <= second.delay_s <= 1.0  # doubled
    assert "no retries left" in third.reason
    assert not first.bench_key


def test_backoff_is_capped() -> None:
    error = _error(ErrorKind.UPSTREAM_ERROR, 500)
    policy = RetryPolicy(max_retries=10, backoff_base_s=0.5, backoff_max_s=3.0)
    delays = [
        decide(error, retries_done=n, policy=policy, rng=random.Random(n)).delay_s
        for n in range(10)
    ]
    assert max(delays) <= 3.0
    assert delays[9] >= 1.5


def test_retry_after_is_honoured_exactly() -> None:
    error = _error(ErrorKind.RATE_LIMITED, 429, retry_after=7.0)
    decision = decide(error, retries_done=0, policy=POLICY, rng=random.Random(0))
    assert (decision.next, decision.delay_s) == (Next.RETRY, 7.0)
    assert "retry-after 7s" in decision.reason


def test_retry_after_over_the_cap_fails_over_at_once() -> None:
    error = _error(ErrorKind.RATE_LIMITED, 429, retry_after=11.0)
    decision = decide(error, retries_done=0, policy=POLICY, rng=random.Random(0))
    assert decision.next is Next.FAILOVER
    assert "cap" in decision.reason


@pytest.mark.parametrize("kind", [ErrorKind.PROVIDER_AUTH, ErrorKind.QUOTA_EXHAUSTED])
def test_a_rejected_key_is_benched_never_retried(kind: ErrorKind) -> None:
    error = _error(kind, 502)
    rng = random.Random(0)
    with_spare = decide(error, retries_done=0, policy=POLICY, rng=rng, spare_key=True)
    without = decide(error, retries_done=0, policy=POLICY, rng=rng, spare_key=False)
    assert (with_spare.next, with_spare.bench_key) == (Next.NEXT_KEY, True)
    assert (without.next, without.bench_key) == (Next.FAILOVER, True)
    assert with_spare.delay_s == 0


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (ErrorKind.BAD_REQUEST, 400),
        (ErrorKind.NOT_FOUND, 404),
        (ErrorKind.PAYLOAD_TOO_LARGE, 413),
        (ErrorKind.BAD_REQUEST, 422),
        (ErrorKind.CONTEXT_TOO_LONG, 400),
        (ErrorKind.CLIENT_CLOSED, 499),
    ],
)
def test_the_requests_own_fault_goes_back_as_it_is(kind: ErrorKind, status: int) -> None:
    decision = decide(_error(kind, status), retries_done=0, policy=POLICY, rng=random.Random(0))
    assert decision.next is Next.GIVE_UP


def test_the_most_informative_error_is_a_429_with_the_soonest_retry_after() -> None:
    errors = [
        _error(ErrorKind.RATE_LIMITED, 429, retry_after=9.0),
        _error(ErrorKind.UPSTREAM_ERROR, 500),
        _error(ErrorKind.RATE_LIMITED, 429, retry_after=3.0),
        _error(ErrorKind.TIMEOUT, 504),
    ]
    best = most_informative(errors)
    assert (best.status, best.retry_after) == (429, 3.0)


def test_a_429_without_a_delay_gets_one_so_codex_retries() -> None:
    errors = [_error(ErrorKind.RATE_LIMITED, 429), _error(ErrorKind.UPSTREAM_ERROR, 500)]
    assert most_informative(errors).retry_after == 1.0


def test_without_a_rate_limit_the_last_error_is_shown() -> None:
    errors = [_error(ErrorKind.UPSTREAM_ERROR, 500), _error(ErrorKind.OVERLOADED, 503)]
    assert most_informative(errors).status == 503


def test_describe_names_kind_code_and_delay() -> None:
    error = _error(ErrorKind.QUOTA_EXHAUSTED, 429, code="insufficient_quota")
    assert describe(error) == "quota_exhausted insufficient_quota"
    assert describe(_error(ErrorKind.RATE_LIMITED, 429, retry_after=2.0)) == (
        "rate_limited, retry-after 2s"
    )


@pytest.mark.parametrize(
    ("given", "bounded"),
    [
        (None, None),
        (float("nan"), None),
        ("2", None),  # never a string, whatever a mapper hands over
        (True, None),
        (-5.0, 0.0),
        (float("-inf"), 0.0),
        (2.5, 2.5),
        (float("inf"), MAX_RETRY_AFTER_S),
        (1e300, MAX_RETRY_AFTER_S),
        (10**30, MAX_RETRY_AFTER_S),
    ],
)
def test_a_providers_retry_after_is_bounded(given: object, bounded: float | None) -> None:
    assert bounded_retry_after(given) == bounded


@pytest.mark.parametrize("retry_after", [float("inf"), float("nan"), -1.0, 1e300])
def test_a_hostile_retry_after_never_becomes_a_sleep_or_a_crash(retry_after: float) -> None:
    error = _error(ErrorKind.RATE_LIMITED, 429, retry_after=retry_after)
    decision = decide(error, retries_done=0, policy=POLICY, rng=random.Random(0))
    assert 0 <= decision.delay_s <= POLICY.max_retry_after_s
    worst = most_informative([error])
    assert worst.retry_after is not None and 0 <= worst.retry_after <= MAX_RETRY_AFTER_S


def test_an_unanswered_failure_is_resent_only_when_the_policy_allows() -> None:
    error = _error(ErrorKind.TIMEOUT, 504)
    allowed = decide(error, retries_done=0, policy=POLICY, rng=random.Random(0), unanswered=True)
    assert allowed.next is Next.RETRY and RESEND_NOTE in allowed.reason
    strict = RetryPolicy(max_retries=2, resend_unanswered=False)
    refused = decide(error, retries_done=0, policy=strict, rng=random.Random(0), unanswered=True)
    assert refused.next is Next.GIVE_UP and "not resent" in refused.reason
    last = decide(error, retries_done=2, policy=strict, rng=random.Random(0), unanswered=True)
    assert last.next is Next.GIVE_UP  # not even a failover: another provider bills too
    answered = decide(error, retries_done=0, policy=strict, rng=random.Random(0))
    assert answered.next is Next.RETRY and RESEND_NOTE not in answered.reason
