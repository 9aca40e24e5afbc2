"""The closed registry: one adapter per provider type, for translation through the IR.

OpenAI's own formats reach ``openai`` (and Chat reaches ``openai-compatible``) by
passthrough; every other pairing of client format and provider type translates through
the adapter registered here: a module (``providers/<name>.py``) or, when it spans several,
a subpackage (``providers/<name>/adapter.py``). Every type of ``config/provider_types.py``
has one (``tests/providers/test_provider_types.py``); the contract suite walks this mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from providers import (
    cerebras,
    groq,
    mistral,
    openai_chat_upstream,
    openai_compatible,
    perplexity,
)
from providers.adapter import ProviderAdapter
from providers.anthropic import adapter as anthropic
from providers.cohere import adapter as cohere
from providers.gemini import adapter as gemini

REGISTRY: Mapping[str, ProviderAdapter] = MappingProxyType(
    {
        "anthropic": anthropic.ADAPTER,
        "cerebras": cerebras.ADAPTER,
        "cohere": cohere.ADAPTER,
        "gemini": gemini.ADAPTER,
        "groq": groq.ADAPTER,
        "mistral": mistral.ADAPTER,
        "openai": openai_chat_upstream.ADAPTER,
        "openai-compatible": openai_compatible.ADAPTER,
        "perplexity": perplexity.ADAPTER,
    }
)

__all__ = ["REGISTRY"]
