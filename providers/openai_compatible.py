"""Any OpenAI-compatible server (``type: openai-compatible``): vLLM, Ollama, LM Studio, …

Plain Chat Completions with the settings most servers understand:

- ``max_tokens``, not ``max_completion_tokens``: vLLM takes both, but Ollama's OpenAI
  layer lists only ``max_tokens`` and older servers reject or ignore the newer name.
- ``stream_options.include_usage`` is sent (vLLM and Ollama both support it), so usage
  arrives in the final chunk.
- ``reasoning_effort`` is not sent: whether a server and model take it is unknowable here
  (Ollama answers 400 when a model cannot think), and a failed request is worse than
  default effort.
- Reasoning text the server returns (``reasoning_content`` from vLLM/DeepSeek,
  ``reasoning`` from Ollama) is decoded into readable reasoning, never sent back.
"""

from __future__ import annotations

from providers.openai_chat.adapter import ChatQuirks, OpenAIChatAdapter

QUIRKS = ChatQuirks(name="openai-compatible", max_tokens_field="max_tokens")
ADAPTER = OpenAIChatAdapter(QUIRKS)

__all__ = ["ADAPTER", "QUIRKS"]
