"""Running sums that become one side's ``SideFigures`` (a request may count for a share)."""

from __future__ import annotations

from collections import defaultdict

from replay.report_model import SideFigures, distribution, error_counts


class Tally:
    """Requests added one at a time, each with a weight (1 unless a what-if splits it)."""

    __slots__ = (
        "_cached",
        "_cost",
        "_errors",
        "_input",
        "_latencies",
        "_output",
        "_priced_any",
        "_requests",
        "_sessions",
        "_successes",
        "_ttfbs",
        "_unpriced",
    )

    def __init__(self) -> None:
        self._requests = 0.0
        self._successes = 0.0
        self._errors: defaultdict[str, float] = defaultdict(float)
        self._input = 0.0
        self._cached = 0.0
        self._output = 0.0
        self._cost = 0.0
        self._priced_any = False
        self._unpriced = 0.0
        self._latencies: list[float | None] = []
        self._ttfbs: list[float | None] = []
        self._sessions: set[str] = set()

    def add(
        self,
        *,
        weight: float,
        error_kind: str | None,
        tokens: tuple[float, float, float],
        cost_usd: float | None,
    ) -> None:
        """One request's share: its outcome (``error_kind`` None: a success), its
        ``(input, cached input, output)`` tokens and its cost (None: unpriced)."""
        self._requests += weight
        if error_kind is None:
            self._successes += weight
        else:
            self._errors[error_kind] += weight
        self._input += tokens[0] * weight
        self._cached += tokens[1] * weight
        self._output += tokens[2] * weight
        if cost_usd is None:
            self._unpriced += weight
        else:
            self._cost += cost_usd * weight
            self._priced_any = True

    def timed(self, latency_ms: float | None, ttfb_ms: float | None) -> None:
        self._latencies.append(latency_ms)
        self._ttfbs.append(ttfb_ms)

    def session(self, session_id: str | None) -> None:
        if session_id is not None:
            self._sessions.add(session_id)

    def figures(self, *, tool_calls: tuple[int, int] | None = None) -> SideFigures:
        """The sums; the cost is ``None`` only when nothing added was priced."""
        unknown = self._unpriced > 0 and not self._priced_any
        return SideFigures(
            requests=_whole(self._requests),
            successes=_whole(self._successes),
            errors=error_counts({k: _whole(v) for k, v in self._errors.items()}),
            input_tokens=_whole(self._input),
            cached_input_tokens=_whole(self._cached),
            output_tokens=_whole(self._output),
            cost_usd=None if unknown else self._cost,
            unpriced=_whole(self._unpriced),
            latency=distribution(self._latencies),
            ttfb=distribution(self._ttfbs),
            sessions=len(self._sessions),
            tool_calls=None if tool_calls is None else tool_calls[0],
            tool_calls_followed=None if tool_calls is None else tool_calls[1],
        )


def _whole(value: float) -> float:
    """A sum that is a whole number to within rounding, as that number."""
    rounded = round(value)
    return float(rounded) if abs(value - rounded) < 1e-9 * max(1.0, abs(value)) else value


__all__ = ["Tally"]
