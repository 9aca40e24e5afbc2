"""Load the gateway's YAML config into frozen ``GatewayConfig`` values.

The file is composed into YAML nodes (never plain data) so that every problem —
unknown key, wrong type, missing or duplicate id, unset ``${VAR}`` — is reported as
a ``ConfigError`` with the line of the node at fault. Secrets are never echoed.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import yaml

from config._budgets import read_budgets
from config._nodes import ConfigError, Fields, NodeReader, line_of
from config._policies import DEFAULTS_KEYS, Policies, read_defaults, read_policies
from config._pricing import read_pricing
from config._retention import RETENTION_KEYS, read_retention
from config._server import SERVER_KEYS, read_secret, read_server
from config.model import (
    AccountConfig,
    GatewayConfig,
    ProviderConfig,
    ProviderKey,
    VirtualKeyConfig,
)
from config.provider_types import PROVIDER_TYPES

if TYPE_CHECKING:
    from collections.abc import Mapping

_TOP_KEYS = frozenset(
    {
        "server",
        "database",
        "defaults",
        "accounts",
        "virtual_keys",
        "budgets",
        "pricing",
        "retention",
    }
)
_ACCOUNT_KEYS = frozenset({"id", "providers"})
_PROVIDER_KEYS = frozenset(
    {"id", "type", "api_key", "api_keys", "model", "weight", "base_url"} | DEFAULTS_KEYS
)
MIN_VIRTUAL_KEY_LENGTH = 16
"""A virtual key is a bearer secret: shorter ones can be guessed."""
_DEFAULT_DATABASE_URL = GatewayConfig(accounts=(), virtual_keys=()).database_url
_VIRTUAL_KEY_KEYS = frozenset(
    {"id", "key", "account", "team", "customer", "allowed_models", "session_requests_per_minute"}
)


def load_config(path: str | Path, *, environ: Mapping[str, str] | None = None) -> GatewayConfig:
    """Read and check the config file at ``path``; ``${VAR}`` comes from ``environ``."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(source, 0, f"cannot read the config file: {exc.strerror}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(source, line, "the file is not UTF-8 text") from None
    return parse_config(text, source=source, environ=environ)


def parse_config(
    text: str, *, source: str, environ: Mapping[str, str] | None = None
) -> GatewayConfig:
    """Check config ``text``; ``source`` names it in errors (default env: ``os.environ``)."""
    reader = NodeReader(source=source, environ=os.environ if environ is None else environ)
    root = _compose(text, source)
    if root is None:
        raise ConfigError(source, 1, "the config is empty; it needs at least 'accounts'")
    top = reader.fields(root, "", _TOP_KEYS)
    defaults = read_defaults(top.mapping("defaults", DEFAULTS_KEYS))
    accounts = _read_accounts(top, defaults)
    virtual_keys = _read_virtual_keys(top, accounts)
    known_ids = {
        "customer": frozenset(key.customer for key in virtual_keys if key.customer),
        "team": frozenset(key.team for key in virtual_keys if key.team),
        "virtual_key": frozenset(key.id for key in virtual_keys),
        "provider": frozenset(p.id for account in accounts for p in account.providers),
    }
    return GatewayConfig(
        accounts=accounts,
        virtual_keys=virtual_keys,
        budgets=read_budgets(reader, top.get("budgets"), known_ids),
        pricing=read_pricing(reader, top.get("pricing")),
        server=read_server(top.mapping("server", SERVER_KEYS)),
        database_url=_read_database_url(top.mapping("database", frozenset({"url"}))),
        retention=read_retention(top.mapping("retention", RETENTION_KEYS)),
        source=source,
    )


def _compose(text: str, source: str) -> yaml.Node | None:
    """Parse YAML to nodes. Errors keep YAML's message but not its snippet of the
    offending line (``from None``), since that line may hold a secret."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(source, *_yaml_problem(exc)) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise ConfigError(source, line, f"invalid YAML: {exc.reason}") from None
    except yaml.YAMLError:
        raise ConfigError(source, 0, "invalid YAML") from None


def _yaml_problem(exc: yaml.MarkedYAMLError) -> tuple[int, str]:
    """The line and message of a YAML error: its problem, and the context's own line."""
    problem_line = 0 if exc.problem_mark is None else exc.problem_mark.line + 1
    context_line = 0 if exc.context_mark is None else exc.context_mark.line + 1
    context = exc.context or ""
    if context and context_line and context_line != problem_line:
        context = f"{context} (line {context_line})"
    text = "; ".join(part for part in (context, exc.problem) if part)
    return problem_line or context_line, f"invalid YAML: {text}"


