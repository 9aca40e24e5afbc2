"""Policies folded per key, and a request's headers applied to them."""

from __future__ import annotations

import pytest

from cache.policy import (
    MODE_HEADER,
    OFF,
    THRESHOLD_HEADER,
    TTL_HEADER,
    CacheHeaderInvalid,
    CachePolicies,
    request_mode,
    semantic_enabled,
)
from config.cache_policy import CacheConfig, CachePolicy


def _policies(*policies: CachePolicy) -> CachePolicies:
    return CachePolicies(CacheConfig(policies=policies))


def test_no_policy_is_off() -> None:
    assert _policies().settings(account="a", team=None, key_id="k") is OFF
    assert request_mode(OFF) is None


def test_narrower_policies_override_field_by_field() -> None:
    policies = _policies(
        CachePolicy(level="account", id="a", mode="exact", ttl_s=60),
        CachePolicy(level="team", id="red", mode="semantic", threshold=0.95),
        CachePolicy(level="virtual_key", id="k", ttl_s=5),
    )
    settings = policies.settings(account="a", team="red", key_id="k")
    assert (settings.mode, settings.ttl_s, settings.threshold) == ("semantic", 5, 0.95)
    other = policies.settings(account="a", team="blue", key_id="j")
    assert (other.mode, other.ttl_s) == ("exact", 60)


def test_forbid_at_any_level_wins_over_everything() -> None:
    policies = _policies(
        CachePolicy(level="account", id="a", forbid=True),
        CachePolicy(level="virtual_key", id="k", mode="exact"),
    )
    settings = policies.settings(account="a", team=None, key_id="k")
    assert settings.forbid and settings.mode == "off"
    assert request_mode(settings, mode="exact") is None


def test_headers_choose_for_one_request() -> None:
    mode = request_mode(OFF, mode="semantic", ttl="15m", threshold="0.95")
    assert mode is not None
    assert (mode.mode, mode.ttl_s, mode.threshold) == ("semantic", 900, 0.95)
    settings = _policies(CachePolicy(level="account", id="a", mode="exact")).settings(
        account="a", team=None, key_id="k"
    )
    assert request_mode(settings, mode="off") is None


@pytest.mark.parametrize(
    ("header", "value"),
    [
        (MODE_HEADER, "on"),
        (MODE_HEADER, ""),
        (TTL_HEADER, "0"),
        (TTL_HEADER, "-1"),
        (TTL_HEADER, "31d"),
        (TTL_HEADER, "1.5h"),
        (TTL_HEADER, "9" * 40),
        (THRESHOLD_HEADER, "nan"),
        (THRESHOLD_HEADER, "1.01"),
        (THRESHOLD_HEADER, "0.49"),
        (THRESHOLD_HEADER, "1e400"),
    ],
)
def test_a_wrong_header_names_itself(header: str, value: str) -> None:
    names = {MODE_HEADER: "mode", TTL_HEADER: "ttl", THRESHOLD_HEADER: "threshold"}
    with pytest.raises(CacheHeaderInvalid) as caught:
        request_mode(OFF, **{names[header]: value})
    assert caught.value.header == header


def test_semantic_enabled() -> None:
    assert not semantic_enabled(CacheConfig())
    semantic = CachePolicy(level="account", id="a", mode="semantic")
    assert semantic_enabled(CacheConfig(policies=(semantic,)))
