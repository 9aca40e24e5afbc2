"""Hostile-upstream faults: turn a well-formed answer into the garbage a broken provider
sends, as real bytes on the wire (see ``fakes.script.Fault``).

- ``garbage`` spoils the whole body, or the stream event at ``garbage_event`` (a Python
  index, so -1 is the terminal event): ``wrong_shape`` replaces every object or array
  at the top of the JSON document by ``5`` (``{"choices": 5}``); ``non_object`` sends
  ``[1, 2, 3]``; ``invalid_utf8`` a document whose string holds ``\\xff``;
  ``truncated_json`` the first half of the document. ``missing_terminal`` (streams
  only) ends the body cleanly without the last event (``[DONE]``, ``message_stop``…).
- ``usage_value`` (raw JSON text such as ``-5``, ``1.5``, ``"x"``, ``true``, ``1e20``,
  ``NaN``) replaces every integer under a key ending in ``tokens`` or ``TokenCount``,
  in the body and in every event.
- ``oversize_bytes`` pads the body, or the first event's data, with spaces (still valid
  JSON) to at least that many bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

import orjson

GARBAGE_KINDS: Final = ("wrong_shape", "non_object", "invalid_utf8", "truncated_json")
_SENTINEL: Final = "__switchyard_fake_usage__"


def spoil_body(body: bytes, *, garbage: str | None, usage_value: str | None, size: int) -> bytes:
    """The non-streamed body with the fault applied."""
    if usage_value is not None:
        body = _replace_usage(body, usage_value)
    if garbage is not None:
        body = _spoil_document(body, garbage)
    if size > len(body):
        body += b" " * (size - len(body))
    return body


def spoil_events(
    events: Sequence[bytes],
    *,
    garbage: str | None,
    garbage_event: int,
    usage_value: str | None,
    size: int,
) -> list[bytes]:
    """The stream's events with the fault applied (each event is ``…data: JSON\\n\\n``)."""
    out = list(events)
    if usage_value is not None:
        out = [_on_data(event, lambda data: _replace_usage(data, usage_value)) for event in out]
    if garbage == "missing_terminal":
        out = out[:-1]
    elif garbage is not None and out:
        index = garbage_event if garbage_event < 0 else min(garbage_event, len(out) - 1)
        out[index] = _on_data(out[index], lambda data: _spoil_document(data, garbage))
    if size and out:
        out[0] = _on_data(out[0], lambda data: data + b" " * max(0, size - len(data)))
    return out


def _on_data(event: bytes, change: Callable[[bytes], bytes]) -> bytes:
    """Apply ``change`` to the JSON after ``data: `` (events whose data is not JSON, such
    as ``[DONE]``, are left alone)."""
    start = event.find(b"data: ")
    if start < 0:
        return event
    start += 6
    end = event.find(b"\n", start)
    end = len(event) if end < 0 else end
    if event[end - 1 : end] == b"\r":
        end -= 1
    data = event[start:end]
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError:
        return event
    return event[:start] + change(data) + event[end:]


def _spoil_document(data: bytes, garbage: str) -> bytes:
    if garbage == "non_object":
        return b"[1, 2, 3]"
    if garbage == "invalid_utf8":
        return b'{"type": "\xff\xfe garbage"}'
    if garbage == "truncated_json":
        return data[: max(1, len(data) // 2)]
    if garbage == "wrong_shape":
        document = orjson.loads(data)
        if isinstance(document, dict):
            shaped = {k: 5 if isinstance(v, dict | list) else v for k, v in document.items()}
            return orjson.dumps(shaped)
        return b"5"
    raise ValueError(f"unknown garbage kind {garbage!r}")


def _replace_usage(data: bytes, raw_value: str) -> bytes:
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        return data
    spoiled = orjson.dumps(_walk(document))
    return spoiled.replace(orjson.dumps(_SENTINEL), raw_value.encode())


def _walk(node: object) -> object:
    if isinstance(node, dict):
        return {
            key: _SENTINEL if _is_count(key, value) else _walk(value) for key, value in node.items()
        }
    if isinstance(node, list):
        return [_walk(item) for item in node]
    return node


def _is_count(key: str, value: object) -> bool:
    counted = key.endswith(("tokens", "TokenCount"))
    return counted and isinstance(value, int) and not isinstance(value, bool)


__all__ = ["GARBAGE_KINDS", "spoil_body", "spoil_events"]
