"""Shared by the Anthropic adapter tests: fixtures, SSE replay, and a fold of the deltas."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from messages.chat import (
    ChatRequest,
    Finish,
    FinishReason,
    Message,
    Reasoning,
    ReasoningDelta,
    ReasoningDone,
    Role,
    StreamDelta,
    StreamFailure,
    TextDelta,
    TextPart,
    ToolCall,
    ToolCallArgs,
    ToolCallStart,
    ToolKind,
    ToolSpec,
    UsageReport,
)
from messages.usage import Usage
from providers.adapter import CallTarget
from providers.anthropic.adapter import ADAPTER
from providers.sse import SseEvent, SseParser

FIXTURES = Path(__file__).parent / "fixtures" / "anthropic"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> object:
    return json.loads(fixture_bytes(name))


def sse_of(raw: bytes) -> list[SseEvent]:
    """All events of a recorded body (some recordings lost the final blank line)."""
    parser = SseParser()
    events = parser.feed(raw if raw.endswith(b"\n\n") else raw + b"\n\n")
    assert parser.pending().strip() == b""
    return events


def fixture_events(name: str) -> list[SseEvent]:
    """A recorded stream as SSE events (``.chunks.jsonl`` rebuilt with ``event:`` lines)."""
    raw = fixture_bytes(name)
    if name.endswith(".chunks.jsonl"):
        lines = [line for line in raw.decode().splitlines() if line.strip()]
        raw = "".join(f"event: {json.loads(line)['type']}\ndata: {line}\n\n" for line in lines)
        raw = raw.encode()
    return sse_of(raw)


def decode_events(
    events: Iterable[SseEvent], tools: Sequence[ToolSpec] = (), *, close: bool = True
) -> list[StreamDelta]:
    decoder = ADAPTER.new_stream_decoder(tools)
    deltas: list[StreamDelta] = []
    for event in events:
        deltas.extend(decoder.feed(event))
    if close:
        deltas.extend(decoder.close())
    return deltas


@dataclass
class ToolCallSeen:
    id: str
    name: str
    kind: str
    namespace: str | None
    fragments: list[str] = field(default_factory=list)

    @property
    def arguments(self) -> str:
        return "".join(self.fragments)


@dataclass
class Folded:
    """What a client encoder would assemble from the deltas."""

    text: str = ""
    reasoning_text: str = ""
    reasoning_done: list[ReasoningDone] = field(default_factory=list)
    calls: list[ToolCallSeen] = field(default_factory=list)
    finish: list[FinishReason] = field(default_factory=list)
    usage: Usage | None = None
    failures: list[StreamFailure] = field(default_factory=list)


def fold(deltas: Sequence[StreamDelta]) -> Folded:
    out = Folded()
    for delta in deltas:
        match delta:
            case TextDelta(text=text):
                out.text += text
            case ReasoningDelta(text=text):
                out.reasoning_text += text
            case ReasoningDone():
                out.reasoning_done.append(delta)
            case ToolCallStart(index=index, id=call_id, name=name, kind=kind, namespace=ns):
                assert index == len(out.calls), "tool call indexes count tool calls only"
                out.calls.append(ToolCallSeen(id=call_id, name=name, kind=kind, namespace=ns))
            case ToolCallArgs(index=index, fragment=fragment):
                assert fragment, "no empty argument fragments"
                out.calls[index].fragments.append(fragment)
            case Finish(reason=reason):
                out.finish.append(reason)
            case UsageReport(usage=usage):
                out.usage = usage
            case StreamFailure():
                out.failures.append(delta)
    return out


def event(data: object, name: str | None = None) -> SseEvent:
    """An SSE event carrying ``data`` as JSON, named after its ``type`` by default."""
    text = json.dumps(data)
    return SseEvent(
        event=name or (data.get("type") if isinstance(data, dict) else None), data=text, raw=b""
    )


# --- building requests ---------------------------------------------------------------------

WEATHER_SCHEMA = {
    "additionalProperties": False,
    "properties": {
        "location": {"title": "Location", "type": "string"},
        "units": {"enum": ["c", "f"], "title": "Units", "type": "string"},
    },
    "required": ["location", "units"],
    "type": "object",
}
WEATHER = ToolSpec(name="get_weather", parameters=WEATHER_SCHEMA)
APPLY_PATCH = ToolSpec(name="apply_patch", description="Edit files.", kind=ToolKind.CUSTOM)
PATCH = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch\n"


def user(text: str) -> Message:
    return Message(role=Role.USER, content=(TextPart(text=text),))


def tool_result(call_id: str, text: str, kind: ToolKind = ToolKind.FUNCTION) -> Message:
    return Message(
        role=Role.TOOL, tool_call_id=call_id, content=(TextPart(text=text),), tool_kind=kind
    )


def call(call_id: str, arguments: str, name: str = "get_weather", **extra: Any) -> ToolCall:
    return ToolCall(id=call_id, name=name, arguments=arguments, **extra)


def body_of(
    request: ChatRequest,
    model: str = "claude-sonnet-4-5",
    *,
    stream: bool = False,
    prompt_cache: bool = False,
) -> dict[str, Any]:
    """The encoded body; without prompt-cache marks unless asked (they have their own
    tests in ``test_anthropic_cache_marks.py``)."""
    target = CallTarget(
        model=model, api_key="sk-ant-test", stream=stream, prompt_cache=prompt_cache
    )
    http = ADAPTER.build_call(request, target)
    decoded: dict[str, Any] = json.loads(http.body)
    return decoded


def request(*messages: Message, **fields: Any) -> ChatRequest:
    return ChatRequest(model="client-model", messages=messages, **fields)


def codex_like_conversation(**fields: Any) -> ChatRequest:
    return request(
        Message(role=Role.SYSTEM, content=(TextPart(text="You are Codex."),)),
        user("List the files, twice."),
        Message(
            role=Role.ASSISTANT,
            content=(TextPart(text="Running both."),),
            reasoning=(
                Reasoning(provider="openai", text="summary", signature="gAAAA-openai", id="rs_1"),
                Reasoning(provider="anthropic", text="I should run ls.", signature="EvQB-sig"),
            ),
            tool_calls=(
                call("call_1", '{"cmd": "ls"}', "exec_command"),
                call("call_2", "{}", "exec_command"),
            ),
        ),
        tool_result("call_1", "a.txt"),
        tool_result("call_2", "b.txt"),
        tools=(ToolSpec(name="exec_command", parameters={"type": "object"}),),
        **fields,
    )
