"""Perplexity Sonar (``type: perplexity``): Chat Completions at ``https://api.perplexity.ai``.

- No tool calling: tools, ``tool_choice`` and ``parallel_tool_calls`` are dropped and the
  request still goes (a request that needs a tool gets a text answer). Earlier tool calls
  and results in the conversation become text, so the model still sees what happened.
- Roles: system messages first, then strictly alternating user/assistant turns (else 400
  "After the (optional) system message(s), user and assistant roles should be
  alternating"): system messages are hoisted, same-role runs merged, and a conversation
  that starts with the assistant gets a short user turn first.
- Streams repeat the cumulative ``usage`` (and ``citations`` / ``search_results``) in every
  chunk and end with the ``finish_reason`` chunk (``object: chat.completion.done``),
  without ``data: [DONE]``: the last usage wins, citations are ignored.
- ``max_tokens``; no ``stream_options`` (usage comes anyway); ``reasoning_effort`` only
  for ``sonar-deep-research``.
"""

from __future__ import annotations

from types import MappingProxyType

from providers.openai_chat.adapter import ChatQuirks, OpenAIChatAdapter

QUIRKS = ChatQuirks(
    name="perplexity",
    max_tokens_field="max_tokens",
    asks_stream_usage=False,
    ends_with_done=False,
    tools=False,
    alternates_roles=True,
    efforts=MappingProxyType(
        {"minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "high"}
    ),
    effort_models=("sonar-deep-research",),
)
ADAPTER = OpenAIChatAdapter(QUIRKS)

__all__ = ["ADAPTER", "QUIRKS"]
