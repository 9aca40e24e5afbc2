"""Virtual keys: the config's and those created by ``switchyard keys create`` (in SQL).

A stored key keeps only the SHA-256 of its secret (a fast hash is right here: the
secrets are 256 random bits, so there is nothing to brute-force, and the ingress looks
keys up by digest on every request) and a short prefix to recognise it by. A revoked or
expired key still resolves — to a refusal that says so — so the client's 401 is precise.
The config's keys win over a stored key with the same id.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from config.model import VirtualKeyConfig
from messages.errors import ErrorInfo, ErrorKind

SECRET_PREFIX = "sy-"
SHOWN_PREFIX_CHARS = 10


def new_secret() -> str:
    """A fresh virtual key: ``sy-`` and 43 URL-safe characters (256 random bits)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def new_key_id() -> str:
    return "vk_" + secrets.token_hex(6)


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def shown_prefix(secret: str) -> str:
    """What ``keys list`` shows of a secret: enough to recognise it, useless to use."""
    return secret[:SHOWN_PREFIX_CHARS] + "…"


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredKey:
    """A virtual key as stored in SQL (times are unix seconds)."""

    id: str
    name: str
    digest: str
    prefix: str
    account: str
    team: str | None = None
    customer: str | None = None
    allowed_models: tuple[str, ...] = ()
    created_at: float = 0.0
    expires_at: float | None = None
    revoked_at: float | None = None

    def as_virtual_key(self) -> VirtualKeyConfig:
        return VirtualKeyConfig(
            id=self.id,
            secret="",  # never known after creation; resolved by digest
            account=self.account,
            team=self.team,
            customer=self.customer,
            allowed_models=self.allowed_models,
        )


KeyProblem = Literal["missing", "unknown", "revoked", "expired"]


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyLookup:
    key: VirtualKeyConfig | None
    problem: KeyProblem | None = None
    key_id: str | None = None  # the id of a revoked or expired key

    def error(self) -> ErrorInfo:
        """The client's 401."""
        return ErrorInfo(
            kind=ErrorKind.UNAUTHENTICATED,
            status=401,
            message=self.describe(),
            code="invalid_api_key",
        )

    def describe(self) -> str:
        return {
            "missing": "invalid API key: send a Switchyard virtual key as "
            "'Authorization: Bearer …'",
            "unknown": "invalid API key: the request carried an unknown key",
            "revoked": "invalid API key: this virtual key was revoked",
            "expired": "invalid API key: this virtual key has expired",
        }[self.problem or "unknown"]


@dataclass(frozen=True, slots=True)
class _Entry:
    key: VirtualKeyConfig
    expires_at: float | None = None
    revoked: bool = False


class KeyDirectory:
    """Every virtual key by the digest of its secret."""

    def __init__(
        self, config_keys: Iterable[VirtualKeyConfig], stored: Iterable[StoredKey] = ()
    ) -> None:
        self._config_keys = tuple(config_keys)
        self._stored = tuple(stored)
        config_ids = {key.id for key in self._config_keys}
        entries = {
            key.digest: _Entry(
                key.as_virtual_key(), expires_at=key.expires_at, revoked=key.revoked_at is not None
            )
            for key in self._stored
            if key.id not in config_ids
        }
        entries.update({secret_digest(key.secret): _Entry(key) for key in self._config_keys})
        self._entries = entries

    def with_config_keys(self, keys: Iterable[VirtualKeyConfig]) -> KeyDirectory:
        return KeyDirectory(keys, self._stored)

    def with_stored(self, stored: Iterable[StoredKey]) -> KeyDirectory:
        return KeyDirectory(self._config_keys, stored)

    def resolve(self, authorization: str | None, *, now: float) -> KeyLookup:
        if not authorization:
            return KeyLookup(key=None, problem="missing")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return KeyLookup(key=None, problem="missing")
        entry = self._entries.get(secret_digest(token))
        if entry is None:
            return KeyLookup(key=None, problem="unknown")
        if entry.revoked:
            return KeyLookup(key=None, problem="revoked", key_id=entry.key.id)
        if entry.expires_at is not None and now >= entry.expires_at:
            return KeyLookup(key=None, problem="expired", key_id=entry.key.id)
        return KeyLookup(key=entry.key)


__all__ = [
    "SECRET_PREFIX",
    "KeyDirectory",
    "KeyLookup",
    "KeyProblem",
    "StoredKey",
    "new_key_id",
    "new_secret",
    "secret_digest",
    "shown_prefix",
]