def _read_database_url(section: Fields | None) -> str:
    url = None if section is None else section.optional_string("url")
    return url or _DEFAULT_DATABASE_URL


def _claim_id(section: Fields, first_lines: dict[str, int], noun: str) -> str:
    """Read ``id`` and fail if an earlier item of the same list used it."""
    value = section.string("id")
    node = section.require("id")
    if value in first_lines:
        problem = (
            f"{section.path('id')}: duplicate {noun} id '{value}' "
            f"(first used on line {first_lines[value]})"
        )
        raise section.reader.error(node, problem)
    first_lines[value] = line_of(node)
    return value


def _read_accounts(top: Fields, defaults: Policies) -> tuple[AccountConfig, ...]:
    items = top.items("accounts")
    if not items:
        problem = "accounts: the list is empty; at least one account is needed"
        raise top.reader.error(top.require("accounts"), problem)
    accounts: list[AccountConfig] = []
    first_lines: dict[str, int] = {}
    for index, item in enumerate(items):
        section = top.reader.fields(item, f"accounts[{index}]", _ACCOUNT_KEYS)
        account_id = _claim_id(section, first_lines, "account")
        providers = section.items("providers")
        if not providers:
            problem = f"{section.path('providers')}: account '{account_id}' has no providers"
            raise top.reader.error(section.require("providers"), problem)
        where = section.path("providers")
        provider_lines: dict[str, int] = {}
        read = tuple(
            _read_provider(top.reader, node, f"{where}[{n}]", defaults, provider_lines)
            for n, node in enumerate(providers)
        )
        accounts.append(AccountConfig(id=account_id, providers=read, line=section.line))
    return tuple(accounts)


def _read_provider(
    reader: NodeReader,
    node: yaml.Node,
    where: str,
    defaults: Policies,
    first_lines: dict[str, int],
) -> ProviderConfig:
    section = reader.fields(node, where, _PROVIDER_KEYS)
    provider_id = _claim_id(section, first_lines, "provider")
    provider_type = section.string("type")
    if provider_type not in PROVIDER_TYPES:
        problem = (
            f"{section.path('type')}: unknown provider type '{provider_type}' "
            f"(known: {', '.join(PROVIDER_TYPES)})"
        )
        raise reader.error(section.require("type"), problem)
    policies = read_policies(section, defaults)
    return ProviderConfig(
        id=provider_id,
        type=provider_type,
        model=_read_model(section, provider_type),
        weight=section.number("weight", default=1.0, positive=True),
        base_url=_read_base_url(section, provider_type),
        keys=_read_provider_keys(section, provider_id),
        timeouts=policies.timeouts,
        retry=policies.retry,
        breaker=policies.breaker,
        line=section.line,
    )


def _read_model(section: Fields, provider_type: str) -> str:
    """The upstream model name, without a leading ``"<type>/"``."""
    model = section.string("model").removeprefix(f"{provider_type}/")
    if not model:
        problem = f"{section.path('model')}: names no model after '{provider_type}/'"
        raise section.reader.error(section.require("model"), problem)
    return model


def _read_base_url(section: Fields, provider_type: str) -> str:
    node = section.get("base_url")
    if node is None:
        default = PROVIDER_TYPES[provider_type]
        if default is None:
            problem = f"{section.where}: provider type '{provider_type}' needs a 'base_url'"
            raise section.reader.error(section.node, problem)
        return default
    url = section.reader.string(node, section.path("base_url"))
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
        usable = usable and not (parts.query or parts.fragment) and parts.port != 0
    except ValueError:
        usable = False
    if not usable:
        problem = (
            f"{section.path('base_url')}: must be an http:// or https:// URL with a host "
            "and no query or fragment"
        )
        raise section.reader.error(node, problem)
    return url.rstrip("/")


