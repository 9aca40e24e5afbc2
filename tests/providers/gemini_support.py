"""Shared helpers for the Gemini adapter tests: fixtures, stream framing, delta digests."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from messages.chat import (
    ChatRequest,
    Finish,
    Message,
    ReasoningDelta,
    ReasoningDone,
    Role,
    StreamDelta,
    StreamFailure,
    TextDelta,
    TextPart,
    ToolCallArgs,
    ToolCallStart,
    ToolKind,
    ToolSpec,
    UsageReport,
)
from providers.adapter import CallTarget
from providers.gemini.adapter import ADAPTER
from providers.sse import SseParser

FIXTURES = Path(__file__).parent / "fixtures" / "gemini"
MODEL = "gemini-3-pro-preview"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sse_from_jsonl(name: str, *, newline: bytes = b"\r\n") -> bytes:
    """The recorded ``data:`` payloads framed as the wire has them (CRLF by default)."""
    lines = [line.strip() for line in fixture_bytes(name).splitlines() if line.strip()]
    return b"".join(b"data: " + line + newline + newline for line in lines)


def decode_stream(
    raw: bytes, request: ChatRequest | None = None, *, chunk_size: int | None = None
) -> list[StreamDelta]:
    """Feed ``raw`` through the SSE parser and a fresh decoder, then close it."""
    parser = SseParser()
    decoder = ADAPTER.new_stream_decoder(() if request is None else request.tools)
    size = chunk_size or len(raw) or 1
    deltas: list[StreamDelta] = []
    for start in range(0, len(raw), size):
        for event in parser.feed(raw[start : start + size]):
            deltas.extend(decoder.feed(event))
    deltas.extend(decoder.close())
    return deltas


def sse(*documents: object) -> bytes:
    return b"".join(b"data: " + json.dumps(d).encode() + b"\r\n\r\n" for d in documents)


def chunk(
    *parts: Mapping[str, object],
    finish: str | None = None,
    usage: Mapping[str, object] | None = None,
    response_id: str = "resp-1",
) -> dict[str, object]:
    """A ``GenerateContentResponse`` with the given parts."""
    candidate: dict[str, object] = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    document: dict[str, object] = {"candidates": [candidate], "responseId": response_id}
    if usage is not None:
        document["usageMetadata"] = usage
    return document


def kinds(deltas: Iterable[StreamDelta]) -> list[str]:
    return [type(delta).__name__ for delta in deltas]


def text_of(deltas: Iterable[StreamDelta]) -> str:
    return "".join(d.text for d in deltas if isinstance(d, TextDelta))


def reasoning_text(deltas: Iterable[StreamDelta]) -> str:
    return "".join(d.text for d in deltas if isinstance(d, ReasoningDelta))


def starts(deltas: Iterable[StreamDelta]) -> list[ToolCallStart]:
    return [d for d in deltas if isinstance(d, ToolCallStart)]


def arguments(deltas: Sequence[StreamDelta]) -> dict[int, str]:
    """Each call's arguments, fragments joined, by tool-call index."""
    joined: dict[int, str] = {}
    for delta in deltas:
        if isinstance(delta, ToolCallArgs):
            joined[delta.index] = joined.get(delta.index, "") + delta.fragment
    return joined


def dones(deltas: Iterable[StreamDelta]) -> list[ReasoningDone]:
    return [d for d in deltas if isinstance(d, ReasoningDone)]


def finish_of(deltas: Sequence[StreamDelta]) -> Finish:
    finishes = [d for d in deltas if isinstance(d, Finish)]
    assert len(finishes) == 1, deltas
    assert deltas[-1] == finishes[0], "Finish must be the last delta"
    return finishes[0]


def last_usage(deltas: Iterable[StreamDelta]) -> UsageReport:
    reports = [d for d in deltas if isinstance(d, UsageReport)]
    assert reports, "no usage reported"
    return reports[-1]


def failure_of(deltas: Sequence[StreamDelta]) -> StreamFailure:
    assert isinstance(deltas[-1], StreamFailure), deltas
    return deltas[-1]


def codex_tools() -> list[dict[str, object]]:
    tools = json.loads(fixture_bytes("codex-final-check-tools.json"))
    assert isinstance(tools, list)
    return tools


def codex_tool_specs() -> tuple[ToolSpec, ...]:
    """Codex's function and custom tools as the Responses decoder would carry them."""
    specs: list[ToolSpec] = []
    for tool in codex_tools():
        if tool["type"] == "function":
            specs.append(
                ToolSpec(
                    name=str(tool["name"]),
                    description=str(tool["description"]),
                    parameters=tool["parameters"],  # type: ignore[arg-type]
                    strict=bool(tool.get("strict")),
                )
            )
        elif tool["type"] == "custom":
            specs.append(
                ToolSpec(
                    name=str(tool["name"]),
                    description=str(tool["description"]),
                    kind=ToolKind.CUSTOM,
                )
            )
    return tuple(specs)


def body_of(request: ChatRequest, *, model: str = MODEL, stream: bool = False) -> Any:
    """The JSON body the adapter sends (typed loosely, for indexing in assertions)."""
    call = ADAPTER.build_call(request, CallTarget(model=model, api_key="k-secret", stream=stream))
    decoded = json.loads(call.body)
    assert isinstance(decoded, dict)
    return decoded


def user(text: str) -> Message:
    return Message(role=Role.USER, content=(TextPart(text=text),))
