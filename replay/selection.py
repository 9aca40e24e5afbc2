"""Which logged requests a replay run sends again, and what it needs of each (pure).

``Selection`` is what the command line asked for (``--session``, ``--since``/``--until``,
``--key``, ``--model``, ``--limit``, ``--sample``); ``storage.replay_store`` turns it
into SQL over live requests that reached a provider, oldest first. ``--sample N`` then
draws N of them at random, seeded by the run's id (so the draw is fixed once the run
is created), keeping their order; ``--limit`` caps what is left.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

MAX_SELECTED = 1_000_000
"""No run selects more (``--limit``/``--sample`` above it are refused as absurd)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    sessions: tuple[str, ...] = ()  # Codex session-id, thread-id or x-switchyard-session
    since: datetime | None = None  # UTC, inclusive
    until: datetime | None = None  # UTC, exclusive
    key: str | None = None  # virtual key id
    model: str | None = None  # requested or served model
    limit: int | None = None
    sample: int | None = None

    def describe(self) -> str:
        """The selection in words, for the run's record and the report."""
        parts = [f"session {s}" for s in self.sessions]
        if self.since is not None:
            parts.append(f"since {self.since.isoformat()}")
        if self.until is not None:
            parts.append(f"until {self.until.isoformat()}")
        if self.key is not None:
            parts.append(f"key {self.key}")
        if self.model is not None:
            parts.append(f"model {self.model}")
        if self.sample is not None:
            parts.append(f"sample {self.sample}")
        if self.limit is not None:
            parts.append(f"limit {self.limit}")
        return ", ".join(parts) or "all logged requests"


def narrowed(request_ids: Sequence[str], selection: Selection, *, seed: str) -> list[str]:
    """``--sample`` then ``--limit`` applied to the matching ids (oldest first)."""
    chosen = list(request_ids)
    if selection.sample is not None and selection.sample < len(chosen):
        picked = set(random.Random(seed).sample(range(len(chosen)), selection.sample))
        chosen = [rid for index, rid in enumerate(chosen) if index in picked]
    if selection.limit is not None:
        chosen = chosen[: selection.limit]
    return chosen


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemRef:
    """A selected request still to replay, before its body is read (bodies are read one
    at a time, as each is sent: a run of long Codex sessions would not fit in memory)."""

    position: int
    original_request_id: str
    endpoint: str
    account_id: str | None
    session_id: str | None
    thread_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayItem:
    """One logged request as a replay re-sends it: its endpoint, its body byte for byte,
    and the headers the trail kept (Codex's session and thread, the user agent)."""

    position: int
    original_request_id: str
    endpoint: str
    body: bytes
    account_id: str | None
    session_id: str | None
    thread_id: str | None
    user_agent: str | None


__all__ = ["MAX_SELECTED", "ItemRef", "ReplayItem", "Selection", "narrowed"]
