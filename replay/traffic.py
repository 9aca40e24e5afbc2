"""Logged requests as the what-if and models reports read them, and how they are chosen.

``storage.logged_traffic`` fills these from the ``requests`` and ``attempts`` tables;
the reports never see SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class TrafficSelection:
    """Which logged requests a report covers (every condition must hold).

    Replayed requests (``requests.replay_run_id``), requests still in progress and
    requests no provider was tried for are never selected: not live traffic, not
    finished, or nothing any model did.
    """

    since: datetime | None = None
    until: datetime | None = None  # exclusive
    keys: tuple[str, ...] = ()  # virtual key ids
    models: tuple[str, ...] = ()  # the model asked for or the model that served
    sessions: tuple[str, ...] = ()  # Codex session-id (or thread-id)
    limit: int | None = None  # the first N, oldest first

    def describe(self) -> str:
        parts = []
        if self.since is not None:
            parts.append(f"since {self.since:%Y-%m-%d %H:%M} UTC")
        if self.until is not None:
            parts.append(f"until {self.until:%Y-%m-%d %H:%M} UTC")
        for name, values in (("key", self.keys), ("model", self.models)):
            if values:
                parts.append(f"{name} {', '.join(values)}")
        if self.sessions:
            parts.append(f"session {', '.join(self.sessions)}")
        if self.limit is not None:
            parts.append(f"first {self.limit}")
        return "; ".join(parts) or "all logged requests"


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedRequest:
    """One finished live request: who served it, what it used and cost, how it ended."""

    request_id: str
    session_id: str | None
    started_at: str  # UTC, as stored (SQLite: 2026-11-01 10:00:00.000000)
    virtual_key: str | None
    account_id: str | None
    model_requested: str
    provider: str | None  # the provider id that answered last (None: none was reached)
    provider_type: str | None
    model: str | None
    status: str  # completed | failed
    error_kind: str | None
    input_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    output_tokens: int
    reasoning_tokens: int
    cost_usd: float | None
    latency_ms: float | None
    ttfb_ms: float | None  # the last attempt's time to first byte


__all__ = ["LoggedRequest", "TrafficSelection"]
