"""The output-token bound: what the client asked for, and what each provider is sent.

One reading serves both the budget estimate (``actors/reservation.py`` holds the cost
of this many output tokens) and the adapters (they send exactly this), so the estimate
can never read a smaller maximum than the provider receives.

- The client's bound (``requested_output_tokens``): Responses reads
  ``max_output_tokens``; Anthropic's Messages API its required ``max_tokens``; Chat
  reads ``max_completion_tokens`` and ``max_tokens`` and
  takes the *larger* when both are given (a passthrough upstream receives both and may
  honour either). A field of the other API is not the client's bound: the decoders
  ignore it and a passthrough upstream rejects it.
- What the provider is sent (``sent_output_tokens``): Anthropic requires ``max_tokens``
  — the request's, capped at the model's ceiling when the model is known, else the
  model's ceiling; every other provider gets the request's bound as is, or none, and then
  applies its own default (the model's maximum output: the estimate reads it from the
  price list).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from messages.chat import ClientFormat
from providers.anthropic._models import model_traits
from providers.client_formats.request_fields import optional_positive_int

CHAT_LIMIT_FIELDS = ("max_completion_tokens", "max_tokens")
RESPONSES_LIMIT_FIELD = "max_output_tokens"
ANTHROPIC_LIMIT_FIELD = "max_tokens"  # required by Anthropic's API (inbound_checks)


def requested_output_tokens(client_format: ClientFormat, body: Mapping[str, object]) -> int | None:
    """The client's own bound on output tokens; raises ``RequestInvalid`` for a field
    that is not a positive integer."""
    if client_format is ClientFormat.RESPONSES:
        return optional_positive_int(body, RESPONSES_LIMIT_FIELD)
    if client_format is ClientFormat.ANTHROPIC:
        return optional_positive_int(body, ANTHROPIC_LIMIT_FIELD)
    bound: int | None = None
    for name in CHAT_LIMIT_FIELDS:
        value = optional_positive_int(body, name)
        if value is not None and (bound is None or value > bound):
            bound = value
    return bound


def anthropic_max_tokens(model: str, requested: int | None) -> int:
    """Anthropic's required ``max_tokens``."""
    traits = model_traits(model)
    if requested is None or requested <= 0:
        return traits.max_output
    return min(requested, traits.max_output) if traits.known else requested


def _as_requested(model: str, requested: int | None) -> int | None:
    return requested if requested is not None and requested > 0 else None


_SENT: Mapping[str, Callable[[str, int | None], int | None]] = {"anthropic": anthropic_max_tokens}


def sent_output_tokens(provider_type: str, model: str, requested: int | None) -> int | None:
    """The output-token maximum ``provider_type`` is sent for ``model``; ``None``: none is
    sent, the provider's own default applies."""
    return _SENT.get(provider_type, _as_requested)(model, requested)


__all__ = [
    "ANTHROPIC_LIMIT_FIELD",
    "CHAT_LIMIT_FIELDS",
    "RESPONSES_LIMIT_FIELD",
    "anthropic_max_tokens",
    "requested_output_tokens",
    "sent_output_tokens",
]
