"""The scripting model of the fake providers: what a fake answers, and how it fails.

A test describes each upstream answer as a ``Turn``: a ``Reply`` (the model's
output items, token usage and finish reason), a ``Fault`` (an HTTP error, a hang,
a reset, a cut stream, an in-stream failure) or both. Every value here is
provider-neutral; the ``*_wire`` modules turn a ``Reply`` into one format's bytes.

Usage formula (used whenever ``Reply.usage`` is ``None``, so tests can predict it):

- ``input_tokens = len(request body bytes) // 4``; ``cached_tokens = 0``
- ``reasoning_tokens = total characters of the Reasoning summaries // 4``
- ``output_tokens = total characters of Text.text, FunctionCall.arguments and
  CustomToolCall.input // 4 + reasoning_tokens`` (counted on the reply as
  scripted, before any ``finish="length"`` cut).

The JSON form (``POST /_fake/script``) mirrors the dataclasses field by field::

    {"reply": {"items": [{"type": "text", "text": "hi"},
                         {"type": "function_call", "name": "f", "arguments": "{}",
                          "call_id": null},
                         {"type": "custom_tool_call", "name": "apply_patch", "input": "…"},
                         {"type": "reasoning", "summary": "…", "encrypted_content": null}],
               "usage": {"input_tokens": 1, "cached_tokens": 0, "output_tokens": 2,
                         "reasoning_tokens": 0},
               "finish": "stop"},
     "fault": {"status": 429, "retry_after": "1", "error_type": null, "error_code": null,
               "error_message": null, "hang_before_headers_s": 0, "hang_after_events": null,
               "reset_before_response": false, "cut_after_events": null,
               "failed_event": ["server_error", "boom"], "delay_between_events_s": 0,
               "close_before_response": false, "garbage": null, "garbage_event": 0,
               "usage_value": null, "oversize_bytes": 0}}

Every key is optional except each item's ``type`` and its text-carrying field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Literal, TypeAlias

Finish: TypeAlias = Literal["stop", "length"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Text:
    """An assistant message with one text part."""

    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionCall:
    """A function tool call; ``arguments`` is a JSON string. ``call_id`` is minted if None."""

    name: str
    arguments: str
    call_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomToolCall:
    """A freeform (``custom``) tool call such as Codex's ``apply_patch``."""

    name: str
    input: str
    call_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Reasoning:
    """A reasoning item: a summary text and an opaque ``encrypted_content``."""

    summary: str
    encrypted_content: str | None = None


Item: TypeAlias = Text | FunctionCall | CustomToolCall | Reasoning


@dataclass(frozen=True, slots=True, kw_only=True)
class FakeUsage:
    """Token counts in OpenAI's arithmetic: cached (read from a prompt cache) and
    cache_write (written to one) ⊂ input, reasoning ⊂ output."""

    input_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """One model answer. ``usage=None`` means "computed by the formula in this module"."""

    items: tuple[Item, ...]
    usage: FakeUsage | None = None
    finish: Finish = "stop"


@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    """How an answer goes wrong. Fields combine; unset fields do nothing.

    - ``status``: answer with this HTTP status and the format's error body
      (``error_type``/``error_code``/``error_message`` override the defaults),
      plus a ``Retry-After: retry_after`` header when given.
    - ``hang_before_headers_s``: wait this long before sending anything.
    - ``reset_before_response``: close the connection (RST) without answering.
    - ``hang_after_events``: send N stream events, then stall until the client leaves.
    - ``cut_after_events``: send N stream events, then close without the terminal one.
    - ``failed_event``: ``(code, message)``; the stream ends with the format's
      in-stream failure instead of its normal terminal event.
    - ``delay_between_events_s``: pause between stream events.
    - ``close_before_response``: read the request, then close (FIN) without answering.
    - ``garbage`` (``wrong_shape``, ``non_object``, ``invalid_utf8``, ``truncated_json``)
      spoils the body or the stream event at index ``garbage_event``; ``usage_value``
      (raw JSON such as ``-5`` or ``1e20``) replaces every token count;
      ``oversize_bytes`` pads the body or the first event to that size
      (see ``fakes.spoil``).

    A non-streamed body counts as one event.
    """

    status: int | None = None
    retry_after: str | None = None
    error_type: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    hang_before_headers_s: float = 0.0
    hang_after_events: int | None = None
    reset_before_response: bool = False
    cut_after_events: int | None = None
    failed_event: tuple[str, str] | None = None
    delay_between_events_s: float = 0.0
    close_before_response: bool = False
    garbage: str | None = None
    garbage_event: int = 0
    usage_value: str | None = None
    oversize_bytes: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Turn:
    """One scripted answer. Without a reply (and without ``fault.status``) the
    server's default behaviour supplies the reply."""

    reply: Reply | None = None
    fault: Fault | None = None


