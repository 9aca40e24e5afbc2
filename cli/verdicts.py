"""One line per check, for ``switchyard doctor``: ``ok``, ``warn``, ``FAIL`` or ``skip``."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.text import Text

_STYLES = {"ok": "green", "warn": "yellow", "FAIL": "bold red", "skip": "dim"}


@dataclass(frozen=True, slots=True)
class Verdict:
    check: str
    outcome: str  # ok | warn | FAIL | skip
    detail: str


def print_verdicts(verdicts: list[Verdict], console: Console) -> None:
    width = max((len(v.check) for v in verdicts), default=0)
    for verdict in verdicts:
        line = Text()
        line.append(f"{verdict.outcome:<4}", style=_STYLES.get(verdict.outcome, ""))
        line.append(f"  {verdict.check:<{width}}  {verdict.detail}")
        console.print(line, soft_wrap=True)


__all__ = ["Verdict", "print_verdicts"]
