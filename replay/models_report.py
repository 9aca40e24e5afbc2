"""``switchyard models``: live traffic per provider and model, from the logged requests.

Per provider and model: requests, error rate by class, latency and TTFB percentiles,
tokens, cost per request and per session (sessions it served at least one turn of),
and for Codex sessions the tool follow-through (``replay.tool_follow``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from replay.report_model import ComparisonReport, ComparisonRow, ModelKey, ReportKind
from replay.tally import Tally
from replay.traffic import LoggedRequest


def models_report(
    logged: Iterable[LoggedRequest],
    tool_counts: Mapping[ModelKey, tuple[int, int]],
    *,
    selection: str,
) -> ComparisonReport:
    overall = Tally()
    tallies: dict[ModelKey, Tally] = {}
    for request in logged:
        key = ModelKey(
            provider=request.provider, provider_type=request.provider_type, model=request.model
        )
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = Tally()
        for target in (tally, overall):
            failure = None if request.status == "completed" else request.error_kind or "unknown"
            tokens = (request.input_tokens, request.cached_input_tokens, request.output_tokens)
            target.add(weight=1.0, error_kind=failure, tokens=tokens, cost_usd=request.cost_usd)
            target.timed(request.latency_ms, request.ttfb_ms)
            target.session(request.session_id)
    rows = [
        ComparisonRow(
            original_model=key,
            replay_model=None,
            original=tally.figures(tool_calls=tool_counts.get(key)),
        )
        for key, tally in tallies.items()
    ]
    rows.sort(key=lambda row: (-row.original.requests, row.label))
    made = sum(made for made, _ in tool_counts.values())
    followed = sum(followed for _, followed in tool_counts.values())
    return ComparisonReport(
        kind=ReportKind.MODELS,
        estimate=False,
        run_id=None,
        selection=selection,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        overall=ComparisonRow(
            original_model=None,
            replay_model=None,
            original=overall.figures(tool_calls=(made, followed) if made else None),
        ),
        rows=tuple(rows),
    )


__all__ = ["models_report"]
