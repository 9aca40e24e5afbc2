"""The ``cache:`` section (``config.cache_policy`` says what it means)::

    cache:
      max_entries: 10000
      policies:
        - {level: account, id: codex-dev, mode: exact, ttl: 1h}
        - {level: team, id: platform, mode: semantic, threshold: 0.93}
        - {level: virtual_key, id: ci-bot, forbid: true}

A policy's ``id`` must exist elsewhere in the config (an account, or a team or virtual
key some virtual key has), so a typo fails at load time instead of never applying.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.cache_policy import (
    CACHE_LEVELS,
    CACHE_MODES,
    MIN_THRESHOLD,
    CacheConfig,
    CachePolicy,
    parse_duration,
    valid_threshold,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from config._nodes import Fields

CACHE_KEYS = frozenset({"max_entries", "max_answer_bytes", "policies"})
_POLICY_KEYS = frozenset(
    {"level", "id", "mode", "ttl", "threshold", "forbid", "semantic_with_tool_results"}
)
_LEVEL_NOUNS = {
    "account": "no account has id",
    "team": "no virtual key has team",
    "virtual_key": "no virtual key has id",
}


def read_cache(section: Fields | None, known_ids: Mapping[str, frozenset[str]]) -> CacheConfig:
    if section is None:
        return CacheConfig()
    base = CacheConfig()
    policies: list[CachePolicy] = []
    seen: dict[tuple[str, str], int] = {}
    if section.get("policies") is not None:
        for index, node in enumerate(section.items("policies")):
            where = f"{section.path('policies')}[{index}]"
            fields = section.reader.fields(node, where, _POLICY_KEYS)
            policy = _read_policy(fields, known_ids)
            identity = (policy.level, policy.id)
            if identity in seen:
                problem = (
                    f"{where}: a second policy for {policy.level} '{policy.id}' "
                    f"(the first is on line {seen[identity]})"
                )
                raise section.reader.error(node, problem)
            seen[identity] = policy.line
            policies.append(policy)
    return CacheConfig(
        policies=tuple(policies),
        max_entries=section.integer("max_entries", default=base.max_entries, minimum=1),
        max_answer_bytes=section.integer(
            "max_answer_bytes", default=base.max_answer_bytes, minimum=1
        ),
    )


def _read_policy(fields: Fields, known_ids: Mapping[str, frozenset[str]]) -> CachePolicy:
    reader = fields.reader
    level = fields.string("level")
    if level not in CACHE_LEVELS:
        problem = f"{fields.path('level')}: unknown level '{level}' (expected one of: "
        raise reader.error(fields.require("level"), problem + ", ".join(CACHE_LEVELS) + ")")
    policy_id = fields.string("id")
    if policy_id not in known_ids.get(level, frozenset()):
        raise reader.error(
            fields.require("id"), f"{fields.path('id')}: {_LEVEL_NOUNS[level]} '{policy_id}'"
        )
    mode = fields.optional_string("mode")
    if mode is not None and mode not in CACHE_MODES:
        problem = f"{fields.path('mode')}: unknown mode '{mode}' (expected one of: "
        raise reader.error(fields.require("mode"), problem + ", ".join(CACHE_MODES) + ")")
    ttl_s = None
    if fields.get("ttl") is not None:
        ttl_s = parse_duration(str(fields.require("ttl").value))
        if ttl_s is None:
            problem = f"{fields.path('ttl')}: not a duration such as '90s', '15m', '1h' or '7d'"
            problem += " (at most 30d)"
            raise reader.error(fields.require("ttl"), problem)
    threshold = fields.optional_number("threshold", positive=True)
    if threshold is not None and not valid_threshold(threshold):
        problem = f"{fields.path('threshold')}: a similarity between {MIN_THRESHOLD} and 1"
        raise reader.error(fields.require("threshold"), problem)
    tool_results = None
    if fields.get("semantic_with_tool_results") is not None:
        tool_results = fields.boolean("semantic_with_tool_results", default=False)
    return CachePolicy(
        level=level,
        id=policy_id,
        mode=mode,
        ttl_s=ttl_s,
        threshold=threshold,
        forbid=fields.boolean("forbid", default=False),
        semantic_with_tool_results=tool_results,
        line=fields.line,
    )


__all__ = ["CACHE_KEYS", "read_cache"]