Scriptable: TypeAlias = Turn | Reply | Fault


class ScriptError(ValueError):
    """A JSON script that does not describe a valid turn."""


def as_turn(step: Scriptable) -> Turn:
    """Normalise what ``enqueue`` accepts into a ``Turn``."""
    match step:
        case Turn():
            return step
        case Reply():
            return Turn(reply=step)
        case Fault():
            return Turn(fault=step)


def computed_usage(reply: Reply, *, request_bytes: int) -> FakeUsage:
    """The deterministic usage of the module docstring."""
    visible = 0
    reasoning = 0
    for item in reply.items:
        match item:
            case Text(text=text):
                visible += len(text)
            case FunctionCall(arguments=arguments):
                visible += len(arguments)
            case CustomToolCall(input=freeform):
                visible += len(freeform)
            case Reasoning(summary=summary):
                reasoning += len(summary)
    reasoning_tokens = reasoning // 4
    return FakeUsage(
        input_tokens=request_bytes // 4,
        output_tokens=visible // 4 + reasoning_tokens,
        reasoning_tokens=reasoning_tokens,
    )


def usage_of(reply: Reply, *, request_bytes: int) -> FakeUsage:
    """The reply's own usage if scripted, else the computed one."""
    if reply.usage is not None:
        return reply.usage
    return computed_usage(reply, request_bytes=request_bytes)


# --- JSON form -------------------------------------------------------------------------


def turn_to_json(turn: Turn) -> dict[str, object]:
    """The JSON form of a turn (see the module docstring)."""
    out: dict[str, object] = {}
    if turn.reply is not None:
        out["reply"] = _reply_to_json(turn.reply)
    if turn.fault is not None:
        fault = {f.name: getattr(turn.fault, f.name) for f in fields(Fault)}
        if turn.fault.failed_event is not None:
            fault["failed_event"] = list(turn.fault.failed_event)
        out["fault"] = fault
    return out


def _reply_to_json(reply: Reply) -> dict[str, object]:
    usage = None
    if reply.usage is not None:
        usage = {f.name: getattr(reply.usage, f.name) for f in fields(FakeUsage)}
    return {
        "items": [_item_to_json(item) for item in reply.items],
        "usage": usage,
        "finish": reply.finish,
    }


def _item_to_json(item: Item) -> dict[str, object]:
    match item:
        case Text(text=text):
            return {"type": "text", "text": text}
        case FunctionCall(name=name, arguments=arguments, call_id=call_id):
            return {
                "type": "function_call",
                "name": name,
                "arguments": arguments,
                "call_id": call_id,
            }
        case CustomToolCall(name=name, input=freeform, call_id=call_id):
            return {"type": "custom_tool_call", "name": name, "input": freeform, "call_id": call_id}
        case Reasoning(summary=summary, encrypted_content=encrypted):
            return {"type": "reasoning", "summary": summary, "encrypted_content": encrypted}


def turn_from_json(doc: object) -> Turn:
    """Parse the JSON form of one turn; raises ``ScriptError`` when it is not one."""
    obj = _object(doc, "turn")
    reply = obj.get("reply")
    fault = obj.get("fault")
    return Turn(
        reply=None if reply is None else _reply_from_json(reply),
        fault=None if fault is None else _fault_from_json(fault),
    )


