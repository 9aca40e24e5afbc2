"""What sets one Chat Completions provider apart from another, as one frozen value.

The shared adapter (``providers.openai_chat.adapter``) reads these fields and never a provider's
name: each provider module (``mistral``, ``groq``, …) declares its ``ChatQuirks``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


def same_id(call_id: str) -> str:
    """Tool call ids sent back as the client gave them."""
    return call_id


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatQuirks:
    """One provider's departures from plain OpenAI Chat Completions.

    - ``name``: the config ``type``; also the ``Reasoning.provider`` tag of its reasoning.
    - ``max_tokens_field``: ``max_completion_tokens`` (OpenAI) or ``max_tokens``.
    - ``asks_stream_usage``: send ``stream_options.include_usage`` when streaming.
    - ``ends_with_done``: a stream is complete only at ``data: [DONE]``; when false it is
      complete at the chunk that carries a ``finish_reason``.
    - ``tools``: false drops tools and turns earlier tool calls and results into text.
    - ``required_choice``: the ``tool_choice`` string that forces some tool.
    - ``call_id``: how a client's tool call id is rewritten on the way up (same input,
      same output, so a call and its result stay paired across turns).
    - ``bridges_tool_to_user``: put a short assistant turn between a tool result and a
      following user message (the provider rejects that order).
    - ``alternates_roles``: system messages first, then strictly user/assistant turns.
    - ``efforts``: ``reasoning_effort`` value → the provider's value; absent values are
      not sent. Empty: ``reasoning_effort`` is never sent.
    - ``effort_models``: model-name prefixes that take ``reasoning_effort`` (empty: all).
    - ``echoes_reasoning``: the provider's own reasoning text goes back in its assistant
      turn as ``thinking`` content chunks.
    """

    name: str
    max_tokens_field: str = "max_completion_tokens"
    asks_stream_usage: bool = True
    ends_with_done: bool = True
    tools: bool = True
    required_choice: str = "required"
    call_id: Callable[[str], str] = same_id
    bridges_tool_to_user: bool = False
    alternates_roles: bool = False
    efforts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    effort_models: tuple[str, ...] = ()
    echoes_reasoning: bool = False

    def effort_for(self, effort: str | None, model: str) -> str | None:
        """The ``reasoning_effort`` to send for ``model``, if any."""
        if effort is None or not self.efforts:
            return None
        if self.effort_models and not model.startswith(self.effort_models):
            return None
        return self.efforts.get(effort)


__all__ = ["ChatQuirks", "same_id"]
