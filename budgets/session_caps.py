"""Requests per minute per agent session: the cap that stops a runaway agent (Codex loops
without limit when a model keeps calling a tool it lacks: ~690 requests in 40 s seen).

A session is Codex's ``session-id`` header, scoped by the virtual key that sent it (so no
tenant can spend another's allowance by copying its session id). Each session has a
sliding 60-second window of per-second counters (exact to the second): admitting a
request is a dict lookup and a few integer operations. Pure: the caller passes the clock.

Memory is bounded: a session idle for a whole window holds no count and is dropped by a
sweep that runs at most once per window; past ``max_sessions`` live sessions the oldest
is dropped (it starts counting afresh). A session id is cut to ``SESSION_ID_CHARS``.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass

from messages.errors import ErrorInfo, ErrorKind

WINDOW_S = 60
MAX_SESSIONS = 50_000
SESSION_ID_CHARS = 128


SESSION_CAP_CODE = "session_request_cap"
"""The error code of a session-cap refusal."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRefusal:
    """Why a session's request is refused: it sent ``sent`` requests in the last minute."""

    sent: int
    cap: int
    retry_after_s: float  # when enough of the window has aged out to admit one more

    def error(self) -> ErrorInfo:
        """The 429 a client gets (``code`` says it is the session cap, not a provider's)."""
        return ErrorInfo(
            kind=ErrorKind.RATE_LIMITED,
            status=429,
            message=self.message(),
            code=SESSION_CAP_CODE,
            retry_after=float(math.ceil(self.retry_after_s)),
        )

    def message(self) -> str:
        wait = math.ceil(self.retry_after_s)
        return (
            f"this session sent {self.sent} requests in the last minute, the most one session "
            f"may send ({self.cap} per minute): the agent may be stuck in a loop; if it keeps "
            f"looping, stop it and start a new session. Please try again in {wait}s."
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionCapStatistics:
    """For the admin ``/healthz``: sessions counted now, and requests refused so far."""

    sessions: int
    refused: int


class _Window:
    """One session's counts for each of the last ``WINDOW_S`` seconds."""

    __slots__ = ("counts", "second", "total")

    def __init__(self, second: int) -> None:
        self.counts = array("I", bytes(4 * WINDOW_S))
        self.second = second  # the newest second counted
        self.total = 0

    def advance(self, second: int) -> None:
        """Forget the seconds that left the window by ``second``."""
        gap = second - self.second
        if gap <= 0:
            return
        if gap >= WINDOW_S:
            self.counts = array("I", bytes(4 * WINDOW_S))
            self.total = 0
        else:
            for passed in range(self.second + 1, second + 1):
                slot = passed % WINDOW_S
                self.total -= self.counts[slot]
                self.counts[slot] = 0
        self.second = second

    def retry_after(self, now: float) -> float:
        """Seconds until the oldest counted second leaves the window."""
        for passed in range(self.second - WINDOW_S + 1, self.second + 1):
            if self.counts[passed % WINDOW_S]:
                return max(1.0, passed + WINDOW_S - now)
        return 1.0


class SessionCaps:
    def __init__(self, *, max_sessions: int = MAX_SESSIONS) -> None:
        self._windows: dict[tuple[str, str], _Window] = {}
        self._max_sessions = max_sessions
        self._next_sweep = 0.0
        self._refused = 0

    def statistics(self) -> SessionCapStatistics:
        return SessionCapStatistics(sessions=len(self._windows), refused=self._refused)

    def __len__(self) -> int:
        return len(self._windows)

    def admit(self, key_id: str, session_id: str, *, cap: int, now: float) -> SessionRefusal | None:
        """Count one request of the session, or refuse it (uncounted) when the session
        already sent ``cap`` in the last minute. ``cap <= 0``: no cap."""
        if cap <= 0:
            return None
        second = int(now)
        name = (key_id, session_id[:SESSION_ID_CHARS])
        window = self._windows.get(name)
        if window is None:
            self._make_room(now)
            window = self._windows[name] = _Window(second)
        else:
            window.advance(second)
        if window.total >= cap:
            self._refused += 1
            return SessionRefusal(sent=window.total, cap=cap, retry_after_s=window.retry_after(now))
        window.counts[second % WINDOW_S] += 1
        window.total += 1
        return None

    def _make_room(self, now: float) -> None:
        if now >= self._next_sweep:
            self._next_sweep = now + WINDOW_S
            idle_before = int(now) - WINDOW_S
            idle = [name for name, w in self._windows.items() if w.second <= idle_before]
            for name in idle:
                del self._windows[name]
        while len(self._windows) >= self._max_sessions:
            del self._windows[next(iter(self._windows))]


__all__ = [
    "MAX_SESSIONS",
    "SESSION_CAP_CODE",
    "SESSION_ID_CHARS",
    "WINDOW_S",
    "SessionCapStatistics",
    "SessionCaps",
    "SessionRefusal",
]
