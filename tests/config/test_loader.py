"""The config loader: the seed's example, every rejection with its line, no leaked secrets."""

from __future__ import annotations

import hashlib
import pickle
import textwrap
from typing import TYPE_CHECKING

import pytest

import config
from config import (
    PROVIDER_TYPES,
    ConfigError,
    GatewayConfig,
    RetryPolicy,
    ServerConfig,
    Timeouts,
    load_config,
    parse_config,
)

if TYPE_CHECKING:
    from pathlib import Path

ANTHROPIC_SECRET = "sk-ant-SECRET-0001"
VK_SECRET = "sy-SECRET-vk-0002"
ENV = {
    "ANTHROPIC_API_KEY": ANTHROPIC_SECRET,
    "SWITCHYARD_KEY_CODEX_DEV": VK_SECRET,
    "OPENAI_KEY": "sk-openai-SECRET-0003",
    "VK": "sy-SECRET-vk-0004",
}
SECRETS = (ANTHROPIC_SECRET, VK_SECRET, ENV["OPENAI_KEY"], ENV["VK"])

SEED = """\
server:            # optional
  host: "127.0.0.1"
  port: 8080
  max_body_bytes: 16777216
  max_inflight: 1024
database:          # optional
  url: "sqlite:///switchyard.db"
defaults:          # optional, applied to every provider unless it overrides
  timeouts: {connect_s: 5, first_byte_s: 120, idle_s: 120, total_s: 600}
  retry: {max_retries: 1, backoff_base_s: 0.25, backoff_max_s: 8, max_retry_after_s: 30}
accounts:
  - id: "codex-dev"
    providers:
      - id: "claude-primary"
        type: "anthropic"
        api_key: "${ANTHROPIC_API_KEY}"      # or api_keys: ["${K1}", "${K2}"] (rotated)
        model: "anthropic/claude-sonnet-4-5-20250929"   # a leading "<type>/" is stripped
        weight: 60                                      # > 0; optional, default 1
        timeouts: {first_byte_s: 30}                    # optional partial override of defaults
        retry: {max_retries: 2}
virtual_keys:
  - id: "codex-cli-dev"
    key: "${SWITCHYARD_KEY_CODEX_DEV}"
    account: "codex-dev"          # must name an account
    team: "platform"              # optional
    customer: "acme"              # optional
    allowed_models: ["gpt-5.5"]   # optional
budgets:                          # optional
  - level: "virtual_key"
    id: "codex-cli-dev"
    limit: 150                    # USD, optional if a rate limit is given
    period: "monthly"             # daily|weekly|monthly|total or a duration
    requests_per_minute: 60       # optional
    tokens_per_minute: 100000     # optional
"""

MINIMAL = """\
accounts:
  - id: "a"
    providers:
      - id: "p"
        type: "openai"
        api_key: "${OPENAI_KEY}"
        model: "gpt-5"
virtual_keys:
  - id: "vk"
    key: "${VK}"
    account: "a"
"""


def parse(text: str, environ: dict[str, str] | None = None) -> GatewayConfig:
    return parse_config(textwrap.dedent(text), source="test.yaml", environ=environ or ENV)


def fingerprint(provider_id: str, index: int, secret: str) -> str:
    return f"{provider_id}#{index}:" + hashlib.sha256(secret.encode()).hexdigest()[:8]


# --- the seed's example ------------------------------------------------------------


