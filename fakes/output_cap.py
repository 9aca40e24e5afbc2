"""The worst case a budget must hold: a model that writes as much as it was allowed.

``FakeProviderServer.bill_max_output`` makes every reply bill, as output tokens, the
largest output maximum the request carried in any provider's field (OpenAI
``max_completion_tokens``/``max_tokens``/``max_output_tokens``, Anthropic and Cohere
``max_tokens``, Gemini ``generationConfig.maxOutputTokens``), or the server's
default when it carried none (a real provider then writes up to the model's maximum).
"""

from __future__ import annotations

from dataclasses import replace

from fakes.script import FakeUsage, Reply

_FIELDS = ("max_completion_tokens", "max_tokens", "max_output_tokens")


def max_output_sent(body: dict[str, object]) -> int | None:
    """The largest output maximum in ``body``, in any provider's field."""
    found = [body.get(name) for name in _FIELDS]
    config = body.get("generationConfig")
    if isinstance(config, dict):
        found.append(config.get("maxOutputTokens"))
    numbers = [v for v in found if isinstance(v, int) and not isinstance(v, bool) and v > 0]
    return max(numbers) if numbers else None


def billed_at_max(
    reply: Reply, body: dict[str, object], *, default: int, request_bytes: int
) -> Reply:
    output = max_output_sent(body) or default
    return replace(reply, usage=FakeUsage(input_tokens=request_bytes // 4, output_tokens=output))


__all__ = ["billed_at_max", "max_output_sent"]
