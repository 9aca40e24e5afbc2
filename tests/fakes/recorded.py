"""Reading the recordings in ``tests/fakes/recordings`` and the fakes' own SSE bytes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

RECORDINGS = Path(__file__).parent / "recordings"
# fields the live API adds that the fake deliberately leaves out
NOT_FAKED = frozenset({"obfuscation", "billing"})


def load_json(relative: str) -> Any:
    return json.loads((RECORDINGS / relative).read_text())


def responses_streams(relative: str) -> list[list[dict[str, Any]]]:
    """A ``.chunks.jsonl`` file split into streams (a new one at each ``response.created``)."""
    streams: list[list[dict[str, Any]]] = []
    for line in (RECORDINGS / relative).read_text().splitlines():
        if not line.strip():
            continue
        event = json.loads(line)
        if event["type"] == "response.created":
            streams.append([])
        streams[-1].append(event)
    return streams


def sse_events(raw: bytes | str) -> list[tuple[str | None, str]]:
    """``(event name or None, data)`` per server-sent event."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        name = None
        data = []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data.append(line.removeprefix("data: "))
        events.append((name, "\n".join(data)))
    return events


def recorded_chat(relative: str) -> list[str]:
    """The ``data:`` payloads of a recorded Chat ``.sse`` file."""
    return [data for _, data in sse_events((RECORDINGS / relative).read_text())]


def responses_payloads(events: Iterable[bytes]) -> list[dict[str, Any]]:
    """Decode a Responses stream, checking that each ``event:`` name equals the JSON type."""
    payloads = []
    for raw in events:
        [(name, data)] = sse_events(raw)
        payload = json.loads(data)
        assert name == payload["type"]
        payloads.append(payload)
    return payloads


def collapsed_types(events: Iterable[Mapping[str, Any]]) -> list[str]:
    """Event types with runs of the same delta type collapsed to one."""
    types: list[str] = []
    for event in events:
        kind = event["type"]
        if not (types and types[-1] == kind and kind.endswith(".delta")):
            types.append(kind)
    return types


def assert_covers(ours: Any, recorded: Any, where: str = "$") -> None:
    """Every field of ``recorded`` (recursively) exists in ``ours`` with the same JSON kind."""
    if isinstance(recorded, dict):
        assert isinstance(ours, dict), f"{where}: expected an object, got {ours!r}"
        for key, value in recorded.items():
            if key in NOT_FAKED:
                continue
            assert key in ours, f"{where}: missing field {key!r}"
            assert_covers(ours[key], value, f"{where}.{key}")
    elif isinstance(recorded, list):
        assert isinstance(ours, list), f"{where}: expected a list, got {ours!r}"
        if recorded and ours:
            assert_covers(ours[0], recorded[0], f"{where}[0]")
    elif recorded is not None and ours is not None:
        kinds: tuple[type, ...] = (str,)
        if isinstance(recorded, bool):
            kinds = (bool,)
        elif isinstance(recorded, int | float):
            kinds = (int, float)
        assert isinstance(ours, kinds), f"{where}: {ours!r} is not like {recorded!r}"