def test_seed_example_loads_as_written(tmp_path: Path) -> None:
    path = tmp_path / "switchyard.yaml"
    path.write_text(SEED, encoding="utf-8")

    loaded = load_config(path, environ=ENV)

    assert loaded.source == str(path)
    assert loaded.server == ServerConfig(
        host="127.0.0.1", port=8080, max_body_bytes=16777216, max_inflight=1024
    )
    assert loaded.database_url == "sqlite:///switchyard.db"
    (account,) = loaded.accounts
    assert (account.id, account.line) == ("codex-dev", 12)
    (provider,) = account.providers
    assert provider.id == "claude-primary"
    assert provider.type == "anthropic"
    assert provider.model == "claude-sonnet-4-5-20250929"
    assert provider.weight == 60
    assert provider.base_url == "https://api.anthropic.com/v1"
    assert [key.secret for key in provider.keys] == [ANTHROPIC_SECRET]
    assert provider.keys[0].key_id == fingerprint("claude-primary", 0, ANTHROPIC_SECRET)
    assert provider.timeouts == Timeouts(connect_s=5, first_byte_s=30, idle_s=120, total_s=600)
    assert provider.retry == RetryPolicy(
        max_retries=2, backoff_base_s=0.25, backoff_max_s=8, max_retry_after_s=30
    )
    assert provider.line == 14
    (virtual_key,) = loaded.virtual_keys
    assert virtual_key.id == "codex-cli-dev"
    assert virtual_key.secret == VK_SECRET
    assert (virtual_key.account, virtual_key.team, virtual_key.customer) == (
        "codex-dev",
        "platform",
        "acme",
    )
    assert virtual_key.allowed_models == ("gpt-5.5",)
    (budget,) = loaded.budgets
    assert (budget.level, budget.id, budget.limit_usd, budget.period) == (
        "virtual_key",
        "codex-cli-dev",
        150.0,
        "monthly",
    )
    assert (budget.requests_per_minute, budget.tokens_per_minute) == (60, 100000)
    assert loaded.account("codex-dev") is account


def test_load_config_reads_os_environ_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "c.yaml"
    path.write_text(SEED, encoding="utf-8")

    assert load_config(str(path)).virtual_keys[0].secret == VK_SECRET


def test_secrets_are_not_in_reprs() -> None:
    loaded = parse(SEED)

    assert not any(secret in repr(loaded) for secret in SECRETS)


# --- values, defaults and overrides ------------------------------------------------


def test_minimal_config_takes_model_defaults() -> None:
    loaded = parse(MINIMAL)

    provider = loaded.accounts[0].providers[0]
    assert provider.weight == 1.0
    assert provider.base_url == PROVIDER_TYPES["openai"]
    assert provider.timeouts == Timeouts()
    assert provider.retry == RetryPolicy()
    assert loaded.server == ServerConfig()
    assert loaded.database_url == "sqlite:///switchyard.db"
    assert loaded.budgets == ()


def test_defaults_merge_field_by_field_under_provider_overrides() -> None:
    loaded = parse(
        """\
        defaults:
          timeouts: {connect_s: 2, total_s: 300}
          retry: {max_retries: 3, backoff_max_s: 4}
        accounts:
          - id: "a"
            providers:
              - {id: "plain", type: "openai", api_key: "k1", model: "gpt-5"}
              - id: "tuned"
                type: "openai"
                api_key: "k2"
                model: "gpt-5"
                timeouts: {first_byte_s: 30, total_s: 90}
                retry: {max_retries: 0}
        """
    )

    plain, tuned = loaded.accounts[0].providers
    assert plain.timeouts == Timeouts(connect_s=2, first_byte_s=120, idle_s=120, total_s=300)
    assert plain.retry == RetryPolicy(max_retries=3, backoff_max_s=4)
    assert tuned.timeouts == Timeouts(connect_s=2, first_byte_s=30, idle_s=120, total_s=90)
    assert tuned.retry == RetryPolicy(max_retries=0, backoff_max_s=4)


def test_api_keys_form_a_rotation_list_in_order() -> None:
    loaded = parse(
        """\
        accounts:
          - id: "a"
            providers:
              - id: "pool"
                type: "groq"
                api_keys: ["${K1}", "${K2}", "literal-3"]
                model: "openai/gpt-oss-120b"
        """,
        environ={"K1": "gsk-one", "K2": "gsk-two"},
    )

    provider = loaded.accounts[0].providers[0]
    assert [key.secret for key in provider.keys] == ["gsk-one", "gsk-two", "literal-3"]
    assert [key.key_id for key in provider.keys] == [
        fingerprint("pool", 0, "gsk-one"),
        fingerprint("pool", 1, "gsk-two"),
        fingerprint("pool", 2, "literal-3"),
    ]
    assert provider.model == "openai/gpt-oss-120b"  # not groq's own prefix: kept
    assert provider.base_url == "https://api.groq.com/openai/v1"


