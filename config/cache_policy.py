"""The response cache's settings: ``cache:`` in the config file (plain data).

``policies`` say, per account, team or virtual key, whether requests use the cache
(``mode``: ``exact``, ``semantic`` or ``off``), for how long an answer is kept (``ttl``)
and how similar a semantic hit must be (``threshold``). ``forbid: true`` keeps the cache
off for that scope whatever a request's ``x-switchyard-cache`` header asks. A narrower
policy overrides a wider one field by field: virtual key over team over account.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

CACHE_MODES = ("exact", "semantic", "off")
CACHE_LEVELS = ("account", "team", "virtual_key")
DEFAULT_TTL_S = 3600.0
MAX_TTL_S = 30 * 86400.0
DEFAULT_THRESHOLD = 0.9
MIN_THRESHOLD = 0.5
_DURATION = re.compile(r"([0-9]{1,9})(s|m|h|d)?")
_UNIT_S = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


@dataclass(frozen=True, slots=True, kw_only=True)
class CachePolicy:
    """One ``cache.policies`` entry; ``None`` fields are inherited from a wider one."""

    level: str
    id: str
    mode: str | None = None
    ttl_s: float | None = None
    threshold: float | None = None
    forbid: bool = False
    semantic_with_tool_results: bool | None = None
    line: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheConfig:
    policies: tuple[CachePolicy, ...] = ()
    max_entries: int = 10_000  # the whole gateway's; the oldest-used entry goes first
    max_answer_bytes: int = 1024 * 1024  # a larger answer is not cached


def parse_duration(text: str) -> float | None:
    """``"90"``, ``"90s"``, ``"15m"``, ``"1h"``, ``"7d"`` in seconds; ``None`` if it is not
    a positive duration of at most ``MAX_TTL_S``."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        return None
    seconds = int(match.group(1)) * _UNIT_S[match.group(2)]
    return seconds if 0 < seconds <= MAX_TTL_S else None


def valid_threshold(value: float) -> bool:
    return math.isfinite(value) and MIN_THRESHOLD <= value <= 1.0


__all__ = [
    "CACHE_LEVELS",
    "CACHE_MODES",
    "DEFAULT_THRESHOLD",
    "DEFAULT_TTL_S",
    "MAX_TTL_S",
    "MIN_THRESHOLD",
    "CacheConfig",
    "CachePolicy",
    "parse_duration",
    "valid_threshold",
]