def _read_provider_keys(section: Fields, provider_id: str) -> tuple[ProviderKey, ...]:
    """``api_key`` or ``api_keys`` (exactly one), each with a non-secret ``key_id``."""
    if section.has("api_key") == section.has("api_keys"):
        problem = f"{section.where}: give exactly one of 'api_key' and 'api_keys'"
        raise section.reader.error(section.node, problem)
    if section.has("api_key"):
        secrets = [read_secret(section.reader, section.require("api_key"), section.path("api_key"))]
    else:
        where = section.path("api_keys")
        nodes = section.items("api_keys")
        if not nodes:
            raise section.reader.error(section.require("api_keys"), f"{where}: the list is empty")
        secrets = []
        for index, node in enumerate(nodes):
            secret = read_secret(section.reader, node, f"{where}[{index}]")
            if secret in secrets:
                problem = f"{where}[{index}]: repeats {where}[{secrets.index(secret)}]"
                raise section.reader.error(node, problem)
            secrets.append(secret)
    return tuple(
        ProviderKey(key_id=_key_fingerprint(provider_id, index, secret), secret=secret)
        for index, secret in enumerate(secrets)
    )


def _key_fingerprint(provider_id: str, index: int, secret: str) -> str:
    """The non-secret fingerprint of a key: ``"{provider_id}#{index}:"`` + 8 hex of sha256."""
    digest = hashlib.sha256(secret.encode("utf-8")).hexdigest()
    return f"{provider_id}#{index}:{digest[:8]}"


def _read_virtual_keys(
    top: Fields, accounts: tuple[AccountConfig, ...]
) -> tuple[VirtualKeyConfig, ...]:
    node = top.get("virtual_keys")
    if node is None:
        return ()
    account_ids = frozenset(account.id for account in accounts)
    first_lines: dict[str, int] = {}
    owners: dict[str, tuple[str, int]] = {}
    keys: list[VirtualKeyConfig] = []
    for index, item in enumerate(top.reader.items(node, "virtual_keys")):
        section = top.reader.fields(item, f"virtual_keys[{index}]", _VIRTUAL_KEY_KEYS)
        key_id = _claim_id(section, first_lines, "virtual key")
        secret_node = section.require("key")
        secret = read_secret(top.reader, secret_node, section.path("key"))
        if len(secret) < MIN_VIRTUAL_KEY_LENGTH:
            problem = (
                f"{section.path('key')}: virtual key '{key_id}' is {len(secret)} characters "
                f"long; use at least {MIN_VIRTUAL_KEY_LENGTH} random characters"
            )
            raise top.reader.error(secret_node, problem)
        if secret in owners:
            other_id, other_line = owners[secret]
            problem = (
                f"{section.path('key')}: virtual key '{key_id}' has the same secret as "
                f"virtual key '{other_id}' (line {other_line}); each needs its own"
            )
            raise top.reader.error(secret_node, problem)
        owners[secret] = (key_id, line_of(secret_node))
        keys.append(_virtual_key(section, key_id, secret, account_ids))
    return tuple(keys)


def _virtual_key(
    section: Fields, key_id: str, secret: str, account_ids: frozenset[str]
) -> VirtualKeyConfig:
    account = section.string("account")
    if account not in account_ids:
        problem = f"{section.path('account')}: no account has id '{account}'"
        raise section.reader.error(section.require("account"), problem)
    return VirtualKeyConfig(
        id=key_id,
        secret=secret,
        account=account,
        team=section.optional_string("team"),
        customer=section.optional_string("customer"),
        allowed_models=_read_allowed_models(section),
        session_requests_per_minute=section.optional_integer(
            "session_requests_per_minute", minimum=0
        ),
        line=section.line,
    )


def _read_allowed_models(section: Fields) -> tuple[str, ...]:
    node = section.get("allowed_models")
    if node is None:
        return ()
    where = section.path("allowed_models")
    items = section.reader.items(node, where)
    if not items:
        problem = f"{where}: the list is empty; leave the key out to allow every model"
        raise section.reader.error(node, problem)
    return tuple(section.reader.string(item, f"{where}[{n}]") for n, item in enumerate(items))


__all__ = ["MIN_VIRTUAL_KEY_LENGTH", "ConfigError", "load_config", "parse_config"]
