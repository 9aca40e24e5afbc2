"""``GET /v1/models``: the models a key's account can reach, each by its name and as
``provider/model`` (which pins that provider)."""

from __future__ import annotations

import orjson

from config.model import GatewayConfig


def model_list(config: GatewayConfig, account_id: str) -> bytes:
    account = config.account(account_id)
    data = [
        {"id": name, "object": "model", "created": 0, "owned_by": provider.type}
        for provider in (account.providers if account else ())
        for name in (provider.model, f"{provider.id}/{provider.model}")
    ]
    return orjson.dumps({"object": "list", "data": data})


__all__ = ["model_list"]
