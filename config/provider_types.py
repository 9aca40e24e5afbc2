"""The closed table of provider ``type`` values a config may name: the one definition.

Each type maps to its default ``base_url``; ``None`` means the config must give one. A
type not here fails at config load, naming the file and line. Every other table keyed by
type (``providers.registry.REGISTRY``, the passthroughs in
``providers.exchanges.open_exchange``, the fake wire of each type in
``tests/providers/contract_wires.py``) is checked against this one by
``tests/providers/test_provider_types.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

PROVIDER_TYPES: Mapping[str, str | None] = MappingProxyType(
    {
        "openai": "https://api.openai.com/v1",
        "anthropic": "https://api.anthropic.com/v1",
        "gemini": "https://generativelanguage.googleapis.com/v1beta",
        "cohere": "https://api.cohere.com/v2",
        "mistral": "https://api.mistral.ai/v1",
        "groq": "https://api.groq.com/openai/v1",
        "cerebras": "https://api.cerebras.ai/v1",
        "perplexity": "https://api.perplexity.ai",
        "openai-compatible": None,
    }
)
"""Provider type → default base URL (``None``: ``base_url`` is required)."""

__all__ = ["PROVIDER_TYPES"]
