"""The routing policies as written in YAML: ``breaker`` and ``retry.key_bench_s`` under
``defaults:`` and per provider, with the loader's usual file:line errors."""

from __future__ import annotations

import pytest

from config import ConfigError, parse_config
from config.model import BreakerPolicy, RetryPolicy

BASE = """\
defaults:
  retry: {key_bench_s: 120}
  breaker: {failure_threshold: 3}
accounts:
  - id: "a"
    providers:
      - id: "p"
        type: "openai"
        api_key: "k"
        model: "m"
        breaker: {cooldown_s: 2.5}
"""


def test_breaker_and_key_bench_merge_defaults_with_provider_overrides() -> None:
    (provider,) = parse_config(BASE, source="r.yaml", environ={}).accounts[0].providers
    assert provider.breaker == BreakerPolicy(failure_threshold=3, cooldown_s=2.5)
    assert provider.retry == RetryPolicy(key_bench_s=120)


def test_built_in_defaults_apply_without_a_section() -> None:
    text = BASE.split("accounts:")[1].replace("        breaker: {cooldown_s: 2.5}\n", "")
    (provider,) = (
        parse_config("accounts:" + text, source="r.yaml", environ={}).accounts[0].providers
    )
    assert provider.breaker == BreakerPolicy()
    assert provider.retry.key_bench_s == 300


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ("failure_threshold: 3", "failure_treshold: 3", "r.yaml:3: defaults.breaker: unknown key"),
        ("failure_threshold: 3", "failure_threshold: 0", "r.yaml:3: defaults.breaker.failure"),
        ("cooldown_s: 2.5", "cooldown_s: soon", "r.yaml:11: accounts[0].providers[0].breaker"),
        ("key_bench_s: 120", "key_bench_s: -1", "r.yaml:2: defaults.retry.key_bench_s"),
    ],
)
def test_bad_policies_name_the_file_and_line(replace: str, by: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE.replace(replace, by), source="r.yaml", environ={})
    assert str(caught.value).startswith(message)
