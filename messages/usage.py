"""Token usage in one provider-neutral shape.

``input_tokens`` counts the whole prompt, cached part included (OpenAI's arithmetic);
``cached_input_tokens`` is the part read from a prompt cache and ``cache_write_tokens``
the part written to one. ``output_tokens`` includes ``reasoning_tokens``.
Provider modules convert their own arithmetic into this one.
"""

from __future__ import annotations

from dataclasses import dataclass


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


__all__ = ["Usage"]
