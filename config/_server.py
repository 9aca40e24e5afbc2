"""The ``server:`` section, and how a secret is read (the admin key, provider and
virtual keys): one line, no whitespace or control characters."""

from __future__ import annotations

from dataclasses import fields

import yaml

from config._nodes import Fields, NodeReader
from config.model import ADMIN_KEY_MIN_LENGTH, ServerConfig

SERVER_KEYS = frozenset(field.name for field in fields(ServerConfig))


def read_server(section: Fields | None) -> ServerConfig:
    base = ServerConfig()
    if section is None:
        return base
    return ServerConfig(
        host=section.optional_string("host") or base.host,
        port=section.integer("port", default=base.port, minimum=0, maximum=65535),
        max_body_bytes=section.integer("max_body_bytes", default=base.max_body_bytes, minimum=1),
        max_inflight=section.integer("max_inflight", default=base.max_inflight, minimum=1),
        session_request_cap=section.integer(
            "session_request_cap", default=base.session_request_cap, minimum=0
        ),
        admin_key=_read_admin_key(section),
        max_buffered_body_bytes=section.integer(
            "max_buffered_body_bytes", default=base.max_buffered_body_bytes, minimum=1
        ),
        header_timeout_s=_timeout(section, "header_timeout_s", base.header_timeout_s),
        body_timeout_s=_timeout(section, "body_timeout_s", base.body_timeout_s),
        write_timeout_s=_timeout(section, "write_timeout_s", base.write_timeout_s),
        reuse_port=section.boolean("reuse_port", default=base.reuse_port),
        shared_budgets=section.boolean("shared_budgets", default=base.shared_budgets),
        budget_lease_share=_fraction(section, "budget_lease_share", base.budget_lease_share),
        budget_lease_ttl_s=_timeout(section, "budget_lease_ttl_s", base.budget_lease_ttl_s),
    )


def _fraction(section: Fields, key: str, default: float) -> float:
    value = section.number(key, default=default, positive=True)
    if value > 1.0:
        node = section.get(key)
        raise section.reader.error(node, f"{section.path(key)}: must be at most 1 (a fraction)")
    return value


def _read_admin_key(section: Fields) -> str | None:
    node = section.get("admin_key")
    if node is None:
        return None
    where = section.path("admin_key")
    secret = read_secret(section.reader, node, where)
    if len(secret) < ADMIN_KEY_MIN_LENGTH:
        problem = (
            f"{where}: must be at least {ADMIN_KEY_MIN_LENGTH} characters "
            f"(it has {len(secret)}; e.g. `openssl rand -hex 24`)"
        )
        raise section.reader.error(node, problem)
    return secret


_MAX_CLIENT_TIMEOUT_S = 3600.0


def _timeout(section: Fields, key: str, default: float) -> float:
    """A client-facing deadline: positive and at most an hour."""
    value = section.number(key, default=default, positive=True)
    if value > _MAX_CLIENT_TIMEOUT_S:
        problem = f"{section.path(key)}: at most {_MAX_CLIENT_TIMEOUT_S:g} seconds, got {value:g}"
        raise section.reader.error(section.values.get(key), problem)
    return value


def read_secret(reader: NodeReader, node: yaml.Node, where: str) -> str:
    secret = reader.string(node, where)
    if any(char.isspace() or not char.isprintable() for char in secret):
        raise reader.error(node, f"{where}: contains whitespace or control characters")
    return secret


__all__ = ["SERVER_KEYS", "read_secret", "read_server"]
