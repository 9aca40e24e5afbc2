"""The comparison report as plain data: what every renderer draws and every command fills.

One ``ComparisonReport`` serves three commands:

``replay``
    logged requests (the *original* side) against the same requests sent again through
    another routing config (the *replay* side), with agreement per request;
``whatif``
    logged requests against the same traffic priced under another mix, no calls made
    (``estimate`` is true, ``estimate_note`` says why; counts on the what-if side may be
    fractional: a request is split between the mix's providers by the router's weights);
``models``
    live traffic per provider and model (the original side only; ``replay`` is ``None``).

Pure data: no trio, no SQL. Latencies become a ``Distribution`` with ``distribution``;
every number is in the units its name says (``_ms``, ``_usd``, ``_tokens``). An unknown
cost (a model with no price) is ``None`` and counted in ``unpriced``, never a silent 0.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

LATENCY_EDGES_MS: tuple[float, ...] = (
    50.0,
    100.0,
    200.0,
    500.0,
    1_000.0,
    2_000.0,
    5_000.0,
    10_000.0,
    20_000.0,
    60_000.0,
)
"""Upper edges of the latency histogram's buckets; one more bucket holds what is above."""


class ReportKind(StrEnum):
    REPLAY = "replay"
    WHATIF = "whatif"
    MODELS = "models"


class Verdict(StrEnum):
    """How a replayed turn's answer compares with the original's."""

    SAME_TOOLS_SAME_ARGS = "same_tools_same_args"  # the same calls, arguments equal as JSON
    SAME_TOOLS_DIFFERENT_ARGS = "same_tools_different_args"  # the same names, other arguments
    DIFFERENT_TOOLS = "different_tools"  # both called tools, not the same ones
    TEXT_VS_TOOL = "text_vs_tool"  # one answered in text where the other called a tool
    BOTH_TEXT = "both_text"  # both answered in text (see ``text_similarity``)
    NOT_COMPARED = "not_compared"  # one side failed or has no answer


@dataclass(frozen=True, slots=True, kw_only=True)
class Distribution:
    """Percentiles and a histogram (``LATENCY_EDGES_MS``) of a set of durations in ms."""

    count: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    buckets: tuple[int, ...] = (0,) * (len(LATENCY_EDGES_MS) + 1)


def distribution(values_ms: Iterable[float | None]) -> Distribution:
    """The distribution of the known, finite, non-negative values (others are left out)."""
    known = sorted(v for v in values_ms if v is not None and math.isfinite(v) and v >= 0)
    if not known:
        return Distribution()
    buckets = [0] * (len(LATENCY_EDGES_MS) + 1)
    for value in known:
        buckets[_bucket(value)] += 1
    return Distribution(
        count=len(known),
        p50_ms=percentile(known, 0.50),
        p95_ms=percentile(known, 0.95),
        buckets=tuple(buckets),
    )


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile of an ascending sequence (``None`` if empty)."""
    if not ordered:
        return None
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _bucket(value_ms: float) -> int:
    """The first bucket whose upper edge is at or above the value."""
    return bisect_left(LATENCY_EDGES_MS, value_ms)


@dataclass(frozen=True, slots=True, kw_only=True)
class SideFigures:
    """One side (original or replay) of one row: a model's requests, or all of them.

    ``requests``, ``successes`` and the token counts are whole numbers except on a
    what-if side, where a request is shared between a mix's providers by weight.
    ``errors`` counts failed requests by ``messages.errors.ErrorKind`` value, sorted.
    ``tool_calls``/``tool_calls_followed`` are for ``models``: calls a Codex turn made,
    and how many of them the session's next turn answered with a successful result.
    """

    requests: float = 0
    successes: float = 0
    errors: tuple[tuple[str, float], ...] = ()
    input_tokens: float = 0
    cached_input_tokens: float = 0
    output_tokens: float = 0
    cost_usd: float | None = 0.0
    unpriced: float = 0
    latency: Distribution = field(default_factory=Distribution)
    ttfb: Distribution = field(default_factory=Distribution)
    sessions: int = 0
    tool_calls: int | None = None
    tool_calls_followed: int | None = None

    @property
    def failures(self) -> float:
        return sum(count for _, count in self.errors)

    @property
    def success_rate(self) -> float | None:
        return None if self.requests <= 0 else self.successes / self.requests

    @property
    def error_rate(self) -> float | None:
        return None if self.requests <= 0 else self.failures / self.requests

    def error_rates(self) -> dict[str, float]:
        """Each error class's share of the requests."""
        if self.requests <= 0:
            return {}
        return {kind: count / self.requests for kind, count in self.errors}

    @property
    def cost_per_request_usd(self) -> float | None:
        if self.cost_usd is None or self.requests <= 0:
            return None
        return self.cost_usd / self.requests

    @property
    def cost_per_session_usd(self) -> float | None:
        if self.cost_usd is None or self.sessions <= 0:
            return None
        return self.cost_usd / self.sessions

    @property
    def tool_follow_rate(self) -> float | None:
        if not self.tool_calls or self.tool_calls_followed is None:
            return None
        return self.tool_calls_followed / self.tool_calls


