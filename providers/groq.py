"""Groq (``type: groq``): Chat Completions at ``https://api.groq.com/openai/v1``.

Plain OpenAI-shaped requests (``max_completion_tokens``, ``stream_options``). Its
replies differ in ways the shared decoder reads without being told: streamed usage sits
in ``x_groq.usage`` on the last chunk, tool calls come whole, and reasoning models put
their reasoning in ``message.reasoning`` / ``delta.reasoning`` (``completion_tokens``
includes ``completion_tokens_details.reasoning_tokens``, as with OpenAI).
``reasoning_effort`` (``low``/``medium``/``high``) goes only to the GPT-OSS models; Qwen 3
takes other values (``none``/``default``) and gets none.
"""

from __future__ import annotations

from types import MappingProxyType

from providers.openai_chat.adapter import ChatQuirks, OpenAIChatAdapter

QUIRKS = ChatQuirks(
    name="groq",
    efforts=MappingProxyType(
        {"minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "high"}
    ),
    effort_models=("openai/gpt-oss",),
)
ADAPTER = OpenAIChatAdapter(QUIRKS)

__all__ = ["ADAPTER", "QUIRKS"]
