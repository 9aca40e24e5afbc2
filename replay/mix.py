"""Which providers of another config would serve a logged request, and in what shares.

As the router does it: the request's virtual key names its account (else the account
logged with it, else the config's only account); a ``provider/model`` request pins that
provider (by id, then by type) and sends that model; otherwise each provider serves the
share of its weight (weights normalise themselves; all zero: equal shares).
"""

from __future__ import annotations

from dataclasses import dataclass

from config.model import AccountConfig, GatewayConfig, ProviderConfig
from replay.report_model import ModelKey
from replay.traffic import LoggedRequest


@dataclass(frozen=True, slots=True, kw_only=True)
class Share:
    model: ModelKey
    share: float


class TargetMix:
    """The shares of ``config``'s providers for each logged request (cached per key,
    account and model asked for, so a large report resolves each combination once)."""

    def __init__(self, config: GatewayConfig) -> None:
        self._key_accounts = {key.id: key.account for key in config.virtual_keys}
        self._accounts = {account.id: account for account in config.accounts}
        self._only = config.accounts[0] if len(config.accounts) == 1 else None
        self._cache: dict[tuple[str | None, str | None, str], tuple[Share, ...]] = {}

    def shares(self, request: LoggedRequest) -> tuple[Share, ...]:
        """Empty when no account of the config would serve the request."""
        slot = (request.virtual_key, request.account_id, request.model_requested)
        found = self._cache.get(slot)
        if found is None:
            found = self._cache[slot] = self._resolve(request)
        return found

    def _resolve(self, request: LoggedRequest) -> tuple[Share, ...]:
        account = self._account(request)
        if account is None or not account.providers:
            return ()
        pinned = _pinned(account, request.model_requested)
        if pinned is not None:
            return (pinned,)
        return weighted_shares(account.providers)

    def _account(self, request: LoggedRequest) -> AccountConfig | None:
        by_key = self._key_accounts.get(request.virtual_key or "")
        for account_id in (by_key, request.account_id):
            if account_id is not None and account_id in self._accounts:
                return self._accounts[account_id]
        return self._only


def weighted_shares(providers: tuple[ProviderConfig, ...]) -> tuple[Share, ...]:
    total = sum(max(provider.weight, 0.0) for provider in providers)
    return tuple(
        Share(
            model=_key(provider, provider.model),
            share=max(provider.weight, 0.0) / total if total > 0 else 1 / len(providers),
        )
        for provider in providers
    )


def _pinned(account: AccountConfig, model: str) -> Share | None:
    prefix, slash, rest = model.partition("/")
    if not slash:
        return None
    by_id = [p for p in account.providers if p.id == prefix]
    by_type = [p for p in account.providers if p.type == prefix]
    for provider in (*by_id, *by_type):
        return Share(model=_key(provider, rest), share=1.0)
    return None


def _key(provider: ProviderConfig, model: str) -> ModelKey:
    upstream = model.removeprefix(f"{provider.type}/")
    return ModelKey(provider=provider.id, provider_type=provider.type, model=upstream)


__all__ = ["Share", "TargetMix", "weighted_shares"]
