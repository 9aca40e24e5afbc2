"""The provider-neutral conversation: one internal representation every format goes through.

A client request (Responses or Chat Completions) is decoded into a ``ChatRequest``;
a provider module encodes that into its own wire body. On the way back, every provider
reply — streamed or not — is decoded into a sequence of ``StreamDelta`` values, which the
client-format encoder turns into Responses events or Chat chunks (or, for a non-streaming
request, one JSON body assembled from the same deltas). So a provider module only ever
translates between its wire format and these types.

Opaque reasoning state (OpenAI ``encrypted_content``, Anthropic thinking ``signature``,
Gemini ``thoughtSignature``) is carried in ``Reasoning`` tagged with the provider type that
made it; a provider sends back only the blocks it made and drops the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

from messages.errors import ErrorInfo
from messages.json import JsonObject
from messages.usage import Usage, UsageAnomaly


class ClientFormat(StrEnum):
    RESPONSES = "responses"
    CHAT = "chat"
    ANTHROPIC = "anthropic"  # Anthropic's Messages API (Claude Code, the anthropic SDK)


class Role(StrEnum):
    SYSTEM = "system"  # system and developer messages
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"  # a tool's result; ``tool_call_id`` says which call


class ToolKind(StrEnum):
    FUNCTION = "function"  # JSON-schema arguments
    CUSTOM = "custom"  # free-form text input (Codex's apply_patch); emulated where unsupported


class FinishReason(StrEnum):
    STOP = "stop"
    LENGTH = "length"
    TOOL_CALLS = "tool_calls"
    CONTENT_FILTER = "content_filter"


@dataclass(frozen=True, slots=True, kw_only=True)
class TextPart:
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ImagePart:
    """An image by URL: ``https://…`` or a ``data:<mime>;base64,…`` URI."""

    url: str
    detail: str | None = None


ContentPart: TypeAlias = TextPart | ImagePart


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCall:
    """A call the model made. ``arguments`` is a JSON string (function) or raw text (custom)."""

    id: str
    name: str
    arguments: str
    kind: ToolKind = ToolKind.FUNCTION
    namespace: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Reasoning:
    """A reasoning block: readable text (summary or thinking) and the provider's opaque state."""

    provider: str
    text: str = ""
    signature: str | None = None
    id: str | None = None
    redacted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    role: Role
    content: tuple[ContentPart, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    reasoning: tuple[Reasoning, ...] = ()
    tool_call_id: str | None = None  # Role.TOOL: the call this answers
    tool_name: str | None = None  # Role.TOOL: the called tool's name (Gemini pairs by name)
    tool_kind: ToolKind = ToolKind.FUNCTION  # Role.TOOL: answer to a function or a custom call

    @property
    def text(self) -> str:
        return "".join(part.text for part in self.content if isinstance(part, TextPart))


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolSpec:
    name: str
    description: str = ""
    parameters: JsonObject | None = None  # JSON Schema; None for custom tools
    kind: ToolKind = ToolKind.FUNCTION
    namespace: str | None = None  # set when flattened out of a Responses ``namespace`` tool
    strict: bool | None = None


class ToolChoiceMode(StrEnum):
    AUTO = "auto"
    NONE = "none"
    REQUIRED = "required"
    NAMED = "named"


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolChoice:
    mode: ToolChoiceMode = ToolChoiceMode.AUTO
    name: str | None = None  # ToolChoiceMode.NAMED


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatRequest:
    model: str
    messages: tuple[Message, ...]
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    reasoning_effort: str | None = None  # "minimal" | "low" | "medium" | "high"
    reasoning_summary: str | None = None
    stream: bool = False
    dropped: tuple[str, ...] = ()  # what the decoder could not carry (logged, in the trail)


# ---- the reply, as deltas -------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReasoningDelta:
    """Readable reasoning text (a summary or thinking), streamed."""

    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReasoningDone:
    """Closes the current reasoning block, with its opaque state for the round trip."""

    reasoning: Reasoning


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCallStart:
    """A new tool call. ``index`` counts tool calls only (0, 1, …) within the reply."""

    index: int
    id: str
    name: str
    kind: ToolKind = ToolKind.FUNCTION
    namespace: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCallArgs:
    """A fragment of a tool call's arguments, passed through as received."""

    index: int
    fragment: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Finish:
    reason: FinishReason


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageReport:
    """The usage so far; a later report replaces an earlier one. ``anomalies``: counts
    the provider sent that were not believed while reading it (see ``messages.usage``)."""

    usage: Usage
    anomalies: tuple[UsageAnomaly, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamFailure:
    """The provider failed mid-answer (e.g. Anthropic ``event: error``)."""

    error: ErrorInfo


StreamDelta: TypeAlias = (
    TextDelta
    | ReasoningDelta
    | ReasoningDone
    | ToolCallStart
    | ToolCallArgs
    | Finish
    | UsageReport
    | StreamFailure
)

__all__ = [
    "ChatRequest",
    "ClientFormat",
    "ContentPart",
    "Finish",
    "FinishReason",
    "ImagePart",
    "Message",
    "Reasoning",
    "ReasoningDelta",
    "ReasoningDone",
    "Role",
    "StreamDelta",
    "StreamFailure",
    "TextDelta",
    "TextPart",
    "ToolCall",
    "ToolCallArgs",
    "ToolCallStart",
    "ToolChoice",
    "ToolChoiceMode",
    "ToolKind",
    "ToolSpec",
    "UsageReport",
]
