"""A report as ``rich`` tables for the terminal: the figures (original and replay on two
lines per row), then agreement for a replay; a ``models`` report is one line per model."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from replay.report_model import ComparisonReport, ComparisonRow, SideFigures
from replay.report_rows import number


def render_text(report: ComparisonReport, *, width: int = 160) -> str:
    """The tables as plain text (no colours), as ``print_report`` shows them."""
    out = io.StringIO()
    print_report(report, Console(file=out, width=width, no_color=True, highlight=False))
    return out.getvalue()


def print_report(report: ComparisonReport, console: Console) -> None:
    console.print(_title(report), markup=False)
    if report.estimate_note:
        console.print(f"estimate: {report.estimate_note}", markup=False)
    if report.kind == "models":
        console.print(models_table(report))
        return
    console.print(figures_table(report))
    if report.kind == "replay":
        console.print(agreement_table(report))


def _title(report: ComparisonReport) -> str:
    kind = {"replay": "replay", "whatif": "what-if (an estimate)", "models": "models"}
    run = f" run {report.run_id}" if report.run_id else ""
    return f"switchyard {kind[report.kind.value]}{run}: {report.selection}"


def figures_table(report: ComparisonReport) -> Table:
    table = Table(title="original vs " + ("what-if" if report.kind == "whatif" else "replay"))
    for name in ("row", "side", "requests", "ok %", "errors", "input", "cached", "output"):
        table.add_column(name, justify="left" if name in ("row", "side", "errors") else "right")
    for name in ("cost USD", "diff USD", "p50 ms", "p95 ms", "TTFB p50", "TTFB p95"):
        table.add_column(name, justify="right")
    for row in (report.overall, *report.rows):
        _row(table, row.label, "original", *_side_cells(row.original), "", *_times(row.original))
        if row.replay is not None:
            diff = _money(row.cost_difference_usd, signed=True)
            _row(
                table, "", _replay_name(report), *_side_cells(row.replay), diff, *_times(row.replay)
            )
        table.add_section()
    return table


def _replay_name(report: ComparisonReport) -> str:
    return "what-if" if report.kind == "whatif" else "replay"


def agreement_table(report: ComparisonReport) -> Table:
    table = Table(title="agreement (replayed turn vs original)")
    table.add_column("row")
    for name in ("same tools+args", "same tools, other args", "other tools", "text<->tool"):
        table.add_column(name, justify="right")
    for name in ("both text", "not compared", "text similarity"):
        table.add_column(name, justify="right")
    for row in (report.overall, *report.rows):
        _row(table, row.label, *_agreement_cells(row))
    return table


def _agreement_cells(row: ComparisonRow) -> list[str]:
    a = row.agreement
    if a is None:
        return ["-"] * 7
    counts = [a.same_tools_same_args, a.same_tools_different_args, a.different_tools]
    counts += [a.text_vs_tool, a.both_text, a.not_compared]
    similarity = "-" if a.text_similarity_mean is None else f"{a.text_similarity_mean:.2f}"
    return [*(str(c) for c in counts), similarity]


def models_table(report: ComparisonReport) -> Table:
    table = Table(title="per provider and model")
    table.add_column("provider/model", min_width=28, overflow="fold")
    for name in ("requests", "error %", "errors", "p50 ms", "p95 ms", "TTFB p50", "TTFB p95"):
        table.add_column(name, justify="left" if name == "errors" else "right")
    for name in ("input", "output", "USD/request", "USD/session", "tool calls ok"):
        table.add_column(name, justify="right")
    for row in (*report.rows, report.overall):
        f = row.original
        cells = [_count(f.requests), _percent(f.error_rate), _errors(f), *_times(f)]
        cells += [_count(f.input_tokens), _count(f.output_tokens)]
        cells += [_money(f.cost_per_request_usd), _money(f.cost_per_session_usd)]
        _row(table, row.label, *cells, _follow(f))
    return table


def _row(table: Table, *cells: str) -> None:
    """Cells as plain text: a model or session name is never read as rich markup."""
    table.add_row(*(Text(cell) for cell in cells))


def _side_cells(f: SideFigures) -> list[str]:
    cells = [_count(f.requests), _percent(f.success_rate), _errors(f)]
    cells += [_count(f.input_tokens), _count(f.cached_input_tokens), _count(f.output_tokens)]
    unpriced = f" ({_count(f.unpriced)} unpriced)" if f.unpriced else ""
    return [*cells, _money(f.cost_usd) + unpriced]


def _times(f: SideFigures) -> list[str]:
    values = (f.latency.p50_ms, f.latency.p95_ms, f.ttfb.p50_ms, f.ttfb.p95_ms)
    return ["-" if v is None else f"{v:,.0f}" for v in values]


def _errors(f: SideFigures) -> str:
    return ", ".join(f"{kind} {_count(count)}" for kind, count in f.errors) or "-"


def _follow(f: SideFigures) -> str:
    if f.tool_follow_rate is None:
        return "-"
    return f"{f.tool_calls_followed}/{f.tool_calls} ({f.tool_follow_rate:.0%})"


def _count(value: float) -> str:
    shown = number(value)
    return f"{shown:,}" if isinstance(shown, int) else f"{shown:,.1f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}"


def _money(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+,.4f}" if signed else f"{value:,.4f}"


__all__ = ["agreement_table", "figures_table", "models_table", "print_report", "render_text"]