def _reply_from_json(doc: object) -> Reply:
    obj = _object(doc, "reply")
    items = obj.get("items", [])
    if not isinstance(items, list):
        raise ScriptError("reply.items must be a list")
    finish = obj.get("finish", "stop")
    if finish not in ("stop", "length"):
        raise ScriptError(f"reply.finish must be 'stop' or 'length', not {finish!r}")
    usage = obj.get("usage")
    return Reply(
        items=tuple(_item_from_json(item) for item in items),
        usage=None if usage is None else FakeUsage(**_ints(_object(usage, "usage"), FakeUsage)),
        finish="stop" if finish == "stop" else "length",
    )


def _item_from_json(doc: object) -> Item:
    obj = _object(doc, "item")
    match obj.get("type"):
        case "text":
            return Text(text=_str(obj, "text"))
        case "function_call":
            return FunctionCall(
                name=_str(obj, "name"),
                arguments=_str(obj, "arguments"),
                call_id=_opt_str(obj, "call_id"),
            )
        case "custom_tool_call":
            return CustomToolCall(
                name=_str(obj, "name"), input=_str(obj, "input"), call_id=_opt_str(obj, "call_id")
            )
        case "reasoning":
            return Reasoning(
                summary=_str(obj, "summary"), encrypted_content=_opt_str(obj, "encrypted_content")
            )
        case other:
            raise ScriptError(f"unknown item type {other!r}")


def _fault_from_json(doc: object) -> Fault:
    obj = _object(doc, "fault")
    unknown = set(obj) - {f.name for f in fields(Fault)}
    if unknown:
        raise ScriptError(f"unknown fault fields {sorted(unknown)}")
    failed = obj.get("failed_event")
    failed_event = None
    if failed is not None:
        if not (
            isinstance(failed, list)
            and len(failed) == 2
            and all(isinstance(s, str) for s in failed)
        ):
            raise ScriptError("fault.failed_event must be [code, message]")
        failed_event = (str(failed[0]), str(failed[1]))
    return Fault(
        status=_opt_int(obj, "status"),
        retry_after=_opt_str(obj, "retry_after"),
        error_type=_opt_str(obj, "error_type"),
        error_code=_opt_str(obj, "error_code"),
        error_message=_opt_str(obj, "error_message"),
        hang_before_headers_s=_float(obj, "hang_before_headers_s"),
        hang_after_events=_opt_int(obj, "hang_after_events"),
        reset_before_response=obj.get("reset_before_response", False) is True,
        cut_after_events=_opt_int(obj, "cut_after_events"),
        failed_event=failed_event,
        delay_between_events_s=_float(obj, "delay_between_events_s"),
        close_before_response=obj.get("close_before_response", False) is True,
        garbage=_opt_str(obj, "garbage"),
        garbage_event=_opt_int(obj, "garbage_event") or 0,
        usage_value=_opt_str(obj, "usage_value"),
        oversize_bytes=_opt_int(obj, "oversize_bytes") or 0,
    )


def _object(doc: object, what: str) -> Mapping[str, object]:
    if not isinstance(doc, dict):
        raise ScriptError(f"{what} must be a JSON object")
    return doc


def _str(obj: Mapping[str, object], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise ScriptError(f"{key} must be a string")
    return value


def _opt_str(obj: Mapping[str, object], key: str) -> str | None:
    return None if obj.get(key) is None else _str(obj, key)


def _opt_int(obj: Mapping[str, object], key: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ScriptError(f"{key} must be an integer")
    return value


def _float(obj: Mapping[str, object], key: str) -> float:
    value = obj.get(key, 0.0)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ScriptError(f"{key} must be a number")
    return float(value)


def _ints(obj: Mapping[str, object], cls: type[FakeUsage]) -> dict[str, int]:
    names = {f.name for f in fields(cls)}
    if set(obj) - names:
        raise ScriptError(f"unknown usage fields {sorted(set(obj) - names)}")
    return {name: value for name in names if (value := _opt_int(obj, name)) is not None}
