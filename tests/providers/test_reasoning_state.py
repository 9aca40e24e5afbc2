"""Opaque reasoning provenance inside ``encrypted_content``."""

from __future__ import annotations

import pytest

from messages.chat import Reasoning
from providers.client_formats.reasoning_state import (
    encrypted_content_for,
    reasoning_from_item,
    unwrap,
    wrap,
)


def test_openai_state_travels_unprefixed() -> None:
    assert wrap("openai", "gAAAA==") == "gAAAA=="
    assert unwrap("gAAAA==") == ("openai", "gAAAA==")


@pytest.mark.parametrize("signature", ["EqQBCkYIBxgCKkB", "a:b:c", ""])
def test_foreign_state_round_trips(signature: str) -> None:
    wrapped = wrap("anthropic", signature)
    assert wrapped.startswith("swy1:anthropic:")
    assert unwrap(wrapped) == ("anthropic", signature)


def test_redacted_thinking_keeps_its_flag() -> None:
    block = Reasoning(provider="anthropic", signature="data", redacted=True)
    encrypted = encrypted_content_for(block)
    assert encrypted == "swy1r:anthropic:data"
    back = reasoning_from_item(item_id="rs_1", text="", encrypted=encrypted)
    assert back == Reasoning(provider="anthropic", signature="data", id="rs_1", redacted=True)


def test_unsigned_blocks_keep_their_provenance() -> None:
    assert encrypted_content_for(Reasoning(provider="openai", text="t")) is None
    encrypted = encrypted_content_for(Reasoning(provider="gemini", text="t"))
    assert encrypted == "swy1:gemini:"
    back = reasoning_from_item(item_id=None, text="t", encrypted=encrypted)
    assert (back.provider, back.signature) == ("gemini", None)


def test_malformed_prefixes_are_openai_content() -> None:
    assert unwrap("swy1:nocolon") == ("openai", "swy1:nocolon")
    assert unwrap("swy1::sig") == ("openai", "swy1::sig")
    assert reasoning_from_item(item_id=None, text="", encrypted=None).provider == "openai"


@pytest.mark.parametrize("provider", ["", "a:b"])
def test_unwrappable_provider_names_are_refused(provider: str) -> None:
    with pytest.raises(ValueError, match="cannot be wrapped"):
        wrap(provider, "sig")
