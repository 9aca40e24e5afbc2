"""Whether and how one request uses the cache: the config's policies, then its headers.

Pure. ``CachePolicies`` folds ``cache.policies`` (account, then team, then virtual key,
each overriding the wider one field by field) into one ``Settings`` per key, looked up
in a dict. ``request_mode`` applies a request's headers to them:

- ``x-switchyard-cache: exact|semantic|off`` chooses the mode for this request (a
  ``forbid`` policy keeps it off whatever the header says);
- ``x-switchyard-cache-ttl``: how long this request's answer is kept, and the oldest
  entry it accepts (``90``, ``90s``, ``15m``, ``1h``, ``7d``; at most 30 days);
- ``x-switchyard-cache-threshold``: the similarity a semantic hit needs (0.5 to 1).

A header with a wrong value raises ``CacheHeaderInvalid`` (a 400 naming the header),
whether or not the cache ends up used: a typo never silently turns caching off.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from config.cache_policy import (
    DEFAULT_THRESHOLD,
    DEFAULT_TTL_S,
    MIN_THRESHOLD,
    CacheConfig,
    CachePolicy,
    parse_duration,
    valid_threshold,
)

MODE_HEADER = "x-switchyard-cache"
TTL_HEADER = "x-switchyard-cache-ttl"
THRESHOLD_HEADER = "x-switchyard-cache-threshold"
HEADERS = (MODE_HEADER, TTL_HEADER, THRESHOLD_HEADER)
_MODES = ("exact", "semantic", "off")
_MAX_HEADER_CHARS = 32


class CacheHeaderInvalid(Exception):
    def __init__(self, header: str, message: str) -> None:
        super().__init__(message)
        self.header = header
        self.message = message


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """A key's cache settings once its policies are folded together."""

    mode: str = "off"
    ttl_s: float = DEFAULT_TTL_S
    threshold: float = DEFAULT_THRESHOLD
    forbid: bool = False
    semantic_with_tool_results: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestMode:
    """What one request does: ``mode`` is ``exact`` or ``semantic``."""

    mode: str
    ttl_s: float
    threshold: float
    semantic_with_tool_results: bool


OFF = Settings()


class CachePolicies:
    def __init__(self, config: CacheConfig) -> None:
        self._by_level: dict[tuple[str, str], CachePolicy] = {
            (policy.level, policy.id): policy for policy in config.policies
        }
        self._folded: dict[tuple[str, str | None, str], Settings] = {}
        self.any = bool(config.policies)

    def settings(self, *, account: str, team: str | None, key_id: str) -> Settings:
        """The folded settings of a key (``OFF`` when no policy names it)."""
        if not self.any:
            return OFF
        identity = (account, team, key_id)
        folded = self._folded.get(identity)
        if folded is None:
            levels = [("account", account), ("team", team), ("virtual_key", key_id)]
            chain = [self._by_level.get((level, i)) for level, i in levels if i is not None]
            folded = self._folded[identity] = _fold(p for p in chain if p is not None)
        return folded


def _fold(policies: Iterable[CachePolicy]) -> Settings:
    mode, ttl, threshold, forbid, tools = "off", DEFAULT_TTL_S, DEFAULT_THRESHOLD, False, False
    for policy in policies:
        mode = policy.mode or mode
        ttl = policy.ttl_s or ttl
        threshold = policy.threshold or threshold
        forbid = forbid or policy.forbid
        if policy.semantic_with_tool_results is not None:
            tools = policy.semantic_with_tool_results
    if forbid:
        mode = "off"
    return Settings(
        mode=mode, ttl_s=ttl, threshold=threshold, forbid=forbid, semantic_with_tool_results=tools
    )


def request_mode(
    settings: Settings,
    *,
    mode: str | None = None,
    ttl: str | None = None,
    threshold: str | None = None,
) -> RequestMode | None:
    """This request's cache use (``None``: it does not use the cache)."""
    chosen = settings.mode if mode is None else _mode(mode)
    ttl_s = settings.ttl_s if ttl is None else _ttl(ttl)
    similarity = settings.threshold if threshold is None else _threshold(threshold)
    if settings.forbid or chosen == "off":
        return None
    return RequestMode(
        mode=chosen,
        ttl_s=ttl_s,
        threshold=similarity,
        semantic_with_tool_results=settings.semantic_with_tool_results,
    )


def _mode(value: str) -> str:
    mode = value.strip().lower()
    if mode not in _MODES:
        raise CacheHeaderInvalid(
            MODE_HEADER, f"{MODE_HEADER} must be one of exact, semantic or off"
        )
    return mode


def _ttl(value: str) -> float:
    seconds = parse_duration(value) if len(value) <= _MAX_HEADER_CHARS else None
    if seconds is None:
        raise CacheHeaderInvalid(
            TTL_HEADER,
            f"{TTL_HEADER} must be a duration such as 90, 90s, 15m, 1h or 7d (at most 30d)",
        )
    return seconds


def _threshold(value: str) -> float:
    try:
        number = float(value) if len(value) <= _MAX_HEADER_CHARS else math.nan
    except ValueError:
        number = math.nan
    if not valid_threshold(number):
        raise CacheHeaderInvalid(
            THRESHOLD_HEADER, f"{THRESHOLD_HEADER} must be a similarity from {MIN_THRESHOLD} to 1"
        )
    return number


__all__ = [
    "HEADERS",
    "MODE_HEADER",
    "OFF",
    "THRESHOLD_HEADER",
    "TTL_HEADER",
    "CacheHeaderInvalid",
    "CachePolicies",
    "RequestMode",
    "Settings",
    "request_mode",
    "semantic_enabled",
]


def semantic_enabled(config: CacheConfig) -> bool:
    """Whether a policy turns semantic caching on (then the model loads at start)."""
    return any(policy.mode == "semantic" and not policy.forbid for policy in config.policies)
