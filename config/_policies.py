"""The per-provider policies — ``timeouts``, ``retry`` and ``breaker`` — as written under
``defaults:`` and overridden, key by key, under each provider."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

from config.model import BreakerPolicy, RetryPolicy, Timeouts

if TYPE_CHECKING:
    from config._nodes import Fields

DEFAULTS_KEYS = frozenset({"timeouts", "retry", "breaker"})
TIMEOUT_KEYS = frozenset(item.name for item in fields(Timeouts))
RETRY_KEYS = frozenset(item.name for item in fields(RetryPolicy))
BREAKER_KEYS = frozenset(item.name for item in fields(BreakerPolicy))


@dataclass(frozen=True, slots=True, kw_only=True)
class Policies:
    """What a provider starts from: the ``defaults:`` section, or the built-in values."""

    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)


def read_defaults(section: Fields | None) -> Policies:
    """The ``defaults:`` section (absent: the built-in values)."""
    return read_policies(section, Policies())


def read_policies(section: Fields | None, base: Policies) -> Policies:
    """``base`` with whatever ``section`` (defaults or one provider) overrides."""
    if section is None:
        return base
    return Policies(
        timeouts=read_timeouts(section.mapping("timeouts", TIMEOUT_KEYS), base.timeouts),
        retry=read_retry(section.mapping("retry", RETRY_KEYS), base.retry),
        breaker=read_breaker(section.mapping("breaker", BREAKER_KEYS), base.breaker),
    )


def read_timeouts(section: Fields | None, base: Timeouts) -> Timeouts:
    """``base`` with the keys ``section`` gives replaced (a partial override)."""
    if section is None:
        return base
    return Timeouts(
        connect_s=section.number("connect_s", default=base.connect_s, positive=True),
        first_byte_s=section.number("first_byte_s", default=base.first_byte_s, positive=True),
        idle_s=section.number("idle_s", default=base.idle_s, positive=True),
        total_s=section.number("total_s", default=base.total_s, positive=True),
    )


def read_retry(section: Fields | None, base: RetryPolicy) -> RetryPolicy:
    """``base`` with the keys ``section`` gives replaced (a partial override)."""
    if section is None:
        return base
    policy = RetryPolicy(
        max_retries=section.integer("max_retries", default=base.max_retries, minimum=0),
        backoff_base_s=section.number(
            "backoff_base_s", default=base.backoff_base_s, positive=False
        ),
        backoff_max_s=section.number("backoff_max_s", default=base.backoff_max_s, positive=False),
        max_retry_after_s=section.number(
            "max_retry_after_s", default=base.max_retry_after_s, positive=False
        ),
        key_bench_s=section.number("key_bench_s", default=base.key_bench_s, positive=False),
        resend_unanswered=section.boolean("resend_unanswered", default=base.resend_unanswered),
    )
    if policy.backoff_max_s < policy.backoff_base_s:
        node = section.get("backoff_max_s") or section.get("backoff_base_s") or section.node
        problem = f"{section.where}: backoff_max_s must not be less than backoff_base_s"
        raise section.reader.error(node, problem)
    return policy


def read_breaker(section: Fields | None, base: BreakerPolicy) -> BreakerPolicy:
    """``base`` with the keys ``section`` gives replaced (a partial override)."""
    if section is None:
        return base
    return BreakerPolicy(
        failure_threshold=section.integer(
            "failure_threshold", default=base.failure_threshold, minimum=1
        ),
        cooldown_s=section.number("cooldown_s", default=base.cooldown_s, positive=True),
    )


__all__ = ["DEFAULTS_KEYS", "Policies", "read_defaults", "read_policies"]
