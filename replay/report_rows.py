"""A report's rows as flat records (column name to plain value), for CSV, JSON and tables.

One record per ``ComparisonRow``: the row's models, then each side's figures prefixed
``original_`` or ``replay_``, the cost difference and the agreement counts. One record per
``RequestRow`` likewise. Rates are fractions in [0, 1]; ``None`` means unknown.
"""

from __future__ import annotations

from typing import Any

from replay.report_model import (
    Agreement,
    ComparisonReport,
    ComparisonRow,
    ModelKey,
    RequestRow,
    RequestSide,
    SideFigures,
)

SIDE_FIELDS = (
    "requests",
    "successes",
    "success_rate",
    "error_rate",
    "errors",
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "cost_usd",
    "unpriced",
    "cost_per_request_usd",
    "latency_p50_ms",
    "latency_p95_ms",
    "ttfb_p50_ms",
    "ttfb_p95_ms",
)
MODELS_FIELDS = (
    "sessions",
    "cost_per_session_usd",
    "tool_calls",
    "tool_calls_followed",
    "tool_follow_rate",
)
AGREEMENT_FIELDS = (
    "same_tools_same_args",
    "same_tools_different_args",
    "different_tools",
    "text_vs_tool",
    "both_text",
    "not_compared",
    "text_similarity_mean",
)


def number(value: float) -> float | int:
    """A count as an int when it is whole (a what-if share may not be)."""
    return int(value) if float(value).is_integer() else round(value, 6)


def side_record(figures: SideFigures) -> dict[str, Any]:
    """One side's figures under their plain names (``SIDE_FIELDS`` and ``MODELS_FIELDS``)."""
    return {
        "requests": number(figures.requests),
        "successes": number(figures.successes),
        "success_rate": figures.success_rate,
        "error_rate": figures.error_rate,
        "errors": "; ".join(f"{kind}={number(count)}" for kind, count in figures.errors),
        "input_tokens": number(figures.input_tokens),
        "cached_input_tokens": number(figures.cached_input_tokens),
        "output_tokens": number(figures.output_tokens),
        "cost_usd": figures.cost_usd,
        "unpriced": number(figures.unpriced),
        "cost_per_request_usd": figures.cost_per_request_usd,
        "latency_p50_ms": figures.latency.p50_ms,
        "latency_p95_ms": figures.latency.p95_ms,
        "ttfb_p50_ms": figures.ttfb.p50_ms,
        "ttfb_p95_ms": figures.ttfb.p95_ms,
        "sessions": figures.sessions,
        "cost_per_session_usd": figures.cost_per_session_usd,
        "tool_calls": figures.tool_calls,
        "tool_calls_followed": figures.tool_calls_followed,
        "tool_follow_rate": figures.tool_follow_rate,
    }


def agreement_record(agreement: Agreement | None) -> dict[str, Any]:
    if agreement is None:
        return dict.fromkeys(AGREEMENT_FIELDS)
    return {
        **{verdict.value: count for verdict, count in agreement.counts().items()},
        "text_similarity_mean": agreement.text_similarity_mean,
    }


def _model(prefix: str, key: ModelKey | None) -> dict[str, Any]:
    return {
        f"{prefix}_provider": None if key is None else key.provider,
        f"{prefix}_provider_type": None if key is None else key.provider_type,
        f"{prefix}_model": None if key is None else key.model,
    }


def row_record(report: ComparisonReport, row: ComparisonRow) -> dict[str, Any]:
    """A comparison row as one flat record; a ``models`` report has no replay columns."""
    record: dict[str, Any] = {"row": row.label, **_model("original", row.original_model)}
    if report.kind == "models":
        figures = side_record(row.original)
        return record | {k: figures[k] for k in (*SIDE_FIELDS, *MODELS_FIELDS)}
    record |= _model("replay", row.replay_model)
    record |= _prefixed("original", side_record(row.original), SIDE_FIELDS)
    replay = side_record(row.replay) if row.replay is not None else dict.fromkeys(SIDE_FIELDS)
    record |= _prefixed("replay", replay, SIDE_FIELDS)
    record["cost_difference_usd"] = row.cost_difference_usd
    if report.kind == "replay":
        record |= agreement_record(row.agreement)
    return record


def report_records(report: ComparisonReport) -> list[dict[str, Any]]:
    """The overall row first, then one per model (pair)."""
    return [row_record(report, row) for row in (report.overall, *report.rows)]


def _prefixed(prefix: str, record: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {f"{prefix}_{name}": record[name] for name in names}


_REQUEST_FIELDS: tuple[str, ...] = ("status", "error_kind", "input_tokens", "cached_input_tokens")
_REQUEST_FIELDS += ("output_tokens", "cost_usd", "latency_ms", "ttfb_ms")


def _request_side(prefix: str, side: RequestSide | None) -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(_REQUEST_FIELDS)
    if side is not None:
        values = {name: getattr(side, name) for name in _REQUEST_FIELDS}
        for count in ("input_tokens", "cached_input_tokens", "output_tokens"):
            values[count] = number(values[count])
    model = _model(prefix, None if side is None else side.model)
    return model | _prefixed(prefix, values, _REQUEST_FIELDS)


def request_record(row: RequestRow) -> dict[str, Any]:
    """One request and its counterpart as one flat record."""
    return {
        "request_id": row.request_id,
        "session_id": row.session_id,
        "started_at": row.started_at,
        **_request_side("original", row.original),
        "replay_request_id": row.replay_request_id,
        **_request_side("replay", row.replay),
        "verdict": None if row.verdict is None else row.verdict.value,
        "text_similarity": row.text_similarity,
    }


__all__ = [
    "AGREEMENT_FIELDS",
    "MODELS_FIELDS",
    "SIDE_FIELDS",
    "agreement_record",
    "number",
    "report_records",
    "request_record",
    "row_record",
    "side_record",
]
