"""``GenerateContentResponse`` documents → ``StreamDelta`` values.

A streamed reply is a series of whole responses, each holding only the new parts; a
non-streamed reply is one response with all of them. ``ReplyDecoder`` takes either,
one document at a time, and keeps what spans documents:

- thought parts (``thought: true``) stream as ``ReasoningDelta``; the run closes with a
  ``ReasoningDone`` when another part arrives. A ``thoughtSignature`` on a call becomes
  its own ``ReasoningDone(Reasoning(provider="gemini", signature=…, id=<call id>))``
  placed BEFORE that call's ``ToolCallStart``, so the next request can put it back on
  the same part; on text (or a thought) it closes the run with ``id=None``.
- a ``functionCall`` arrives whole: one ``ToolCallStart`` and one ``ToolCallArgs`` with
  the whole JSON (``"{}"`` without args; the unwrapped text for an emulated custom tool).
  Gemini 3 on Vertex may stream a call instead (``willContinue``, then ``partialArgs``
  with ``jsonPath`` + ``stringValue``/``numberValue``/``boolValue``/``nullValue``, then
  an empty ``functionCall``): the start goes out at once, the arguments are assembled and
  go out when the call ends. Paths are ``$.a.b[0]``-style; others are ignored.
- ``finishReason``: STOP (and unknown reasons) → stop, or tool_calls when a call was
  made; MAX_TOKENS → length; SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII,
  IMAGE_SAFETY → content_filter; MALFORMED_FUNCTION_CALL → ``StreamFailure``
  (protocol). No candidates and a ``promptFeedback.blockReason`` → content_filter.
- ``usageMetadata``, latest wins, reported once before the finish: input =
  ``promptTokenCount`` (cached included) + ``toolUsePromptTokenCount``; cached =
  ``cachedContentTokenCount``; output = ``candidatesTokenCount`` + ``thoughtsTokenCount``;
  reasoning = ``thoughtsTokenCount``.
- a ``{"error": …}`` document (an error after HTTP 200) → ``StreamFailure``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence

import orjson

from messages.chat import (
    Finish,
    FinishReason,
    Reasoning,
    ReasoningDelta,
    ReasoningDone,
    StreamDelta,
    StreamFailure,
    TextDelta,
    ToolCallArgs,
    ToolCallStart,
    ToolKind,
    UsageReport,
)
from messages.errors import ErrorInfo, ErrorKind
from messages.usage import Usage, UsageAnomaly, note_anomaly, token_count
from providers._tool_wire import ToolTable, WireTool, unwrap_custom
from providers.gemini._call_ids import mint_call_id
from providers.gemini._errors import rpc_error

PROVIDER = "gemini"
_FILTERED = frozenset(
    {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"}
)
_MAX_INDEX_DIGITS = 4
_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


def protocol_failure(message: str) -> StreamFailure:
    return StreamFailure(error=ErrorInfo(kind=ErrorKind.PROTOCOL, status=502, message=message))


class _OpenCall:
    """A call whose arguments Gemini streams as ``partialArgs``."""

    __slots__ = ("args", "index", "tool")

    def __init__(self, index: int, tool: WireTool, args: Mapping[str, object]) -> None:
        self.index = index
        self.tool = tool
        self.args: dict[str, object] = dict(args)

    def apply(self, partial: Mapping[str, object]) -> None:
        steps = _path_steps(partial.get("jsonPath"))
        if not steps:
            return
        if "stringValue" in partial:
            before = _get(self.args, steps)
            value: object = (before if isinstance(before, str) else "") + str(
                partial["stringValue"]
            )
        elif "numberValue" in partial:
            value = partial["numberValue"]
        elif "boolValue" in partial:
            value = partial["boolValue"]
        elif "nullValue" in partial:
            value = None
        else:
            return
        _set(self.args, steps, value)


class ReplyDecoder:
    """Decodes one reply, a document at a time; ``end`` says how the reply ended."""

    __slots__ = (
        "_anomalies",
        "_calls",
        "_finished",
        "_open",
        "_salt",
        "_thought",
        "_tools",
        "_usage",
    )

    def __init__(self, tools: ToolTable) -> None:
        self._tools = tools
        self._salt: str | None = None
        self._calls = 0
        self._thought: list[str] = []
        self._open: _OpenCall | None = None
        self._usage: Usage | None = None
        self._anomalies: list[UsageAnomaly] = []
        self._finished = False

    def unreadable(self, what: str) -> list[StreamDelta]:
        """Something that is not a response document: the reply fails and ends here."""
        if self._finished:
            return []
        self._finished = True
        return [protocol_failure(f"Gemini sent {what}")]

    def document(self, doc: object) -> list[StreamDelta]:
        if not isinstance(doc, Mapping):
            return self.unreadable("a document that is not a JSON object")
        error = doc.get("error")
        if isinstance(error, Mapping):
            self._finished = True
            return [StreamFailure(error=rpc_error(error))]
        if self._salt is None:
            response_id = doc.get("responseId")
            self._salt = response_id if isinstance(response_id, str) else secrets.token_hex(8)
        fresh_usage = self._take_usage(doc.get("usageMetadata"))
        if self._finished:
            return self._usage_report() if fresh_usage else []
        candidates = doc.get("candidates")
        if candidates is not None and not isinstance(candidates, list):
            return self.unreadable("candidates that are not a list")
        if not candidates:
            return self._blocked(doc.get("promptFeedback"))
        candidate = candidates[0] if isinstance(candidates[0], Mapping) else {}
        deltas: list[StreamDelta] = []
        for part in _parts(candidate):
            deltas.extend(self._part(part))
        reason = candidate.get("finishReason")
        if isinstance(reason, str) and reason:
            deltas.extend(self._finish(reason, candidate.get("finishMessage")))
        return deltas

    def end(self) -> list[StreamDelta]:
        """The body ended: a failure unless a finish reason (or a block) was seen."""
        if self._finished:
            return []
        self._finished = True
        return [
            *self._close_reasoning(None, None),
            *self._close_open_call(),
            *self._usage_report(),
            StreamFailure(
                error=ErrorInfo(
                    kind=ErrorKind.UPSTREAM_ERROR,
                    status=502,
                    message="Gemini's stream ended before a finishReason",
                )
            ),
        ]

    # ---- parts ------------------------------------------------------------------------

    def _part(self, part: Mapping[str, object]) -> list[StreamDelta]:
        signature = part.get("thoughtSignature")
        signature = signature if isinstance(signature, str) and signature else None
        text = part.get("text")
        if part.get("thought") is True:
            deltas: list[StreamDelta] = []
            if isinstance(text, str) and text:
                self._thought.append(text)
                deltas.append(ReasoningDelta(text=text))
            if signature is not None:
                deltas.extend(self._close_reasoning(signature, None))
            return deltas
        call = part.get("functionCall")
        if isinstance(call, Mapping):
            return self._function_call(call, signature)
        deltas = self._close_reasoning(signature, None)
        if isinstance(text, str) and text:
            deltas.append(TextDelta(text=text))
        return deltas

    def _function_call(
        self, call: Mapping[str, object], signature: str | None
    ) -> list[StreamDelta]:
        name = call.get("name")
        if not isinstance(name, str) or not name:
            return self._continue_call(call)
        deltas = self._close_open_call()
        index = self._calls
        self._calls += 1
        given_id = call.get("id")
        call_id = given_id if isinstance(given_id, str) and given_id else None
        call_id = call_id or mint_call_id(self._salt or "", index, name)
        tool = self._tools.resolve(name)
        deltas.extend(self._close_reasoning(signature, call_id))
        deltas.append(
            ToolCallStart(
                index=index, id=call_id, name=tool.name, kind=tool.kind, namespace=tool.namespace
            )
        )
        args = _mapping(call.get("args"))
        if call.get("willContinue") is True:
            self._open = _OpenCall(index, tool, args)
            for partial in _list(call.get("partialArgs")):
                self._open.apply(_mapping(partial))
        else:
            deltas.append(ToolCallArgs(index=index, fragment=_arguments(tool, args)))
        return deltas

    def _continue_call(self, call: Mapping[str, object]) -> list[StreamDelta]:
        """A nameless ``functionCall``: more of the open call, or (empty) its end."""
        if self._open is None:
            return []
        for partial in _list(call.get("partialArgs")):
            self._open.apply(_mapping(partial))
        if call.get("willContinue") is True:
            return []
        return self._close_open_call()

    def _close_open_call(self) -> list[StreamDelta]:
        open_call, self._open = self._open, None
        if open_call is None:
            return []
        fragment = _arguments(open_call.tool, open_call.args)
        return [ToolCallArgs(index=open_call.index, fragment=fragment)]

    def _close_reasoning(self, signature: str | None, call_id: str | None) -> list[StreamDelta]:
        """Close the thought run; a call's signature gets a block of its own.

        A call's block carries nothing but the signature and the call id, so a client
        format that names reasoning items after ``Reasoning.id`` (Responses) hands the id
        back with the signature, whatever thought text streamed before.
        """
        text = "".join(self._thought)
        self._thought = []
        deltas: list[StreamDelta] = []
        if text and (call_id is None or signature is None):
            reasoning = Reasoning(provider=PROVIDER, text=text, signature=signature)
            return [ReasoningDone(reasoning=reasoning)]
        if text:
            deltas.append(ReasoningDone(reasoning=Reasoning(provider=PROVIDER, text=text)))
        if signature is not None:
            reasoning = Reasoning(provider=PROVIDER, signature=signature, id=call_id)
            deltas.append(ReasoningDone(reasoning=reasoning))
        return deltas

    # ---- the end ------------------------------------------------------------------------

    def _finish(self, reason: str, message: object) -> list[StreamDelta]:
        self._finished = True
        deltas = [*self._close_reasoning(None, None), *self._close_open_call()]
        deltas.extend(self._usage_report())
        if reason == "MALFORMED_FUNCTION_CALL":
            detail = message if isinstance(message, str) and message else reason
            deltas.append(protocol_failure(f"Gemini produced a malformed function call: {detail}"))
            return deltas
        deltas.append(Finish(reason=self._finish_reason(reason)))
        return deltas

    def _finish_reason(self, reason: str) -> FinishReason:
        if reason == "MAX_TOKENS":
            return FinishReason.LENGTH
        if reason in _FILTERED:
            return FinishReason.CONTENT_FILTER
        return FinishReason.TOOL_CALLS if self._calls else FinishReason.STOP

    def _blocked(self, feedback: object) -> list[StreamDelta]:
        if not isinstance(feedback, Mapping) or not feedback.get("blockReason"):
            return []
        self._finished = True
        return [*self._usage_report(), Finish(reason=FinishReason.CONTENT_FILTER)]

    def _take_usage(self, metadata: object) -> bool:
        """Keep the counts of a ``usageMetadata``, range-checked; False when it has none."""
        if not isinstance(metadata, Mapping):
            if metadata is not None:
                note_anomaly(self._anomalies, "usageMetadata", metadata)
            return False
        if not any(key.endswith("TokenCount") for key in metadata):
            return False
        count = self._count
        thoughts = count(metadata, "thoughtsTokenCount")
        self._usage = Usage(
            input_tokens=count(metadata, "promptTokenCount")
            + count(metadata, "toolUsePromptTokenCount"),
            cached_input_tokens=count(metadata, "cachedContentTokenCount"),
            output_tokens=count(metadata, "candidatesTokenCount") + thoughts,
            reasoning_tokens=thoughts,
        )
        return True

    def _count(self, metadata: Mapping[str, object], key: str) -> int:
        return token_count(metadata.get(key), key, self._anomalies) or 0

    def _usage_report(self) -> list[StreamDelta]:
        if self._usage is None and not self._anomalies:
            return []
        usage = self._usage or Usage()
        return [UsageReport(usage=usage, anomalies=tuple(self._anomalies))]


def _arguments(tool: WireTool, args: Mapping[str, object]) -> str:
    text = orjson.dumps(args).decode()
    return unwrap_custom(text) if tool.kind is ToolKind.CUSTOM else text


def _parts(candidate: Mapping[str, object]) -> list[Mapping[str, object]]:
    parts = _mapping(candidate.get("content")).get("parts")
    return [part for part in _list(parts) if isinstance(part, Mapping)]


def _path_steps(path: object) -> list[str | int]:
    if not isinstance(path, str) or not path.startswith("$"):
        return []
    steps: list[str | int] = []
    position = 1
    for match in _PATH_STEP.finditer(path, 1):
        if match.start() != position:
            return []
        if match.group(1) is None and len(match.group(2)) > _MAX_INDEX_DIGITS:
            return []  # an array index no real arguments reach (it would allocate the gap)
        steps.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    return steps if position == len(path) else []


def _get(root: object, steps: Sequence[str | int]) -> object:
    node = root
    for step in steps:
        if isinstance(step, str) and isinstance(node, dict):
            node = node.get(step)
        elif isinstance(step, int) and isinstance(node, list) and step < len(node):
            node = node[step]
        else:
            return None
    return node


def _set(root: dict[str, object], steps: Sequence[str | int], value: object) -> None:
    node: object = root
    for step, following in zip(steps, [*steps[1:], None], strict=True):
        leaf = following is None
        fresh: object = value if leaf else ({} if isinstance(following, str) else [])
        if isinstance(step, str) and isinstance(node, dict):
            if leaf or not isinstance(node.get(step), dict | list):
                node[step] = fresh
            node = node[step]
        elif isinstance(step, int) and isinstance(node, list):
            node.extend([None] * (step + 1 - len(node)))
            if leaf or not isinstance(node[step], dict | list):
                node[step] = fresh
            node = node[step]
        else:
            return


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> Sequence[object]:
    return value if isinstance(value, list) else ()


__all__ = ["PROVIDER", "ReplyDecoder", "protocol_failure"]