def error_counts(kinds: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
    """``SideFigures.errors`` from a mapping of error class to count (zeros dropped)."""
    return tuple(sorted((kind, count) for kind, count in kinds.items() if count))


@dataclass(frozen=True, slots=True, kw_only=True)
class Agreement:
    """How the replayed turns' answers compare with the originals' (replay only)."""

    same_tools_same_args: int = 0
    same_tools_different_args: int = 0
    different_tools: int = 0
    text_vs_tool: int = 0
    both_text: int = 0
    not_compared: int = 0
    text_similarity_mean: float | None = None  # over ``both_text``, in [0, 1]

    @property
    def compared(self) -> int:
        return (
            self.same_tools_same_args
            + self.same_tools_different_args
            + self.different_tools
            + self.text_vs_tool
            + self.both_text
        )

    def counts(self) -> dict[Verdict, int]:
        return {
            Verdict.SAME_TOOLS_SAME_ARGS: self.same_tools_same_args,
            Verdict.SAME_TOOLS_DIFFERENT_ARGS: self.same_tools_different_args,
            Verdict.DIFFERENT_TOOLS: self.different_tools,
            Verdict.TEXT_VS_TOOL: self.text_vs_tool,
            Verdict.BOTH_TEXT: self.both_text,
            Verdict.NOT_COMPARED: self.not_compared,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelKey:
    """Who served (or would serve) a request: the provider's id, its type, the model."""

    provider: str | None
    provider_type: str | None = None
    model: str | None

    @property
    def label(self) -> str:
        return f"{self.provider or '-'}/{self.model or '-'}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ComparisonRow:
    """One line of the report: the requests one original model served (``original_model``)
    that one other model served on replay (``replay_model``); both ``None`` on the
    overall row. ``replay`` is ``None`` in a ``models`` report."""

    original_model: ModelKey | None
    replay_model: ModelKey | None
    original: SideFigures
    replay: SideFigures | None = None
    agreement: Agreement | None = None

    @property
    def label(self) -> str:
        if self.original_model is None and self.replay_model is None:
            return "overall"
        first = self.original_model.label if self.original_model else "*"
        if self.replay is None:
            return first
        return f"{first} -> {self.replay_model.label if self.replay_model else '*'}"

    @property
    def cost_difference_usd(self) -> float | None:
        """Replay minus original (negative: the replay is cheaper); ``None`` if unknown."""
        if self.replay is None or self.replay.cost_usd is None or self.original.cost_usd is None:
            return None
        return self.replay.cost_usd - self.original.cost_usd


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestSide:
    """One request on one side: who served it, how it ended, what it used and cost."""

    model: ModelKey | None
    status: str  # completed | failed | in_progress | missing
    error_kind: str | None = None
    input_tokens: float = 0
    cached_input_tokens: float = 0
    output_tokens: float = 0
    cost_usd: float | None = None
    latency_ms: float | None = None
    ttfb_ms: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestRow:
    """One logged request and its counterpart (``replay`` is ``None`` until replayed)."""

    request_id: str
    session_id: str | None
    started_at: str | None  # ISO 8601, UTC
    original: RequestSide
    replay: RequestSide | None = None
    replay_request_id: str | None = None
    verdict: Verdict | None = None
    text_similarity: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ComparisonReport:
    """A whole report: what was compared, the overall row, one row per model pair, and
    (optionally) one row per request."""

    kind: ReportKind
    estimate: bool
    run_id: str | None  # the replay run; None for whatif and models
    selection: str  # the selection in words, e.g. "since 2026-12-01, model gpt-5.5, 40 requests"
    generated_at: str  # ISO 8601, UTC
    overall: ComparisonRow
    rows: tuple[ComparisonRow, ...] = ()
    requests: tuple[RequestRow, ...] = ()
    estimate_note: str | None = None  # why the figures are an estimate, in words
    original_config: str | None = None  # the config files compared, as given
    replay_config: str | None = None

    @property
    def cost_difference_usd(self) -> float | None:
        return self.overall.cost_difference_usd


__all__ = [
    "LATENCY_EDGES_MS",
    "Agreement",
    "ComparisonReport",
    "ComparisonRow",
    "Distribution",
    "ModelKey",
    "ReportKind",
    "RequestRow",
    "RequestSide",
    "SideFigures",
    "Verdict",
    "distribution",
    "error_counts",
    "percentile",
]
