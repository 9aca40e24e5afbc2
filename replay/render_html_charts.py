"""The HTML report's charts, from a report's rows (``replay.svg_charts`` draws them)."""

from __future__ import annotations

from replay.report_model import LATENCY_EDGES_MS, ComparisonReport, ComparisonRow, Verdict
from replay.svg_charts import PALETTE, Series, grouped_bars, histogram, stacked_bars

_ORIGINAL, _REPLAY = PALETTE[0], PALETTE[1]


def bucket_labels() -> list[str]:
    labels = [f"≤{_ms(edge)}" for edge in LATENCY_EDGES_MS]
    return [*labels, f">{_ms(LATENCY_EDGES_MS[-1])}"]


def _ms(value: float) -> str:
    return f"{value / 1000:g}s" if value >= 1000 else f"{value:g}ms"


def comparison_charts(report: ComparisonReport) -> list[str]:
    """Cost per model (original vs replay), latency histograms, agreement."""
    rows = list(report.rows) or [report.overall]
    labels = [row.label for row in rows]
    other = "what-if" if report.kind == "whatif" else "replay"
    charts = [
        grouped_bars(
            "Cost per model (USD)",
            labels,
            [
                Series(
                    name="original", values=[r.original.cost_usd for r in rows], color=_ORIGINAL
                ),
                Series(name=other, values=[_replay_cost(r) for r in rows], color=_REPLAY),
            ],
            unit="USD",
        )
    ]
    charts.extend(_latency_charts(report, other))
    if report.kind == "replay":
        charts.append(_agreement_chart([report.overall, *report.rows]))
    return charts


def _replay_cost(row: ComparisonRow) -> float | None:
    return None if row.replay is None else row.replay.cost_usd


def _latency_charts(report: ComparisonReport, other: str) -> list[str]:
    charts = []
    for row in (report.overall, *report.rows):
        series = [Series(name="original", values=row.original.latency.buckets, color=_ORIGINAL)]
        if row.replay is not None and row.replay.latency.count:
            series.append(Series(name=other, values=row.replay.latency.buckets, color=_REPLAY))
        if any(v for line in series for v in line.values):
            charts.append(histogram(f"Latency distribution: {row.label}", bucket_labels(), series))
    return charts


_VERDICTS = (
    (Verdict.SAME_TOOLS_SAME_ARGS, "same tools & args", PALETTE[2]),
    (Verdict.SAME_TOOLS_DIFFERENT_ARGS, "same tools, other args", PALETTE[0]),
    (Verdict.DIFFERENT_TOOLS, "different tools", PALETTE[3]),
    (Verdict.TEXT_VS_TOOL, "text vs tool", PALETTE[1]),
    (Verdict.BOTH_TEXT, "both text", PALETTE[4]),
    (Verdict.NOT_COMPARED, "not compared", PALETTE[5]),
)


def _agreement_chart(rows: list[ComparisonRow]) -> str:
    counted = [row for row in rows if row.agreement is not None]
    segments = [
        Series(
            name=name,
            values=[float(row.agreement.counts()[verdict]) for row in counted if row.agreement],
            color=color,
        )
        for verdict, name, color in _VERDICTS
    ]
    return stacked_bars(
        "Agreement of replayed turns", [row.label for row in counted], segments, unit="turns"
    )


def models_charts(report: ComparisonReport) -> list[str]:
    """Cost per request and session, error rate, latency p50/p95, tool follow-through."""
    rows = list(report.rows)
    labels = [row.label for row in rows]
    figures = [row.original for row in rows]
    return [
        grouped_bars(
            "Cost per request and per session (USD)",
            labels,
            [
                Series(
                    name="per request",
                    values=[f.cost_per_request_usd for f in figures],
                    color=_ORIGINAL,
                ),
                Series(
                    name="per session",
                    values=[f.cost_per_session_usd for f in figures],
                    color=_REPLAY,
                ),
            ],
            unit="USD",
        ),
        grouped_bars(
            "Latency (ms)",
            labels,
            [
                Series(name="p50", values=[f.latency.p50_ms for f in figures], color=PALETTE[2]),
                Series(name="p95", values=[f.latency.p95_ms for f in figures], color=PALETTE[3]),
                Series(name="TTFB p50", values=[f.ttfb.p50_ms for f in figures], color=PALETTE[4]),
            ],
            unit="ms",
        ),
        _error_chart(report),
        grouped_bars(
            "Tool calls followed by a successful tool result (%)",
            labels,
            [
                Series(
                    name="followed",
                    values=[_percent(f.tool_follow_rate) for f in figures],
                    color=PALETTE[2],
                )
            ],
            unit="%",
        ),
        *_latency_charts(report, "replay"),
    ]


def _percent(rate: float | None) -> float | None:
    return None if rate is None else rate * 100


def _error_chart(report: ComparisonReport) -> str:
    rows = list(report.rows)
    kinds = sorted({kind for row in rows for kind, _ in row.original.errors})
    shares = [
        Series(
            name=kind,
            values=[
                100 * dict(row.original.errors).get(kind, 0.0) / max(row.original.requests, 1)
                for row in rows
            ],
            color=PALETTE[(index + 3) % len(PALETTE)],
        )
        for index, kind in enumerate(kinds)
    ]
    if not shares:
        shares = [Series(name="errors", values=[0.0] * len(rows), color=PALETTE[3])]
    return grouped_bars(
        "Error rate by class (% of requests)", [r.label for r in rows], shares, unit="%"
    )


__all__ = ["bucket_labels", "comparison_charts", "models_charts"]
