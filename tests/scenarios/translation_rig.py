"""Provider configs that route the gateway to the fake in each wire format."""

from __future__ import annotations

from typing import Any

from fakes import FakeProviderServer
from tests.gateway_rig import openai_provider

MODELS = {
    "anthropic": "claude-sonnet-4-5-20250929",
    "gemini": "gemini-2.5-pro",
    "cohere": "command-a-03-2025",
    "openai-compatible": "llama-3.3-70b",
    "mistral": "mistral-large-latest",
}


def provider_for(kind: str, fake: FakeProviderServer, **overrides: Any) -> dict[str, Any]:
    """``kind`` is a provider type; the fake answers each format on its own path."""
    base_url = {
        "anthropic": fake.origin + "/v1",
        "gemini": fake.origin + "/v1beta",
        "cohere": fake.origin + "/v2",
        "openai-compatible": fake.base_url,
        "mistral": fake.origin + "/mistral/v1",
    }[kind]
    return openai_provider(base_url, id=f"fake-{kind}", type=kind, model=MODELS[kind], **overrides)