@pytest.mark.parametrize(
    ("reference", "environ", "expected"),
    [
        ("${X:-fallback}", {}, "fallback"),
        ("${X:-fallback}", {"X": ""}, "fallback"),
        ("${X:-fallback}", {"X": "set"}, "set"),
        ("${X:-}", {}, "same"),  # an empty default is allowed (then 'same' is appended)
        ("$${X}", {}, "${X}"),
        ("pre-${X}-post", {"X": "mid"}, "pre-mid-post"),
    ],
)
def test_environment_references(reference: str, environ: dict[str, str], expected: str) -> None:
    suffix = "same" if reference == "${X:-}" else ""
    text = MINIMAL.replace('model: "gpt-5"', f'model: "{reference}{suffix}"')

    loaded = parse(text, environ={**ENV, **environ})

    assert loaded.accounts[0].providers[0].model == expected


def test_numbers_may_come_from_the_environment() -> None:
    text = MINIMAL + 'server:\n  port: "${PORT:-9000}"\n  max_inflight: "${INFLIGHT}"\n'

    server = parse(text, environ={**ENV, "INFLIGHT": "64"}).server

    assert (server.port, server.max_inflight) == (9000, 64)


def test_base_url_override_and_openai_compatible() -> None:
    text = MINIMAL.replace(
        'type: "openai"',
        'type: "openai-compatible"\n        base_url: "http://127.0.0.1:11434/v1/"',
    ).replace('model: "gpt-5"', 'model: "openai-compatible/llama3"')

    provider = parse(text).accounts[0].providers[0]

    assert provider.base_url == "http://127.0.0.1:11434/v1"
    assert provider.model == "llama3"


def test_same_provider_id_in_two_accounts_is_allowed() -> None:
    text = MINIMAL.replace(
        "virtual_keys:",
        '  - id: "b"\n    providers:\n'
        '      - {id: "p", type: "mistral", api_key: "m", model: "mistral-large-latest"}\n'
        "virtual_keys:",
    )

    loaded = parse(text)

    assert [a.providers[0].id for a in loaded.accounts] == ["p", "p"]
    assert loaded.accounts[1].providers[0].base_url == "https://api.mistral.ai/v1"


def test_null_sections_count_as_absent() -> None:
    loaded = parse(MINIMAL + "server:\n  # all commented out\ndefaults:\nbudgets:\n")

    assert loaded.server == ServerConfig()
    assert loaded.budgets == ()


def test_rate_only_budget_and_duration_periods() -> None:
    text = MINIMAL.replace('account: "a"', 'account: "a"\n    team: "t"') + textwrap.dedent(
        """\
        budgets:
          - {level: "team", id: "t", requests_per_minute: 10}
          - {level: "provider", id: "p", limit: 5, period: "12h"}
          - {level: "provider", id: "p", limit: 50, period: "7d"}
        """
    )

    budgets = parse(text).budgets

    assert [(b.level, b.limit_usd, b.period) for b in budgets] == [
        ("team", None, "total"),
        ("provider", 5.0, "12h"),
        ("provider", 50.0, "7d"),
    ]


def test_provider_types_table_is_closed_and_exact() -> None:
    assert dict(PROVIDER_TYPES) == {
        "openai": "https://api.openai.com/v1",
        "anthropic": "https://api.anthropic.com/v1",
        "gemini": "https://generativelanguage.googleapis.com/v1beta",
        "cohere": "https://api.cohere.com/v2",
        "mistral": "https://api.mistral.ai/v1",
        "groq": "https://api.groq.com/openai/v1",
        "cerebras": "https://api.cerebras.ai/v1",
        "perplexity": "https://api.perplexity.ai",
        "openai-compatible": None,
    }
    with pytest.raises(TypeError):
        PROVIDER_TYPES["new"] = "x"  # type: ignore[index]


def test_public_surface() -> None:
    assert sorted(config.__all__) == sorted(
        [
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
    )


def test_config_error_shape_and_pickling() -> None:
    error = ConfigError("a.yaml", 7, "something is wrong")

    assert (error.source, error.line, error.problem) == ("a.yaml", 7, "something is wrong")
    assert str(error) == "a.yaml:7: something is wrong"
    assert str(pickle.loads(pickle.dumps(error))) == str(error)
