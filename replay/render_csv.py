"""A report as CSV: one line per row (overall first), and one per request."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from replay.report_model import ComparisonReport
from replay.report_rows import report_records, request_record


def render_rows_csv(report: ComparisonReport) -> str:
    """The overall row and one per model (pair), with the report's kind and flags."""
    head = {"kind": report.kind.value, "estimate": report.estimate, "run_id": report.run_id}
    return _csv([head | record for record in report_records(report)])


def render_requests_csv(report: ComparisonReport) -> str:
    return _csv([request_record(row) for row in report.requests])


def _csv(records: Sequence[Mapping[str, Any]]) -> str:
    if not records:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({name: _cell(value) for name, value in record.items()})
    return out.getvalue()


def _cell(value: object) -> object:
    """Empty for unknown; a formula-looking text is quoted so a spreadsheet shows it as
    text (model and session names come from clients and providers)."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


__all__ = ["render_requests_csv", "render_rows_csv"]
