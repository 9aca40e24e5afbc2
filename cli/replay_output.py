"""What ``switchyard replay`` shows and writes: the progress bar while it runs (on a
terminal), then the comparison report — printed as tables (or JSON with ``--json``), and
with ``--out DIR`` written as ``report.json``, ``report.csv`` (one line per row),
``requests.csv`` (one line per request) and, when the HTML renderer is installed,
``report.html``."""

from __future__ import annotations

import sys
from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.database import CommandError
from replay.render_csv import render_requests_csv, render_rows_csv
from replay.render_json import render_json
from replay.render_table import print_report
from replay.report_model import ComparisonReport


class RunProgress:
    """A bar of requests sent with the running cost; silent when stderr is no terminal."""

    def __init__(self, total: int, *, already: int, spent_before: float) -> None:
        self._spent_before = spent_before
        self._progress = Progress(
            TextColumn("replay"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("spent ${task.fields[spent]:.4f}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=not sys.stderr.isatty(),
        )
        self._task = self._progress.add_task(
            "replay", total=total, completed=already, spent=spent_before
        )
        self.sent = 0

    def __enter__(self) -> RunProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def advance(self, spent_usd: float) -> None:
        self.sent += 1
        self._progress.update(self._task, advance=1, spent=self._spent_before + spent_usd)


def show(report: ComparisonReport, *, as_json: bool) -> None:
    if as_json:
        print(render_json(report))
    else:
        print_report(report, Console(highlight=False))


def write_out(report: ComparisonReport, out: str) -> list[Path]:
    """The report's files under ``out`` (created if missing)."""
    directory = Path(out)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        files = {
            "report.json": render_json(report),
            "report.csv": render_rows_csv(report),
            "requests.csv": render_requests_csv(report),
        }
        html = _html(report)
        if html is not None:
            files["report.html"] = html
        written = []
        for name, content in files.items():
            path = directory / name
            path.write_text(content, encoding="utf-8")
            written.append(path)
    except OSError as exc:
        raise CommandError(f"--out {out!r}: {exc.strerror or exc}") from None
    return written


def _html(report: ComparisonReport) -> str | None:
    try:
        from replay import render_html  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    rendered: str = render_html.render_html(report)
    return rendered


__all__ = ["RunProgress", "show", "write_out"]
