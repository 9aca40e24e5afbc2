"""What ``switchyard replay`` shows and writes: the progress bar while it runs (on a
terminal), then the comparison report, printed as tables (or JSON with ``--json``); the
files ``--out DIR`` gets are ``cli.report_output.write_report``'s (JSON, CSV, HTML)."""

from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

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
    else:  # a pipe or a file gets the whole table, not 80 columns of it
        width = None if sys.stdout.isatty() else 220
        print_report(report, Console(highlight=False, width=width))


__all__ = ["RunProgress", "show"]
