"""OpenAI's own Chat Completions reached through the IR (``type: openai``).

Used when a client's request must be translated to Chat Completions for an ``openai``
provider, rather than passed through. Plain OpenAI: ``max_completion_tokens`` (reasoning
models reject ``max_tokens``), ``stream_options.include_usage``, ``tool_choice:
"required"``. ``reasoning_effort`` goes only to the reasoning families (o-series,
GPT-5), which are the ones that accept it. Readable reasoning is never sent back: Chat has
no field for it, and OpenAI's opaque state only travels over the Responses API.
"""

from __future__ import annotations

from types import MappingProxyType

from providers.openai_chat.adapter import ChatQuirks, OpenAIChatAdapter

_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")

QUIRKS = ChatQuirks(
    name="openai",
    efforts=MappingProxyType({effort: effort for effort in _EFFORTS}),
    effort_models=("o1", "o3", "o4", "gpt-5"),
)
ADAPTER = OpenAIChatAdapter(QUIRKS)

__all__ = ["ADAPTER", "QUIRKS"]
