"""The ``cache:`` section: policies, bounds, and every way it is refused."""

from __future__ import annotations

import pytest

from config import ConfigError, parse_config
from config.cache_policy import CacheConfig, CachePolicy

BASE = """\
accounts:
  - id: "a"
    providers:
      - id: "p"
        type: "openai"
        api_key: "sk-x"
        model: "gpt-5"
virtual_keys:
  - {id: "k", key: "sk-virtual-key-0000001", account: "a", team: "red"}
"""


def _cache(section: str) -> CacheConfig:
    return parse_config(BASE + section, source="test.yaml").cache


def test_no_section_is_no_policy() -> None:
    assert _cache("") == CacheConfig()


def test_policies_are_read() -> None:
    cache = _cache(
        "cache:\n  max_entries: 50\n  policies:\n"
        "    - {level: account, id: a, mode: exact, ttl: 2h}\n"
        "    - {level: team, id: red, mode: semantic, threshold: 0.95, "
        "semantic_with_tool_results: true}\n"
        "    - {level: virtual_key, id: k, forbid: true}\n"
    )
    assert cache.max_entries == 50
    assert [(p.level, p.id, p.mode, p.ttl_s, p.threshold, p.forbid) for p in cache.policies] == [
        ("account", "a", "exact", 7200, None, False),
        ("team", "red", "semantic", None, 0.95, False),
        ("virtual_key", "k", None, None, None, True),
    ]
    assert cache.policies[1] == CachePolicy(
        level="team",
        id="red",
        mode="semantic",
        threshold=0.95,
        semantic_with_tool_results=True,
        line=cache.policies[1].line,
    )


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        ("{level: org, id: a}", "unknown level 'org'"),
        ("{level: account, id: nope}", "no account has id 'nope'"),
        ("{level: team, id: blue}", "no virtual key has team 'blue'"),
        ("{level: account, id: a, mode: fuzzy}", "unknown mode 'fuzzy'"),
        ("{level: account, id: a, ttl: forever}", "not a duration"),
        ("{level: account, id: a, ttl: 0}", "not a duration"),
        ("{level: account, id: a, ttl: 90d}", "not a duration"),
        ("{level: account, id: a, threshold: 2}", "a similarity between 0.5 and 1"),
        ("{level: account, id: a, threshold: high}", "threshold"),
        ("{level: account, id: a, forbid: maybe}", "expected true or false"),
        ("{level: account, id: a, colour: red}", "colour"),
    ],
)
def test_a_wrong_policy_is_refused_with_its_line(policy: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _cache(f"cache:\n  policies:\n    - {policy}\n")
    assert problem in caught.value.problem
    assert caught.value.line == 12


def test_two_policies_for_one_scope_are_refused() -> None:
    with pytest.raises(ConfigError, match="a second policy for account 'a'"):
        _cache(
            "cache:\n  policies:\n    - {level: account, id: a, mode: exact}\n"
            "    - {level: account, id: a, mode: semantic}\n"
        )


def test_max_entries_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="max_entries"):
        _cache("cache:\n  max_entries: 0\n")
