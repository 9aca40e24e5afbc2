"""A provider's API keys: rotated request by request, and benched for a while when the
provider says the key itself is invalid or revoked (``provider_auth``) or spent
(``quota_exhausted``); never for a 403 about the request (``forbidden``).
Pure: the caller passes the clock. Keys are known by their non-secret ``key_id``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from config.model import ProviderConfig, ProviderKey


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchedKey:
    key_id: str
    until: float
    why: str


class KeyRotation:
    """Round-robin over each provider's keys, skipping benched ones."""

    def __init__(self) -> None:
        self._turn: defaultdict[str, int] = defaultdict(int)
        self._benched: dict[str, BenchedKey] = {}

    def pick(
        self, provider: ProviderConfig, *, now: float, exclude: frozenset[str] = frozenset()
    ) -> ProviderKey | None:
        """The next usable key, or ``None`` when every key is benched or excluded."""
        keys = provider.keys
        turn = self._turn[provider.id]
        for offset in range(len(keys)):
            key = keys[(turn + offset) % len(keys)]
            if key.key_id not in exclude and not self.is_benched(key.key_id, now=now):
                self._turn[provider.id] = turn + offset + 1
                return key
        return None

    def has_spare(self, provider: ProviderConfig, *, now: float, exclude: frozenset[str]) -> bool:
        """Whether a key outside ``exclude`` is usable now (without turning the rotation)."""
        return any(
            key.key_id not in exclude and not self.is_benched(key.key_id, now=now)
            for key in provider.keys
        )

    def bench(self, key_id: str, *, until: float, why: str) -> None:
        self._benched[key_id] = BenchedKey(key_id=key_id, until=until, why=why)

    def is_benched(self, key_id: str, *, now: float) -> bool:
        benched = self._benched.get(key_id)
        if benched is None:
            return False
        if now < benched.until:
            return True
        del self._benched[key_id]
        return False

    def benched(self, *, now: float) -> tuple[BenchedKey, ...]:
        """The keys resting now, for the health endpoint."""
        return tuple(
            benched
            for key_id, benched in sorted(self._benched.items())
            if self.is_benched(key_id, now=now)
        )


__all__ = ["BenchedKey", "KeyRotation"]
