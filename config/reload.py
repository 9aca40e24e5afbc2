"""What a reload can and cannot change in a running gateway.

Accounts, providers (their keys, weights, timeouts, retry and breaker policies),
virtual keys and ``server.max_inflight`` apply to every request that arrives after the
reload; requests already in flight finish with the config they started with. The
listening address, the body limit and the database are fixed when the gateway starts:
a reload that changes them keeps the old values and says so.
"""

from __future__ import annotations

from config.model import GatewayConfig


def needs_restart(old: GatewayConfig, new: GatewayConfig) -> tuple[str, ...]:
    """The settings that differ between ``old`` and ``new`` but only apply at start."""
    fixed = {
        "server.host": (old.server.host, new.server.host),
        "server.port": (old.server.port, new.server.port),
        "server.max_body_bytes": (old.server.max_body_bytes, new.server.max_body_bytes),
        "database.url": (old.database_url, new.database_url),
    }
    return tuple(name for name, (before, after) in fixed.items() if before != after)


__all__ = ["needs_restart"]
