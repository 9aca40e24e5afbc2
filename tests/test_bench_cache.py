"""``scripts/bench --cache``'s parts: its config is a valid gateway config with the cache
on for its two keys, and the no-cache measurement runs the ingress's real check."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from benchlib.cache import cache_config, no_cache_cost_us

from cache.policy import CachePolicies
from config import parse_config


def test_the_cache_bench_config_turns_the_cache_on_for_its_keys() -> None:
    config = parse_config(cache_config(9), source="bench.yaml")
    policies = CachePolicies(config.cache)
    modes = {
        key.id: policies.settings(account=key.account, team=key.team, key_id=key.id).mode
        for key in config.virtual_keys
    }
    assert modes == {"exact-key": "exact", "semantic-key": "semantic"}


def test_the_no_cache_measurement_runs() -> None:
    figures = no_cache_cost_us(calls=100)
    assert figures["plan_without_cache_us"] > 0
    assert figures["exact_key_60kb_body_us"] > 0
