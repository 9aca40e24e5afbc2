"""Traffic on both endpoints, streamed and not, while the database fails; then the
check that every answered request has its full trail.

``Load`` runs closed-loop clients that cycle through ``/v1/responses`` and
``/v1/chat/completions``, each streamed and not, and keep every answer (status, request
id, ``Retry-After``, whether the stream or body was complete). ``assert_full_trails``
checks each answer against the trail: ``request.received`` first, a terminal event
last, ``seq`` without gaps, and for a completed answer its whole attempt and a priced
``requests`` row (so its spend is in the trail). ``matrix`` sums the answers up as the
fault-matrix rows of the report.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import trio

from tests.gateway_rig import Trail, auth

COMBOS = (
    ("/v1/responses", False),
    ("/v1/responses", True),
    ("/v1/chat/completions", False),
    ("/v1/chat/completions", True),
)
COMPLETED_KINDS = (
    "request.received",
    "route.decided",
    "attempt.started",
    "attempt.first_byte",
    "attempt.finished",
    "response.completed",
)


@dataclass(frozen=True)
class Answer:
    endpoint: str
    stream: bool
    status: int
    request_id: str | None
    complete: bool  # a 200 whose body or stream ended normally
    retry_after: str | None
    phase: str


@dataclass
class Load:
    client: httpx.AsyncClient
    clients: int = 6
    pause_s: float = 0.02
    """Each client's pause between requests: the gateway runs in this process, and a
    load that saturates the core starves the trail writer's thread of the GIL, so the
    backlog would never drain, whatever the database does."""
    phase: str = "before"
    answers: list[Answer] = field(default_factory=list)
    transport_errors: int = 0
    _stop: trio.Event = field(default_factory=trio.Event)

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        async with trio.open_nursery() as nursery:
            for n in range(self.clients):
                nursery.start_soon(self._client, n)

    def answered(self, phase: str | None = None, status: int | None = None) -> list[Answer]:
        return [
            a
            for a in self.answers
            if (phase is None or a.phase == phase) and (status is None or a.status == status)
        ]

    async def _client(self, n: int) -> None:
        for endpoint, stream in itertools.islice(itertools.cycle(COMBOS), n, None):
            if self._stop.is_set():
                return
            try:
                answer = await self._one(endpoint, stream)
                self.answers.append(answer)
                if answer.retry_after is not None:  # as Codex does, within reason
                    await trio.sleep(min(1.0, float(answer.retry_after)))
                await trio.sleep(self.pause_s)
            except httpx.TransportError:
                self.transport_errors += 1
                await trio.sleep(0.05)

    async def _one(self, endpoint: str, stream: bool) -> Answer:
        phase = self.phase
        body = _body(endpoint, stream)
        async with self.client.stream("POST", endpoint, json=body, headers=auth()) as response:
            text = (await response.aread()).decode()
        complete = response.status_code == 200 and _complete(endpoint, stream, text)
        return Answer(
            endpoint=endpoint,
            stream=stream,
            status=response.status_code,
            request_id=response.headers.get("x-request-id"),
            complete=complete,
            retry_after=response.headers.get("retry-after"),
            phase=phase,
        )


def _body(endpoint: str, stream: bool) -> dict[str, Any]:
    if endpoint == "/v1/responses":
        return {"model": "gpt-5.5", "input": "tell me something", "stream": stream}
    messages = [{"role": "user", "content": "tell me something"}]
    return {"model": "gpt-5.5", "messages": messages, "stream": stream}


def _complete(endpoint: str, stream: bool, text: str) -> bool:
    if not stream:
        return '"error"' not in text[:20]
    if endpoint == "/v1/responses":
        return "response.completed" in text
    return text.rstrip().endswith("data: [DONE]") and '"error"' not in text


Kinds = Callable[[str], list[tuple[int, str]]]
"""``request_id`` → its events' ``(seq, kind)`` in ``seq`` order."""
RequestRow = Callable[[str], dict[str, Any] | None]


def sqlite_checks(trail: Trail) -> tuple[Kinds, RequestRow]:
    """``Kinds`` and ``RequestRow`` over a SQLite trail file."""

    def kinds(request_id: str) -> list[tuple[int, str]]:
        sql = "SELECT seq, kind FROM events WHERE request_id = ? ORDER BY seq"
        return [(row["seq"], row["kind"]) for row in trail.rows(sql, request_id)]

    def request_row(request_id: str) -> dict[str, Any] | None:
        rows = trail.rows("SELECT * FROM requests WHERE request_id = ?", request_id)
        return dict(rows[0]) if rows else None

    return kinds, request_row


def assert_full_trails(answers: Sequence[Answer], kinds: Kinds, request_row: RequestRow) -> None:
    assert answers, "no request was answered"
    for answer in answers:
        assert answer.request_id is not None, answer
        events = kinds(answer.request_id)
        assert [seq for seq, _ in events] == list(range(1, len(events) + 1)), (answer, events)
        names = [kind for _, kind in events]
        assert names and names[0] == "request.received", (answer, names)
        assert names[-1] in ("response.completed", "response.failed"), (answer, names)
        row = request_row(answer.request_id)
        assert row is not None, answer
        if answer.complete:
            assert names == list(COMPLETED_KINDS), (answer, names)
            assert row["status"] == "completed", (answer, row)
            assert row["cost_usd"] is not None and row["cost_usd"] > 0, (answer, row)
        else:
            assert row["status"] == "failed", (answer, row)


def assert_sheds_say_when(answers: Sequence[Answer]) -> None:
    for answer in answers:
        if answer.status == 503:
            assert answer.retry_after is not None and int(answer.retry_after) >= 1, answer


def matrix(answers: Sequence[Answer]) -> list[str]:
    """``endpoint stream phase: status x count …`` lines, for the report."""
    rows: dict[tuple[str, bool, str], Counter[str]] = {}
    for a in answers:
        label = f"{a.status}{'' if a.complete or a.status != 200 else ' (cut)'}"
        rows.setdefault((a.endpoint, a.stream, a.phase), Counter())[label] += 1
    return [
        f"{endpoint} {'stream' if stream else 'non-stream'} {phase}: "
        + ", ".join(f"{label} x{count}" for label, count in sorted(counts.items()))
        for (endpoint, stream, phase), counts in sorted(rows.items())
    ]


async def wait_caught_up(
    statistics: Callable[[], Any], *, backlog: int = 0, limit_s: float = 60.0
) -> None:
    """Until the database is fine and the audit logger's backlog is down to ``backlog``
    (0 once the load has stopped; under load, below the ingress's shedding mark)."""
    with trio.fail_after(limit_s):
        while True:
            stats = statistics()
            if stats.pending <= backlog and stats.database_ok:
                return
            await trio.sleep(0.05)
