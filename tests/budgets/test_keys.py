"""Resolving bearer tokens to virtual keys: config and stored keys, revoked and expired."""

from __future__ import annotations

from budgets.keys import KeyDirectory, StoredKey, new_secret, secret_digest, shown_prefix
from config.model import VirtualKeyConfig

CONFIG_KEY = VirtualKeyConfig(id="codex-dev", secret="sk-config-secret", account="dev", team="red")


def _stored(secret: str, key_id: str, **extra: object) -> StoredKey:
    return StoredKey(
        id=key_id,
        name=key_id,
        digest=secret_digest(secret),
        prefix=shown_prefix(secret),
        account="dev",
        **extra,  # type: ignore[arg-type]
    )


def test_config_and_stored_keys_resolve_by_their_secret() -> None:
    live = new_secret()
    keys = KeyDirectory([CONFIG_KEY], [_stored(live, "vk_live", team="blue", customer="acme")])
    assert keys.resolve("Bearer sk-config-secret", now=0).key == CONFIG_KEY
    found = keys.resolve(f"bearer {live}", now=0).key
    assert found is not None and (found.id, found.team, found.customer) == (
        "vk_live",
        "blue",
        "acme",
    )
    assert found.secret == ""  # the secret is not known after creation


def test_revoked_expired_unknown_and_missing_keys_say_why() -> None:
    revoked, expired = new_secret(), new_secret()
    keys = KeyDirectory(
        [CONFIG_KEY],
        [_stored(revoked, "vk_gone", revoked_at=5.0), _stored(expired, "vk_old", expires_at=100.0)],
    )
    assert keys.resolve(f"Bearer {expired}", now=99.0).key is not None
    late = keys.resolve(f"Bearer {expired}", now=100.0)
    assert (late.key, late.problem, late.key_id) == (None, "expired", "vk_old")
    gone = keys.resolve(f"Bearer {revoked}", now=0)
    assert (gone.problem, gone.key_id) == ("revoked", "vk_gone")
    assert "revoked" in gone.describe() and gone.error().status == 401
    assert keys.resolve("Bearer sy-nope", now=0).problem == "unknown"
    assert keys.resolve(None, now=0).problem == "missing"
    assert keys.resolve("Basic abc", now=0).problem == "missing"


def test_a_config_key_wins_over_a_stored_key_with_the_same_id() -> None:
    stored_secret = new_secret()
    keys = KeyDirectory([CONFIG_KEY], [_stored(stored_secret, "codex-dev")])
    assert keys.resolve(f"Bearer {stored_secret}", now=0).problem == "unknown"
    refreshed = keys.with_stored([_stored(stored_secret, "vk_other")])
    assert refreshed.resolve(f"Bearer {stored_secret}", now=0).key is not None
    assert refreshed.resolve("Bearer sk-config-secret", now=0).key == CONFIG_KEY


def test_secrets_are_long_random_and_only_a_prefix_is_shown() -> None:
    first, second = new_secret(), new_secret()
    assert first != second and first.startswith("sy-") and len(first) >= 40
    assert shown_prefix(first) == first[:10] + "…"
    assert secret_digest(first) != secret_digest(second) and len(secret_digest(first)) == 64
