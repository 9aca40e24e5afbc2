"""Shared by the Chat Completions family and Cohere tests: recordings as SSE, decoding."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from http11.client import UpstreamPool, UpstreamReadError
from messages.chat import ChatRequest, StreamDelta, ToolSpec
from messages.errors import ErrorInfo
from providers.adapter import CallTarget, ProviderAdapter
from providers.sse import SseEvent, SseParser

FIXTURES = Path(__file__).parent / "fixtures"
DONE = b"data: [DONE]\n\n"


def fixture_bytes(provider: str, name: str) -> bytes:
    return (FIXTURES / provider / name).read_bytes()


def fixture_json(provider: str, name: str) -> Any:
    return json.loads(fixture_bytes(provider, name))


def sse_of(raw: bytes) -> list[SseEvent]:
    parser = SseParser()
    events = parser.feed(raw if raw.endswith(b"\n\n") else raw + b"\n\n")
    assert parser.pending().strip() == b""
    return events


def chat_events(provider: str, name: str, *, done: bool = True) -> list[SseEvent]:
    """A recorded Chat stream. ``.chunks.jsonl`` recordings keep only the data payloads
    (the ``[DONE]`` line was stripped when they were captured); ``done`` puts it back."""
    raw = fixture_bytes(provider, name)
    if name.endswith(".chunks.jsonl"):
        lines = [line for line in raw.decode().splitlines() if line.strip()]
        raw = b"".join(b"data: " + line.encode() + b"\n\n" for line in lines)
        raw += DONE if done else b""
    return sse_of(raw)


def cohere_events(name: str) -> list[SseEvent]:
    """A recorded Cohere stream: ``.chunks.jsonl`` payloads or the docs' YAML event list."""
    raw = fixture_bytes("cohere", name)
    if name.endswith(".yaml"):
        pairs = [(e["event"], json.dumps(e["data"])) for e in yaml.safe_load(raw)["stream"]]
    else:
        lines = [line for line in raw.decode().splitlines() if line.strip()]
        pairs = [(json.loads(line)["type"], line) for line in lines]
    return sse_of(b"".join(f"event: {name}\ndata: {data}\n\n".encode() for name, data in pairs))


def decode(
    adapter: ProviderAdapter,
    events: Iterable[SseEvent],
    tools: Sequence[ToolSpec] = (),
    *,
    close: bool = True,
) -> list[StreamDelta]:
    decoder = adapter.new_stream_decoder(tools)
    deltas: list[StreamDelta] = []
    for event in events:
        deltas.extend(decoder.feed(event))
    if close:
        deltas.extend(decoder.close())
    return deltas


def decode_bytes(
    adapter: ProviderAdapter, chunks: Iterable[bytes], tools: Sequence[ToolSpec] = ()
) -> list[StreamDelta]:
    """Bytes as they would arrive from the socket (split anywhere), then ``close``."""
    parser = SseParser()
    decoder = adapter.new_stream_decoder(tools)
    deltas: list[StreamDelta] = []
    for chunk in chunks:
        for event in parser.feed(chunk):
            deltas.extend(decoder.feed(event))
    deltas.extend(decoder.close())
    return deltas


def chunk_event(data: object) -> SseEvent:
    """A ``data:`` event carrying ``data`` as JSON (or a raw string)."""
    text = data if isinstance(data, str) else json.dumps(data)
    return SseEvent(event=None, data=text, raw=b"")


def body_of(
    adapter: ProviderAdapter, request: ChatRequest, model: str = "model-x", *, stream: bool = False
) -> dict[str, Any]:
    call = adapter.build_call(request, CallTarget(model=model, api_key="sk-test", stream=stream))
    decoded: dict[str, Any] = json.loads(call.body)
    return decoded


# --- over HTTP, against the fake server -------------------------------------------------------


async def call_fake(
    adapter: ProviderAdapter,
    base_url: str,
    request: ChatRequest,
    *,
    model: str = "model-x",
    stream: bool,
    api_key: str = "sk-test",
) -> tuple[int, list[tuple[str, str]], list[StreamDelta] | ErrorInfo]:
    """Send ``adapter``'s call to the fake; the decoded deltas, or the mapped error."""
    call = adapter.build_call(request, CallTarget(model=model, api_key=api_key, stream=stream))
    async with (
        UpstreamPool() as pool,
        pool.stream(call.method, base_url + call.path, call.headers, call.body) as response,
    ):
        headers = list(response.headers)
        if response.status != 200:
            body = await response.read()
            return response.status, headers, adapter.map_error(response.status, headers, body)
        if not stream:
            return 200, headers, list(adapter.parse_reply(await response.read(), request.tools))
        parser, decoder = SseParser(), adapter.new_stream_decoder(request.tools)
        deltas: list[StreamDelta] = []
        try:
            async for chunk in response.iter_bytes():
                for event in parser.feed(chunk):
                    deltas.extend(decoder.feed(event))
        except UpstreamReadError:
            pass  # the worker's concern; the decoder must still report the missing end
        deltas.extend(decoder.close())
        return 200, headers, deltas
