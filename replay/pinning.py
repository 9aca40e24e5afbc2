"""The config a replay run sends its requests through: the other mix, made fit to replay.

From the config given to ``switchyard replay`` (``--config other.yaml``): only the
pinned provider when ``--route provider/model`` is given (with that upstream model),
none of its budgets (a replay never counts in live budgets: the run's only budget is its
``--max-cost``, on the run's own team), no session cap (a replay re-sends a session's
turns as fast as ``--concurrency`` allows), and one virtual key per account, made for
this run: a replayed request is served by the account of its original's id when the
config has one, else by the config's first account.
"""

from __future__ import annotations

import dataclasses

from config.model import AccountConfig, GatewayConfig, VirtualKeyConfig


class RouteNotFound(ValueError):
    """``--route`` names no provider of the config."""


def parse_route(text: str) -> tuple[str, str | None]:
    """``provider`` or ``provider/model`` → ``(provider, model or None)``."""
    provider, _, model = text.partition("/")
    if not provider.strip() or (model == "" and "/" in text):
        raise RouteNotFound(f"--route {text!r}: give a provider id, or provider/model")
    return provider, (model or None)


def replay_team(run_id: str) -> str:
    """The team every replayed request of a run is charged to (the run's cap)."""
    return f"replay:{run_id}"


def replay_config(
    config: GatewayConfig, *, run_id: str, route: str | None, secret: str
) -> GatewayConfig:
    """``config`` as a replay run uses it (see the module docstring)."""
    accounts = config.accounts if route is None else _pinned(config, route)
    keys = tuple(_key(account, run_id, secret) for account in accounts)
    server = dataclasses.replace(config.server, session_request_cap=0, max_inflight=1 << 20)
    return dataclasses.replace(
        config, accounts=accounts, virtual_keys=keys, budgets=(), server=server
    )


def key_for(config: GatewayConfig, account_id: str | None) -> VirtualKeyConfig:
    """The run's key for a request first served by ``account_id`` (see the docstring)."""
    for key in config.virtual_keys:
        if key.account == account_id:
            return key
    return config.virtual_keys[0]


def _key(account: AccountConfig, run_id: str, secret: str) -> VirtualKeyConfig:
    return VirtualKeyConfig(
        id=f"replay:{run_id}:{account.id}",
        secret=f"{secret}-{account.id}",
        account=account.id,
        team=replay_team(run_id),
        session_requests_per_minute=0,
    )


def _pinned(config: GatewayConfig, route: str) -> tuple[AccountConfig, ...]:
    provider_id, model = parse_route(route)
    pinned = []
    for account in config.accounts:
        providers = tuple(
            dataclasses.replace(p, model=model or p.model, weight=1.0)
            for p in account.providers
            if p.id == provider_id
        )
        if providers:
            pinned.append(dataclasses.replace(account, providers=providers))
    if not pinned:
        known = sorted({p.id for a in config.accounts for p in a.providers})
        raise RouteNotFound(
            f"--route {route!r}: {config.source} has no provider {provider_id!r} "
            f"(it has: {', '.join(known) or 'none'})"
        )
    return tuple(pinned)


__all__ = ["RouteNotFound", "key_for", "parse_route", "replay_config", "replay_team"]
