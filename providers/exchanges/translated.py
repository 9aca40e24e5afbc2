"""The translating exchange: client format → IR → provider wire → IR → client format.

The client's body is decoded into a ``ChatRequest``; the provider's adapter encodes the
call and decodes its answer into deltas, event by event; the client-format encoder turns
each delta into Responses events or Chat chunks as it arrives (or, not streaming, into
one body). Nothing is buffered beyond what one upstream read holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from messages.chat import ChatRequest, StreamDelta, StreamFailure, UsageReport
from messages.errors import ErrorInfo, ErrorKind
from messages.usage import UsageAnomaly
from providers.adapter import CallTarget, HttpCall, ProviderAdapter, StreamDecoder
from providers.client_formats.anthropic_encoder import AnthropicStreamEncoder
from providers.client_formats.chat_encoder import ChatStreamEncoder
from providers.client_formats.responses_encoder import ResponsesStreamEncoder
from providers.exchanges.protocol import ExchangeOutcome
from providers.garbage import ProviderGarbage
from providers.sse import SseParser

ClientEncoder = ResponsesStreamEncoder | ChatStreamEncoder | AnthropicStreamEncoder


class TranslatedExchange:
    __slots__ = (
        "_adapter",
        "_anomalies",
        "_call",
        "_decoder",
        "_encoder",
        "_failure",
        "_fed",
        "_parser",
        "_request",
    )

    def __init__(
        self,
        request: ChatRequest,
        adapter: ProviderAdapter,
        target: CallTarget,
        encoder: ClientEncoder,
    ) -> None:
        self._request = request
        self._adapter = adapter
        self._call = adapter.build_call(request, target)
        self._encoder = encoder
        self._parser = SseParser()
        self._decoder: StreamDecoder = adapter.new_stream_decoder(request.tools)
        self._failure: ErrorInfo | None = None
        self._anomalies: tuple[UsageAnomaly, ...] = ()
        self._fed = False  # feed has returned bytes (the client may have them)

    def call(self) -> HttpCall:
        return self._call

    def start(self) -> bytes:
        return self._encoder.start()

    def feed(self, chunk: bytes) -> bytes:
        out = b"".join(self._encode(self._decoder.feed(e)) for e in self._parser.feed(chunk))
        if not self._fed:
            failure = self._failure
            if failure is not None and failure.kind is ErrorKind.PROTOCOL:
                # garbage before the client got a byte: fail the attempt (retried or a 502)
                raise ProviderGarbage(failure.message)
            self._fed = bool(out)
        return out

    def finish(self) -> bytes:
        closing = self._encode(self._decoder.close())
        if self._failure is not None:
            return closing
        return closing + self._encoder.finish()

    def fail(self, error: ErrorInfo) -> bytes:
        self._failure = error
        return self._encoder.fail(error)

    def complete(self, body: bytes) -> bytes:
        self._encode(self._adapter.parse_reply(body, self._request.tools))
        if self._failure is None:
            self._encoder.finish()
        return self._encoder.response_json()

    def map_error(self, status: int, headers: Sequence[tuple[str, str]], body: bytes) -> ErrorInfo:
        return self._adapter.map_error(status, headers, body)

    def outcome(self) -> ExchangeOutcome:
        return ExchangeOutcome(
            usage=self._encoder.usage,
            response=self._encoder.response_json(),
            failure=self._failure,
            anomalies=self._anomalies,
        )

    def _encode(self, deltas: Iterable[StreamDelta]) -> bytes:
        out = b""
        for delta in deltas:
            if isinstance(delta, StreamFailure):
                self._failure = delta.error
            elif isinstance(delta, UsageReport) and delta.anomalies:
                self._anomalies = delta.anomalies  # a report carries all of its reader's
            out += self._encoder.feed(delta)
        return out


__all__ = ["TranslatedExchange"]
