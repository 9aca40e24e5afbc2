"""A report as one self-contained HTML page: inline CSS and SVG charts, no script, nothing
fetched. Charts: cost per model, latency distributions, agreement (replay); for a
``models`` report, cost per request and per session, error rates, latency and the tool
follow-through. Tables below give the same numbers; every text is escaped."""

from __future__ import annotations

from html import escape
from typing import Any

from replay.render_html_charts import comparison_charts, models_charts
from replay.report_model import ComparisonReport
from replay.report_rows import report_records, request_record

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d1d1f;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.meta{color:#555}.estimate{background:#fff4d6;border:1px solid #e0b84c;padding:8px 12px;
margin:12px 0;border-radius:4px}
figure.chart{margin:12px 0 20px}figcaption{font-weight:600;margin-bottom:4px}
table{border-collapse:collapse;font-size:12px;margin:8px 0}
th,td{border:1px solid #ddd;padding:3px 6px;text-align:right;white-space:nowrap}
th{background:#f3f3f3}td.text{text-align:left}
.wrap{overflow-x:auto}
"""
MAX_REQUEST_LINES = 500


def render_html(report: ComparisonReport) -> str:
    charts = models_charts(report) if report.kind == "models" else comparison_charts(report)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">",
        f"<title>{escape(_title(report))}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(_title(report))}</h1>",
        f'<p class="meta">{escape(report.selection)} · generated {escape(report.generated_at)}</p>',
    ]
    if report.estimate:
        note = report.estimate_note or "these figures are an estimate"
        parts.append(f'<p class="estimate"><strong>Estimate.</strong> {escape(note)}</p>')
    difference = report.cost_difference_usd
    if difference is not None:
        parts.append(
            f'<p class="meta">cost difference (replay minus original): {difference:+,.6f} USD</p>'
        )
    parts.append('<h2>Charts</h2><div class="charts">')
    parts.extend(charts)
    parts.append("</div><h2>Figures</h2>")
    parts.append(_table(report_records(report)))
    if report.requests:
        shown = report.requests[:MAX_REQUEST_LINES]
        more = len(report.requests) - len(shown)
        parts.append(
            f"<h2>Requests</h2><p class='meta'>{len(shown)} shown"
            + (f", {more} more in requests.csv" if more else "")
            + "</p>"
        )
        parts.append(_table([request_record(row) for row in shown]))
    parts.append("</body></html>")
    return "\n".join(parts)


def _title(report: ComparisonReport) -> str:
    names = {"replay": "Replay", "whatif": "What-if (estimate)", "models": "Models"}
    run = f" {report.run_id}" if report.run_id else ""
    return f"Switchyard · {names[report.kind.value]}{run}"


def _table(records: list[dict[str, Any]]) -> str:
    if not records:
        return "<p>(nothing)</p>"
    columns = list(records[0])
    head = "".join(f"<th>{escape(column)}</th>" for column in columns)
    lines = []
    for record in records:
        cells = "".join(_cell(record[column]) for column in columns)
        lines.append(f"<tr>{cells}</tr>")
    body = "".join(lines)
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="wrap">{table}</div>'


def _cell(value: object) -> str:
    if value is None:
        return "<td>-</td>"
    if isinstance(value, float):
        return f"<td>{value:,.6g}</td>"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"<td>{value:,}</td>"
    return f'<td class="text">{escape(str(value))}</td>'


__all__ = ["render_html"]
