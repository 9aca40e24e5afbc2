"""Resolving a client's bearer token to a virtual key, without keeping or logging the token."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from config.model import GatewayConfig, VirtualKeyConfig


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True, slots=True)
class KeyRing:
    """Virtual keys by the SHA-256 of their secret."""

    by_digest: dict[bytes, VirtualKeyConfig]

    @classmethod
    def from_config(cls, config: GatewayConfig) -> KeyRing:
        return cls({token_digest(key.secret): key for key in config.virtual_keys})

    def resolve(self, authorization: str | None) -> VirtualKeyConfig | None:
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        digest = token_digest(token.strip())
        key = self.by_digest.get(digest)
        if key is None or not hmac.compare_digest(token_digest(key.secret), digest):
            return None
        return key


__all__ = ["KeyRing", "token_digest"]
