"""The ``retention:`` section: how long the trail keeps bodies and events.

``retention: {bodies: 30d, events: 365d}`` (the defaults). Each is a duration — a
whole number with ``h`` or ``d`` (``36h``, ``30d``) — or ``forever``. Bodies (the bulk of
the trail) cannot outlive their events; ``requests`` and ``attempts`` rows, and so the
cost history, are kept whatever these say.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from config.model import RetentionConfig

if TYPE_CHECKING:
    from config._nodes import Fields

RETENTION_KEYS = frozenset({"bodies", "events"})
_DURATION = re.compile(r"([1-9][0-9]{0,5})([hd])")
_UNIT_S = {"h": 3600.0, "d": 86400.0}
FOREVER = "forever"


def read_retention(section: Fields | None) -> RetentionConfig:
    base = RetentionConfig()
    if section is None:
        return base
    config = RetentionConfig(
        bodies_s=_window(section, "bodies", base.bodies_s),
        events_s=_window(section, "events", base.events_s),
    )
    bodies, events = config.bodies_s, config.events_s
    if events is not None and (bodies is None or bodies > events):
        problem = f"{section.where}: bodies cannot be kept longer than their events"
        raise section.reader.error(section.get("bodies") or section.node, problem)
    return config


def _window(section: Fields, key: str, default: float | None) -> float | None:
    if section.get(key) is None:
        return default
    text = section.string(key).strip()
    if text == FOREVER:
        return None
    match = _DURATION.fullmatch(text)
    if match is None:
        problem = (
            f"{section.path(key)}: '{text}' is not a retention window (a whole number of "
            f"hours or days such as '36h' or '30d', or '{FOREVER}')"
        )
        raise section.reader.error(section.require(key), problem)
    return int(match.group(1)) * _UNIT_S[match.group(2)]


__all__ = ["FOREVER", "RETENTION_KEYS", "read_retention"]
