"""Cerebras (``type: cerebras``): plain Chat Completions at ``https://api.cerebras.ai/v1``.

OpenAI-shaped in both directions (no recording of it exists in our corpus; its docs list
``max_completion_tokens``, ``stream_options.include_usage``, tools and
``parallel_tool_calls``). ``reasoning_effort`` (``low``/``medium``/``high``) goes only to
the GPT-OSS models, the ones that take it.
"""

from __future__ import annotations

from types import MappingProxyType

from providers.openai_chat.adapter import ChatQuirks, OpenAIChatAdapter

QUIRKS = ChatQuirks(
    name="cerebras",
    efforts=MappingProxyType(
        {"minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "high"}
    ),
    effort_models=("gpt-oss",),
)
ADAPTER = OpenAIChatAdapter(QUIRKS)

__all__ = ["ADAPTER", "QUIRKS"]
