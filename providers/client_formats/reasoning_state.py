"""Who made an opaque reasoning blob, carried inside the Responses ``encrypted_content``.

Codex (``store: false``) hands every reasoning item back verbatim on the next turn, and
only the provider type that made a blob can use it. OpenAI's own ``encrypted_content``
travels as is (unprefixed means ``"openai"``); any other provider's state (an Anthropic
thinking ``signature`` or ``redacted_thinking`` data, a Gemini ``thoughtSignature``) is
wrapped as ``swy1:<provider>:<signature>`` (``swy1r:`` for redacted thinking), so the
next request can route it back to its maker and nowhere else.

Anthropic's Messages format carries its own signatures as they are and every other
provider's wrapped the same way (``tagged``). Chat Completions has no field for opaque
state: that encoder drops it.
"""

from __future__ import annotations

from messages.chat import Reasoning

OPENAI = "openai"
_PLAIN = "swy1:"
_REDACTED = "swy1r:"


def wrap(provider: str, signature: str, *, redacted: bool = False) -> str:
    """The ``encrypted_content`` for ``provider``'s opaque ``signature``."""
    if provider == OPENAI and not redacted:
        return signature
    if not provider or ":" in provider:
        raise ValueError(f"provider type {provider!r} cannot be wrapped")
    return (_REDACTED if redacted else _PLAIN) + provider + ":" + signature


def tagged(provider: str, signature: str, *, redacted: bool = False) -> str:
    """``signature`` always wrapped with its maker, OpenAI's too (for a format, like
    Anthropic's, where unwrapped state means the client's own provider made it)."""
    if not provider or ":" in provider:
        raise ValueError(f"provider type {provider!r} cannot be wrapped")
    return (_REDACTED if redacted else _PLAIN) + provider + ":" + signature


def unwrap(encrypted_content: str) -> tuple[str, str]:
    """``(provider, signature)``; unprefixed content is OpenAI's own."""
    provider, signature, _ = _split(encrypted_content)
    return provider, signature


def _split(encrypted_content: str) -> tuple[str, str, bool]:
    for prefix in (_PLAIN, _REDACTED):
        if encrypted_content.startswith(prefix):
            provider, colon, signature = encrypted_content[len(prefix) :].partition(":")
            if colon and provider:
                return provider, signature, prefix == _REDACTED
    return OPENAI, encrypted_content, False


def encrypted_content_for(reasoning: Reasoning) -> str | None:
    """What to put in an output reasoning item; ``None`` only for OpenAI without state.

    A non-OpenAI block without a signature still gets a wrapper, so that its provenance
    survives the round trip.
    """
    if reasoning.provider == OPENAI and not reasoning.redacted and not reasoning.signature:
        return None
    return wrap(reasoning.provider, reasoning.signature or "", redacted=reasoning.redacted)


def reasoning_from_item(*, item_id: str | None, text: str, encrypted: str | None) -> Reasoning:
    """The IR block for a reasoning item a client sent back."""
    if encrypted is None:
        return Reasoning(provider=OPENAI, text=text, id=item_id)
    provider, signature, redacted = _split(encrypted)
    return Reasoning(
        provider=provider, text=text, signature=signature or None, id=item_id, redacted=redacted
    )


__all__ = [
    "OPENAI",
    "encrypted_content_for",
    "reasoning_from_item",
    "tagged",
    "unwrap",
    "wrap",
]
