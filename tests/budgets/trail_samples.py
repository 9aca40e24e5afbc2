"""Priced trails for the budget storage tests: built as the gateway would, then metered."""

from __future__ import annotations

from dataclasses import dataclass

from budgets.metering import Meter
from budgets.pricing import Pricer, PriceTable
from messages.budget import Settle
from messages.events import (
    AttemptFinished,
    AttemptStarted,
    RequestReceived,
    ResponseCompleted,
    TrailEvent,
)
from messages.usage import Usage
from storage import SequencedEvent

USAGE = Usage(input_tokens=1200, cached_input_tokens=200, output_tokens=300, reasoning_tokens=100)
GPT_55_COST = (1000 * 5 + 200 * 0.5 + 300 * 30) / 1e6  # $0.0141 on gpt-5.5
MISTRAL_COST = (1000 * 0.5 + 200 * 0.05 + 300 * 1.5) / 1e6  # $0.00096, mistral-large-latest


@dataclass(frozen=True, slots=True, kw_only=True)
class Who:
    key: str = "key-1"
    team: str | None = "red"
    customer: str | None = "acme"


def request_events(
    request_id: str,
    at: float,
    *,
    who: Who = Who(),
    provider: str = "openai-main",
    provider_type: str = "openai",
    model: str = "gpt-5.5",
    usage: Usage = USAGE,
) -> list[TrailEvent]:
    return [
        RequestReceived(
            request_id=request_id,
            at=at,
            client_format="openai-responses",
            endpoint="/v1/responses",
            model_requested=model,
            stream=False,
            virtual_key_id=who.key,
            account_id="dev",
            session_id=None,
            thread_id=None,
            user_agent=None,
            body=b"{}",
            team=who.team,
            customer=who.customer,
        ),
        AttemptStarted(
            request_id=request_id,
            at=at + 0.01,
            attempt=1,
            provider_id=provider,
            provider_type=provider_type,
            model=model,
            key_id="k#0",
            reason="primary",
        ),
        AttemptFinished(
            request_id=request_id,
            at=at + 0.5,
            attempt=1,
            provider_id=provider,
            model=model,
            status=200,
            latency_ms=490.0,
            usage=usage,
            error=None,
        ),
        ResponseCompleted(
            request_id=request_id,
            at=at + 0.5,
            status=200,
            latency_ms=500.0,
            provider_id=provider,
            model=model,
            attempts=1,
            usage=usage,
            response=b"{}",
        ),
    ]


class PricedTrail:
    """Meters events like the audit logger does; ``batch`` is ready for a recorder."""

    def __init__(self) -> None:
        self.meter = Meter(Pricer(PriceTable.shipped()))
        self.settlements: list[Settle] = []
        self._seq: dict[str, int] = {}

    def batch(self, events: list[TrailEvent]) -> list[SequencedEvent]:
        out = []
        for event in events:
            priced, settle = self.meter.observe(event)
            if settle is not None:
                self.settlements.append(settle)
            seq = self._seq.get(event.request_id, 0) + 1
            self._seq[event.request_id] = seq
            out.append(SequencedEvent(seq=seq, event=priced))
        return out
