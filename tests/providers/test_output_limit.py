"""One function bounds the output: for every provider type and both client formats,
the output maximum in the body the provider receives is at most — and, where the
gateway sends one, exactly — what the budget estimate holds for that route."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from fakes.output_cap import max_output_sent
from messages.chat import ClientFormat
from providers.exchanges.open_exchange import open_exchange
from providers.output_limit import requested_output_tokens, sent_output_tokens
from providers.registry import REGISTRY

MODELS = {
    "anthropic": "claude-sonnet-4-5-20250929",
    "gemini": "gemini-2.5-pro",
    "cohere": "command-a-03-2025",
    "mistral": "mistral-large-latest",
    "groq": "llama-3.3-70b-versatile",
    "cerebras": "llama-3.3-70b",
    "perplexity": "sonar-pro",
    "openai": "gpt-5.5",
    "openai-compatible": "llama-3.3-70b",
}
CHAT_BOUNDS: list[dict[str, Any]] = [
    {},
    {"max_tokens": 64000},
    {"max_output_tokens": 1, "max_tokens": 64000},
    {"max_completion_tokens": 1, "max_tokens": 64000},
    {"max_completion_tokens": 64000, "max_tokens": 1},
    {"max_completion_tokens": 300},
    {"max_tokens": 1_000_000},
]
RESPONSES_BOUNDS: list[dict[str, Any]] = [
    {},
    {"max_output_tokens": 64000},
    {"max_output_tokens": 1, "max_tokens": 64000},
    {"max_output_tokens": 1_000_000},
]
CASES = [(ClientFormat.CHAT, bounds, kind) for bounds in CHAT_BOUNDS for kind in sorted(MODELS)] + [
    (ClientFormat.RESPONSES, bounds, kind) for bounds in RESPONSES_BOUNDS for kind in sorted(MODELS)
]


def _body(client_format: ClientFormat, bounds: dict[str, Any]) -> dict[str, Any]:
    if client_format is ClientFormat.CHAT:
        return {"model": "m", "messages": [{"role": "user", "content": "hi"}], **bounds}
    return {"model": "m", "input": "hi", **bounds}


def test_every_provider_type_is_covered() -> None:
    assert set(REGISTRY) <= set(MODELS)


@pytest.mark.parametrize(("client_format", "bounds", "kind"), CASES)
def test_the_provider_receives_no_more_than_the_estimate_holds(
    client_format: ClientFormat, bounds: dict[str, Any], kind: str
) -> None:
    body = _body(client_format, bounds)
    model = MODELS[kind]
    exchange = open_exchange(
        client_format, body, provider_type=kind, model=model, api_key="k", request_id="req_1"
    )
    sent = orjson.loads(exchange.call().body)
    if kind == "openai" and client_format is ClientFormat.RESPONSES:
        # the body passes through as is: OpenAI's Responses API reads its own field
        # (and answers 400 to a Chat field it does not know)
        sent = {"max_output_tokens": sent.get("max_output_tokens")}
    received = max_output_sent(sent)
    held = sent_output_tokens(kind, model, requested_output_tokens(client_format, body))
    if held is None:
        # nothing sent: the provider's own default applies (the estimate reads the model's
        # maximum from the price list)
        assert received is None
    else:
        assert received is not None and received <= held
        translated = (
            kind in REGISTRY
            and not (kind in ("openai", "openai-compatible") and client_format is ClientFormat.CHAT)
            and not (kind == "openai" and client_format is ClientFormat.RESPONSES)
        )
        if translated:
            assert received == held  # exactly what was held
