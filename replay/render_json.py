"""A report as one JSON document: what was compared, then the rows and requests as flat
records (``replay.report_rows``), and each row's latency and TTFB histograms."""

from __future__ import annotations

from typing import Any

import orjson

from replay.report_model import LATENCY_EDGES_MS, ComparisonReport, ComparisonRow, SideFigures
from replay.report_rows import report_records, request_record


def report_document(report: ComparisonReport) -> dict[str, Any]:
    return {
        "kind": report.kind.value,
        "estimate": report.estimate,
        "estimate_note": report.estimate_note,
        "run_id": report.run_id,
        "selection": report.selection,
        "generated_at": report.generated_at,
        "original_config": report.original_config,
        "replay_config": report.replay_config,
        "cost_difference_usd": report.cost_difference_usd,
        "rows": report_records(report),
        "histogram_edges_ms": list(LATENCY_EDGES_MS),
        "histograms": [_histograms(row) for row in (report.overall, *report.rows)],
        "requests": [request_record(row) for row in report.requests],
    }


def _histograms(row: ComparisonRow) -> dict[str, Any]:
    sides: dict[str, Any] = {"row": row.label, "original": _side(row.original)}
    if row.replay is not None:
        sides["replay"] = _side(row.replay)
    return sides


def _side(figures: SideFigures) -> dict[str, list[int]]:
    return {"latency": list(figures.latency.buckets), "ttfb": list(figures.ttfb.buckets)}


def render_json(report: ComparisonReport) -> str:
    return orjson.dumps(report_document(report), option=orjson.OPT_INDENT_2).decode()


__all__ = ["render_json", "report_document"]
