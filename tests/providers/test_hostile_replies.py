"""Whatever a provider sends, an exchange never raises anything but ``ProviderGarbage``,
never reports a count outside the range ``messages.usage`` allows, and what it hands the
trail always encodes. Real events from the fakes' wire formats, mutated by hypothesis:
one value anywhere in one event's JSON replaced by any JSON value, or one event's bytes
cut or spoiled.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakes import FakeUsage, Reply
from fakes.anthropic_wire import ANTHROPIC
from fakes.cohere_wire import COHERE
from fakes.gemini_wire import GEMINI
from fakes.mistral_wire import MISTRAL
from fakes.openai_wire import CHAT, RESPONSES
from fakes.script import FunctionCall, Reasoning, Text
from fakes.spoil import GARBAGE_KINDS, spoil_body, spoil_events
from fakes.wire import WireContext, WireFormat
from messages.chat import ClientFormat
from messages.errors import ErrorKind
from messages.events import ResponseCompleted
from messages.usage import MAX_ANOMALIES, MAX_TOKENS, UsageAnomaly, shown, token_count
from providers.exchanges.open_exchange import open_exchange
from providers.exchanges.protocol import Exchange
from providers.garbage import ProviderGarbage
from storage.codec import encode_payload

REPLY = Reply(
    items=(
        Reasoning(summary="thinking about it"),
        Text(text="The answer is forty-two."),
        FunctionCall(name="lookup", arguments='{"q": "x"}'),
    ),
    usage=FakeUsage(input_tokens=100, cached_tokens=10, output_tokens=20, reasoning_tokens=5),
)
BODIES = {
    ClientFormat.RESPONSES: {
        "model": "m",
        "input": "hi",
        "tools": [
            _tool := {"type": "function", "name": "lookup", "parameters": {"type": "object"}}
        ],
    },
    ClientFormat.CHAT: {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [
            {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
        ],
    },
}
ROUTES: list[tuple[ClientFormat, str, WireFormat]] = [
    (ClientFormat.RESPONSES, "openai", RESPONSES),  # passthrough
    (ClientFormat.CHAT, "openai", CHAT),  # passthrough
    (ClientFormat.RESPONSES, "anthropic", ANTHROPIC),
    (ClientFormat.CHAT, "anthropic", ANTHROPIC),
    (ClientFormat.RESPONSES, "gemini", GEMINI),
    (ClientFormat.CHAT, "cohere", COHERE),
    (ClientFormat.RESPONSES, "mistral", MISTRAL),
    (ClientFormat.RESPONSES, "groq", CHAT),
]
IDS = [f"{fmt.value}->{provider}" for fmt, provider, _ in ROUTES]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def _exchange(client_format: ClientFormat, provider: str, stream: bool) -> Exchange:
    return open_exchange(
        client_format,
        {**BODIES[client_format], "stream": stream},
        provider_type=provider,
        model="m",
        api_key="sk-test",
        request_id="req_hostile",
    )


def _answer(route: tuple[ClientFormat, str, WireFormat], stream: bool) -> tuple[Exchange, Any]:
    client_format, provider, wire = route
    exchange = _exchange(client_format, provider, stream)
    ctx = WireContext(
        model="m",
        token="tok",
        created=int(time.time()),
        usage=REPLY.usage or FakeUsage(),
        request=orjson.loads(exchange.call().body),
    )
    if stream:
        return exchange, list(wire.stream_events(REPLY, ctx, failure=None))
    return exchange, wire.complete_answer(REPLY, ctx, failure=None).body


def _paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.extend(_paths(value, (*prefix, index)))
    return out


def _replace(node: Any, path: tuple[object, ...], value: object) -> Any:
    if not path:
        return value
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[path[0]] = _replace(node[path[0]], path[1:], value)  # type: ignore[index]
    return copy


def _mutate_json(data: bytes, draw: st.DrawFn) -> bytes:
    document = orjson.loads(data)
    path = draw(st.sampled_from(_paths(document)))
    return orjson.dumps(_replace(document, path, draw(json_values)))


@st.composite
def spoiled_events(draw: st.DrawFn, events: Sequence[bytes]) -> list[bytes]:
    out = list(events)
    index = draw(st.integers(0, len(out) - 1))
    event = out[index]
    how = draw(st.sampled_from(["json", "json", "json", "cut", "bytes"]))
    start = event.find(b"data: ") + 6
    end = event.rfind(b"}") + 1
    if how == "json" and start >= 6 and end > start:
        out[index] = event[:start] + _mutate_json(event[start:end], draw) + event[end:]
    elif how == "cut":
        out[index] = event[: draw(st.integers(0, len(event)))]
        del out[index + 1 :]
    else:
        at = draw(st.integers(0, len(event)))
        junk = draw(st.binary(min_size=1, max_size=4))
        out[index] = event[:at] + junk + event[at:]
    return out


def _check_outcome(exchange: Exchange) -> None:
    outcome = exchange.outcome()
    usage = outcome.usage
    if usage is not None:
        for name in usage.__slots__:  # type: ignore[attr-defined]
            count = getattr(usage, name)
            assert type(count) is int and 0 <= count < 3 * MAX_TOKENS, (name, count)
    encode_payload(  # the audit writer's own encoding: must never raise
        ResponseCompleted(
            request_id="req_hostile",
            at=time.time(),
            status=200,
            latency_ms=1.0,
            provider_id="p",
            model="m",
            attempts=1,
            usage=usage,
            response=outcome.response,
        )
    )


def _run_stream(exchange: Exchange, events: Sequence[bytes]) -> None:
    exchange.start()
    try:
        for event in events:
            exchange.feed(event)
        exchange.finish()
    except ProviderGarbage as exc:
        exchange.fail(exc.error)
    _check_outcome(exchange)


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_spoiled_stream_never_raises_anything_but_garbage(
    route: tuple[ClientFormat, str, WireFormat], data: st.DataObject
) -> None:
    exchange, events = _answer(route, stream=True)
    _run_stream(exchange, data.draw(spoiled_events(events)))


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_spoiled_body_never_raises_anything_but_garbage(
    route: tuple[ClientFormat, str, WireFormat], data: st.DataObject
) -> None:
    exchange, body = _answer(route, stream=False)
    spoiled = data.draw(spoiled_events([b"data: " + body + b"\n\n"]))[0]
    with contextlib.suppress(ProviderGarbage):
        exchange.complete(spoiled[6:].removesuffix(b"\n\n"))
    _check_outcome(exchange)


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_the_unspoiled_answer_passes(route: tuple[ClientFormat, str, WireFormat]) -> None:
    exchange, events = _answer(route, stream=True)
    for event in events:
        exchange.feed(event)
    exchange.finish()
    outcome = exchange.outcome()
    assert outcome.failure is None and outcome.usage is not None
    assert outcome.usage.output_tokens == 20


def _first_data_index(route: tuple[ClientFormat, str, WireFormat]) -> int:
    """The event the fakes' ``wrong_shape`` must spoil for this format to notice: the
    Responses passthrough reads only the terminal event's shape (the rest it forwards,
    checked to be JSON objects); every other format reads its first event."""
    return -1 if route[2] is RESPONSES else 0


@pytest.mark.parametrize("garbage", GARBAGE_KINDS)
@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_each_garbage_kind_fails_the_stream_as_a_protocol_error(
    route: tuple[ClientFormat, str, WireFormat], garbage: str
) -> None:
    exchange, events = _answer(route, stream=True)
    index = _first_data_index(route) if garbage == "wrong_shape" else 0
    spoiled = spoil_events(events, garbage=garbage, garbage_event=index, usage_value=None, size=0)
    assert spoiled != events
    failure = None
    try:
        for event in spoiled:
            exchange.feed(event)
        exchange.finish()
        failure = exchange.outcome().failure
    except ProviderGarbage as exc:
        failure = exc.error
    assert failure is not None and failure.kind is ErrorKind.PROTOCOL, failure


@pytest.mark.parametrize("garbage", GARBAGE_KINDS)
@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_each_garbage_kind_fails_the_body_as_a_protocol_error(
    route: tuple[ClientFormat, str, WireFormat], garbage: str
) -> None:
    exchange, body = _answer(route, stream=False)
    exchange.complete(spoil_body(body, garbage=garbage, usage_value=None, size=0))
    failure = exchange.outcome().failure
    assert failure is not None and failure.kind is ErrorKind.PROTOCOL, failure


@pytest.mark.parametrize("value", ["-5", "1.5", '"x"', "true", "1e20", "18446744073709551615"])
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_absurd_usage_is_an_anomaly_with_a_safe_count(
    route: tuple[ClientFormat, str, WireFormat], stream: bool, value: str
) -> None:
    exchange, answer = _answer(route, stream=stream)
    if stream:
        for event in spoil_events(answer, garbage=None, garbage_event=0, usage_value=value, size=0):
            exchange.feed(event)
        exchange.finish()
    else:
        exchange.complete(spoil_body(answer, garbage=None, usage_value=value, size=0))
    outcome = exchange.outcome()
    assert outcome.failure is None  # the answer itself was fine
    assert outcome.anomalies and all(a.value == _shown(value) for a in outcome.anomalies)
    usage = outcome.usage
    assert usage is not None
    # a fraction is rounded up, the rest counts as 0 (Gemini's output adds two counts)
    expected = (4 if route[2] is GEMINI else 2) if value == "1.5" else 0
    assert usage.output_tokens == expected
    _check_outcome(exchange)


def _shown(raw: str) -> str:
    return shown(orjson.loads(raw))


@pytest.mark.parametrize(
    ("value", "count", "noted"),
    [
        (0, 0, False),
        (123, 123, False),
        (MAX_TOKENS - 1, MAX_TOKENS - 1, False),
        (None, None, False),  # absent, not an anomaly
        (MAX_TOKENS, None, True),
        (-1, None, True),
        (1.2, 2, True),  # a fraction in range is rounded up, never down
        (1e20, None, True),
        (float("inf"), None, True),
        (float("nan"), None, True),
        (True, None, True),
        ("12", None, True),
        ({"a": 1}, None, True),
    ],
)
def test_token_count(value: object, count: int | None, noted: bool) -> None:
    anomalies: list[UsageAnomaly] = []
    assert token_count(value, "usage.x", anomalies) == count
    assert bool(anomalies) is noted
    if noted:
        assert anomalies[0].field == "usage.x" and len(anomalies[0].value) <= 64


def test_anomalies_are_bounded_and_values_truncated() -> None:
    anomalies: list[UsageAnomaly] = []
    for n in range(50):
        token_count(-n - 1, f"f{n}", anomalies)
    token_count("x" * 10_000, "long", anomalies)
    assert len(anomalies) == MAX_ANOMALIES
    assert shown("x" * 10_000).endswith("…") and len(shown("x" * 10_000)) == 64
