"""Tool call ids for Gemini, which usually sends none.

The gateway keeps no state, so ids are minted from the reply itself: ``call_`` + 24 hex
digits of a hash of the response id, the call's position in the reply and its name —
the same reply always gives the same ids, two calls never share one. When a reply has
no ``responseId`` the decoder salts with a random token instead, so ids stay unique
(not reproducible).

On the way back only the name and the order matter to Gemini; an id that was not minted
here (Gemini sent it, or another provider made it) is echoed on ``functionCall`` and
``functionResponse``.
"""

from __future__ import annotations

import hashlib
import re

_MINTED = re.compile(r"call_[0-9a-f]{24}")


def mint_call_id(salt: str, index: int, name: str) -> str:
    digest = hashlib.sha256(f"{salt}\x1f{index}\x1f{name}".encode()).hexdigest()
    return "call_" + digest[:24]


def is_minted_call_id(call_id: str) -> bool:
    return _MINTED.fullmatch(call_id) is not None


__all__ = ["is_minted_call_id", "mint_call_id"]
