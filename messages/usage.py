"""Token usage in one provider-neutral shape, and the one range check every count passes.

``input_tokens`` counts the whole prompt, cached part included (OpenAI's arithmetic);
``cached_input_tokens`` is the part read from a prompt cache and ``cache_write_tokens``
the part written to one. ``output_tokens`` includes ``reasoning_tokens``.
Provider modules convert their own arithmetic into this one.

Every count a provider reports goes through ``token_count``: a plain integer in
``[0, MAX_TOKENS)`` is taken as it is; ``null`` or a missing field is absent; anything
else (negative, fractional, a string, a boolean, 1e20, a nested object) is an
*anomaly*: recorded (field and value, truncated) for the trail's ``attempt.anomaly``
event and replaced by a safe value. A finite fraction in range is rounded up (never
under-counted); everything else counts as absent, so an earlier good value of the same
field is kept and a missing one is 0 — never a negative count, never a number the trail's
JSON cannot hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_TOKENS = 1_000_000_000
"""A count at or above this is not believed (no request comes near it)."""

MAX_ANOMALIES = 8
"""At most this many anomalies are kept per attempt (a provider may repeat one per chunk)."""

_SHOWN = 64  # characters of a bad value kept for the trail


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageAnomaly:
    """A number from a provider that was not believed, as it came (truncated)."""

    field: str  # the provider's name for it, e.g. "usage.prompt_tokens"
    value: str  # the value's repr, at most 64 characters


def token_count(value: object, field: str, anomalies: list[UsageAnomaly]) -> int | None:
    """``value`` as a token count; None when absent or not believable (then recorded)."""
    if type(value) is int and 0 <= value < MAX_TOKENS:
        return value
    if value is None:
        return None
    note_anomaly(anomalies, field, value)
    if type(value) is float and math.isfinite(value) and 0 <= value < MAX_TOKENS:
        return math.ceil(value)
    return None


def note_anomaly(anomalies: list[UsageAnomaly], field: str, value: object) -> None:
    """Record one anomaly (up to ``MAX_ANOMALIES``; the same field and value once)."""
    if len(anomalies) >= MAX_ANOMALIES:
        return
    anomaly = UsageAnomaly(field=field[:_SHOWN], value=shown(value))
    if anomaly not in anomalies:
        anomalies.append(anomaly)


def shown(value: object) -> str:
    """A short text for a bad value: the repr of a scalar, the size of a container."""
    if isinstance(value, dict | list):
        return f"<{type(value).__name__} of {len(value)}>"
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


__all__ = [
    "MAX_ANOMALIES",
    "MAX_TOKENS",
    "Usage",
    "UsageAnomaly",
    "note_anomaly",
    "shown",
    "token_count",
]
