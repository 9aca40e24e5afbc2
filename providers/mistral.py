"""Mistral La Plateforme (``type: mistral``): Chat Completions with Mistral's rules.

- Tool call ids must be exactly 9 ASCII letters or digits, or Mistral answers 400 ("Tool
  call id was … but must be a-z, A-Z, 0-9, with a length of 9"). Other ids (``call_…``
  from OpenAI, ``toolu_…`` from Anthropic) are rewritten by ``mistral_call_id``: the same
  id always gives the same 9 characters (from a hash), on the assistant's ``tool_calls``
  and on the ``tool`` message alike, so pairs stay matched across turns. Mistral's own
  ids already fit and pass unchanged.
- A ``user`` message right after a ``tool`` message is rejected ("Unexpected role 'user'
  after role 'tool'"): a short assistant turn is put between them.
- Mistral answers 422 ``extra_forbidden`` to fields it does not know, so: ``max_tokens``
  (not ``max_completion_tokens``) and no ``stream_options`` (it sends usage in the last
  chunk without being asked). ``tool_choice: "any"`` forces a tool. Streamed tool calls
  come whole, without ``index``/``type``, in the chunk with ``finish_reason`` and
  ``usage`` (the shared decoder keys them by id).
- Reasoning: ``reasoning_effort`` is ``high`` or ``none`` and only the adjustable models
  take it (``mistral-small``, ``mistral-medium``); Magistral always reasons. Replies carry
  ``thinking`` content chunks, which go back in the assistant turn they came from.
"""

from __future__ import annotations

import hashlib
import re
import string
from types import MappingProxyType

from providers.openai_chat.adapter import ChatQuirks, OpenAIChatAdapter

_VALID_ID = re.compile(r"[A-Za-z0-9]{9}")
_ALPHABET = string.ascii_letters + string.digits
ID_LENGTH = 9


def mistral_call_id(call_id: str) -> str:
    """``call_id`` as Mistral accepts it: kept when it fits, else 9 characters of a hash."""
    if _VALID_ID.fullmatch(call_id):
        return call_id
    number = int.from_bytes(hashlib.blake2b(call_id.encode(), digest_size=8).digest(), "big")
    letters = []
    for _ in range(ID_LENGTH):
        number, digit = divmod(number, len(_ALPHABET))
        letters.append(_ALPHABET[digit])
    return "".join(letters)


QUIRKS = ChatQuirks(
    name="mistral",
    max_tokens_field="max_tokens",
    asks_stream_usage=False,
    required_choice="any",
    call_id=mistral_call_id,
    bridges_tool_to_user=True,
    efforts=MappingProxyType(
        {
            "none": "none",
            "minimal": "none",
            "low": "high",
            "medium": "high",
            "high": "high",
            "xhigh": "high",
        }
    ),
    effort_models=("mistral-small", "mistral-medium"),
    echoes_reasoning=True,
)
ADAPTER = OpenAIChatAdapter(QUIRKS)

__all__ = ["ADAPTER", "ID_LENGTH", "QUIRKS", "mistral_call_id"]
