"""Placeholder replaced below."""

from __future__ import annotations

from replay.report_model import ComparisonReport


def render_html(report: ComparisonReport) -> str:
    return "<!doctype html><title>report</title>"


__all__ = ["render_html"]
