"""Key rotation: round-robin over a provider's keys, skipping benched ones until they rest."""

from __future__ import annotations

from config.model import ProviderConfig, ProviderKey
from routing.keys import KeyRotation


def _provider(*key_ids: str) -> ProviderConfig:
    return ProviderConfig(
        id="p",
        type="openai",
        model="m",
        weight=1,
        base_url="http://127.0.0.1:1",
        keys=tuple(ProviderKey(key_id=k, secret=f"secret-{k}") for k in key_ids),
    )


def test_keys_rotate_request_by_request() -> None:
    keys = KeyRotation()
    provider = _provider("k0", "k1", "k2")
    picked = [keys.pick(provider, now=0) for _ in range(6)]
    assert [k.key_id for k in picked if k] == ["k0", "k1", "k2", "k0", "k1", "k2"]


def test_a_benched_key_rests_until_its_time_is_up() -> None:
    keys = KeyRotation()
    provider = _provider("k0", "k1")
    keys.bench("k0", until=100.0, why="provider_auth")
    assert [keys.pick(provider, now=50).key_id for _ in range(3)] == ["k1", "k1", "k1"]  # type: ignore[union-attr]
    assert [b.key_id for b in keys.benched(now=50)] == ["k0"]
    assert {keys.pick(provider, now=100).key_id for _ in range(2)} == {"k0", "k1"}  # type: ignore[union-attr]
    assert keys.benched(now=100) == ()


def test_no_key_when_every_key_is_benched_or_excluded() -> None:
    keys = KeyRotation()
    provider = _provider("k0", "k1")
    keys.bench("k0", until=10, why="quota_exhausted")
    assert keys.pick(provider, now=0, exclude=frozenset({"k1"})) is None
    assert not keys.has_spare(provider, now=0, exclude=frozenset({"k1"}))
    assert keys.has_spare(provider, now=0, exclude=frozenset())
    keys.bench("k1", until=10, why="provider_auth")
    assert keys.pick(provider, now=5) is None
