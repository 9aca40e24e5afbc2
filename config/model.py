"""The gateway's configuration as frozen values (what ``config.load`` returns).

The YAML file follows the seed's format (``accounts`` → ``providers``), plus
``virtual_keys``, ``budgets``, ``pricing``, ``server`` and ``database``.
See README "Config reference".
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeouts:
    connect_s: float = 5.0
    first_byte_s: float = 120.0
    idle_s: float = 120.0
    total_s: float = 600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    max_retries: int = 1
    backoff_base_s: float = 0.25
    backoff_max_s: float = 8.0
    max_retry_after_s: float = 30.0
    key_bench_s: float = 300.0  # how long a key the provider rejected (401/403, quota) rests
    # re-send (retry or fail over) a request that may already have reached a provider (it
    # timed out or the connection died after the whole request was written): may bill twice
    resend_unanswered: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakerPolicy:
    """A provider's circuit opens after ``failure_threshold`` consecutive failed attempts;
    after ``cooldown_s`` one probe request may try it again."""

    failure_threshold: int = 5
    cooldown_s: float = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderKey:
    """One credential. ``key_id`` is a short non-secret fingerprint used in the trail."""

    key_id: str
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderConfig:
    id: str
    type: str
    model: str
    weight: float
    base_url: str
    keys: tuple[ProviderKey, ...]
    timeouts: Timeouts = Timeouts()
    retry: RetryPolicy = RetryPolicy()
    breaker: BreakerPolicy = BreakerPolicy()
    line: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountConfig:
    id: str
    providers: tuple[ProviderConfig, ...]
    line: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class VirtualKeyConfig:
    id: str
    secret: str = field(repr=False)
    account: str
    team: str | None = None
    customer: str | None = None
    allowed_models: tuple[str, ...] = ()
    session_requests_per_minute: int | None = None  # None: ``server.session_request_cap``
    line: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class BudgetConfig:
    level: str
    id: str
    limit_usd: float | None
    period: str
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    line: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceOverride:
    """A model's price from the ``pricing:`` section, in USD per million tokens; it
    replaces the shipped price of ``(provider, model)`` (``provider`` is a type)."""

    provider: str
    model: str
    input: float
    output: float
    cached_input: float | None = None
    cache_write: float | None = None
    reasoning: float | None = None
    default_output_tokens: int | None = None
    max_output_tokens: int | None = None  # None: the shipped list's, if it lists the model
    effective_from: str | None = None  # ISO date; None: from when the gateway loads it
    line: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    max_body_bytes: int = 16 * 1024 * 1024
    max_inflight: int = 1024
    session_request_cap: int = 500  # requests per minute per Codex session (0: no cap)
    admin_key: str | None = field(default=None, repr=False)  # guards the admin endpoints
    max_buffered_body_bytes: int = 256 * 1024 * 1024
    """Request body bytes being read, summed over all connections; beyond it, 503."""
    header_timeout_s: float = 10.0
    """The whole request head must arrive within this (one deadline, not per byte)."""
    body_timeout_s: float = 60.0
    """The whole request body must arrive within this, once the head is in."""
    write_timeout_s: float = 30.0
    """A response write blocked this long (the client stopped reading) drops the client."""
    reuse_port: bool = False
    """Other gateway processes may listen on the same port (``serve --workers`` sets it)."""
    shared_budgets: bool = False
    """Replicas share budgets through leases in SQL (``serve --workers`` turns it on)."""
    budget_lease_share: float = 0.01
    """A lease slice, as a fraction of a budget's limit (the overspend bound per replica)."""
    budget_lease_ttl_s: float = 15.0
    """A replica's lease lapses back to its pool this long after its last report."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionConfig:
    """How long the trail keeps bodies and events, in seconds (``None``: forever)."""

    bodies_s: float | None = 30 * 86400.0
    events_s: float | None = 365 * 86400.0


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayConfig:
    accounts: tuple[AccountConfig, ...]
    virtual_keys: tuple[VirtualKeyConfig, ...]
    budgets: tuple[BudgetConfig, ...] = ()
    pricing: tuple[PriceOverride, ...] = ()
    server: ServerConfig = ServerConfig()
    database_url: str = "sqlite:///switchyard.db"
    retention: RetentionConfig = RetentionConfig()
    source: str = "<memory>"

    def account(self, account_id: str) -> AccountConfig | None:
        for account in self.accounts:
            if account.id == account_id:
                return account
        return None


ADMIN_KEY_MIN_LENGTH = 24

__all__ = [
    "ADMIN_KEY_MIN_LENGTH",
    "AccountConfig",
    "BreakerPolicy",
    "BudgetConfig",
    "GatewayConfig",
    "PriceOverride",
    "ProviderConfig",
    "ProviderKey",
    "RetentionConfig",
    "RetryPolicy",
    "ServerConfig",
    "Timeouts",
    "VirtualKeyConfig",
]
