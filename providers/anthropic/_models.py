"""What the Anthropic encoder needs to know per model: output ceiling and thinking style.

From Anthropic's models overview and thinking docs: Claude 3 / 3.5 do not think; 3.7 and
the 4.x models up to 4.5 take ``thinking: {type: "enabled", budget_tokens}``; Opus 4.6 /
Sonnet 4.6 deprecate budgets for ``{type: "adaptive"}`` + ``output_config.effort``, and
Opus 4.7 and later accept only adaptive thinking (a budget is a 400). Names are matched by
their longest known prefix, so dated snapshots (``claude-opus-4-1-20250805``) resolve too.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

FALLBACK_MAX_OUTPUT = 8192


class ThinkingStyle(StrEnum):
    NONE = "none"  # the model cannot think
    BUDGET = "budget"  # thinking: {type: enabled, budget_tokens}
    ADAPTIVE = "adaptive"  # thinking: {type: adaptive} + output_config: {effort}


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelTraits:
    max_output: int
    thinking: ThinkingStyle
    known: bool = True


_TABLE: dict[str, tuple[int, ThinkingStyle]] = {
    "claude-3-haiku": (4096, ThinkingStyle.NONE),
    "claude-3-opus": (4096, ThinkingStyle.NONE),
    "claude-3-5-haiku": (8192, ThinkingStyle.NONE),
    "claude-3-5-sonnet": (8192, ThinkingStyle.NONE),
    "claude-3-7-sonnet": (64000, ThinkingStyle.BUDGET),
    "claude-opus-4": (32000, ThinkingStyle.BUDGET),
    "claude-opus-4-1": (32000, ThinkingStyle.BUDGET),
    "claude-opus-4-5": (64000, ThinkingStyle.BUDGET),
    "claude-opus-4-6": (128000, ThinkingStyle.ADAPTIVE),
    "claude-opus-4-7": (128000, ThinkingStyle.ADAPTIVE),
    "claude-opus-4-8": (128000, ThinkingStyle.ADAPTIVE),
    "claude-sonnet-4": (64000, ThinkingStyle.BUDGET),
    "claude-sonnet-4-5": (64000, ThinkingStyle.BUDGET),
    "claude-sonnet-4-6": (128000, ThinkingStyle.ADAPTIVE),
    "claude-haiku-4-5": (64000, ThinkingStyle.BUDGET),
    "claude-opus-5": (128000, ThinkingStyle.ADAPTIVE),
    "claude-sonnet-5": (128000, ThinkingStyle.ADAPTIVE),
    "claude-fable-5": (128000, ThinkingStyle.ADAPTIVE),
}
_PREFIXES = sorted(_TABLE, key=len, reverse=True)


def model_traits(model: str) -> ModelTraits:
    """The traits of ``model``; an unknown name gets 8192 output tokens and budget thinking."""
    for prefix in _PREFIXES:
        if model == prefix or model.startswith(prefix + "-"):
            max_output, thinking = _TABLE[prefix]
            return ModelTraits(max_output=max_output, thinking=thinking)
    return ModelTraits(max_output=FALLBACK_MAX_OUTPUT, thinking=ThinkingStyle.BUDGET, known=False)


__all__ = ["FALLBACK_MAX_OUTPUT", "ModelTraits", "ThinkingStyle", "model_traits"]
