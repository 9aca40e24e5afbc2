"""``prompt_cache: auto|off`` per provider: the default, both words, and every wrong type."""

from __future__ import annotations

import pytest

from config import ConfigError, parse_config


def _config(line: str | None) -> str:
    extra = "" if line is None else f"        {line}\n"
    return (
        'accounts:\n  - id: "a"\n    providers:\n'
        '      - id: "p"\n        type: "anthropic"\n        api_key: "k"\n'
        '        model: "claude-sonnet-4-5"\n'
        f"{extra}"
        'virtual_keys:\n  - id: "vk"\n    key: "sy-0123456789abcdef"\n    account: "a"\n'
    )


@pytest.mark.parametrize(
    ("line", "mode"),
    [
        (None, "auto"),
        ("prompt_cache: auto", "auto"),
        ('prompt_cache: "auto"', "auto"),
        ("prompt_cache: off", "off"),  # YAML 1.1 reads a bare off as false: still "off"
        ('prompt_cache: "off"', "off"),
        ("prompt_cache: OFF", "off"),
        ("prompt_cache:", "auto"),  # no value: the default
    ],
)
def test_prompt_cache_modes(line: str | None, mode: str) -> None:
    config = parse_config(_config(line), source="gw.yaml", environ={})
    assert config.accounts[0].providers[0].prompt_cache == mode


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("prompt_cache: true", "'true'"),
        ("prompt_cache: false", "'false'"),
        ("prompt_cache: on", "'on'"),
        ("prompt_cache: 1", "'1'"),
        ('prompt_cache: "sometimes"', "'sometimes'"),
        ('prompt_cache: "' + "x" * 5000 + '"', "'" + "x" * 40 + "'"),
        ("prompt_cache: [auto]", "a list"),
        ("prompt_cache: {mode: auto}", "a mapping"),
    ],
)
def test_prompt_cache_wrong_values_name_the_line(line: str, shown: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(_config(line), source="gw.yaml", environ={})
    assert caught.value.line == 8
    assert caught.value.problem == (
        f"accounts[0].providers[0].prompt_cache: expected auto or off, got {shown}"
    )
