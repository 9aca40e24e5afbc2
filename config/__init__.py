"""The gateway's configuration: a YAML file loaded into frozen, checked values.

``load_config(path)`` returns a ``GatewayConfig`` or raises ``ConfigError`` naming the
file, the line and the problem (never a secret's value).
"""

from config.loader import ConfigError, load_config, parse_config
from config.model import (
    AccountConfig,
    BudgetConfig,
    GatewayConfig,
    ProviderConfig,
    ProviderKey,
    RetryPolicy,
    ServerConfig,
    Timeouts,
    VirtualKeyConfig,
)
from config.provider_types import PROVIDER_TYPES

__all__ = [
    "PROVIDER_TYPES",
    "AccountConfig",
    "BudgetConfig",
    "ConfigError",
    "GatewayConfig",
    "ProviderConfig",
    "ProviderKey",
    "RetryPolicy",
    "ServerConfig",
    "Timeouts",
    "VirtualKeyConfig",
    "load_config",
    "parse_config",
]
