"""The closed registry: one adapter per provider type that is reached through the IR.

OpenAI's own formats reach ``openai`` (and Chat reaches ``openai-compatible``) by
passthrough; every other pairing of client format and provider type translates through
the adapter registered here. Adding a provider = one module + one line here + one
contract-test parameter (``tests/providers/test_contract.py`` walks this mapping).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from providers import anthropic, gemini
from providers.adapter import ProviderAdapter

REGISTRY: Mapping[str, ProviderAdapter] = MappingProxyType(
    {
        "anthropic": anthropic.ADAPTER,
        "gemini": gemini.ADAPTER,
    }
)

__all__ = ["REGISTRY"]
