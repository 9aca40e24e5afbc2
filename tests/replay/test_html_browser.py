"""The HTML report opens in headless Chromium (Debian's) without a server or network,
and its charts render: SVG marks with a size, and their colours in a screenshot."""

from __future__ import annotations

from pathlib import Path

from replay.render_html import render_html
from replay.report_model import ComparisonReport
from replay.svg_charts import PALETTE
from tests.replay.browser import Rendered, count_color, png_pixels, render
from tests.replay.samples import models_report, replay_report


def _open(report: ComparisonReport, folder: Path, name: str) -> tuple[Rendered, Path]:
    page = folder / f"{name}.html"
    page.write_text(render_html(report), encoding="utf-8")
    shot, chart = folder / f"{name}.png", folder / f"{name}-chart.png"
    rendered = render(page, shot, chart)
    assert shot.stat().st_size > 10_000  # a real picture, not an empty page
    assert rendered.network == []  # nothing but the file itself was asked for
    assert rendered.console_errors == []
    return rendered, chart


def _rgb(color: str) -> tuple[int, int, int]:
    return (int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16))


def test_replay_report_charts_render_in_chromium(tmp_path: Path) -> None:
    rendered, chart = _open(replay_report(), tmp_path, "replay")
    assert rendered.figures[0] == "Cost per model (USD)"
    captions = rendered.figures
    assert any(c.startswith("Latency distribution") for c in captions)
    assert "Agreement of replayed turns" in captions
    marks = rendered.marks
    # cost: 2 rows x 2 sides; latency: 3 rows x 2 sides x the filled buckets; agreement
    assert len(marks) >= 4 + 6 + 5
    assert all(mark["w"] > 0 and mark["h"] > 0 for mark in marks)
    width, _, rows = png_pixels(chart)
    channels = len(rows[0]) // width
    # the cost chart's original (blue) and replay (orange) bars are on the picture
    assert count_color(rows, channels, _rgb(PALETTE[0])) > 200
    assert count_color(rows, channels, _rgb(PALETTE[1])) > 200


def test_models_report_charts_render_in_chromium(tmp_path: Path) -> None:
    rendered, chart = _open(models_report(), tmp_path, "models")
    captions = rendered.figures
    assert captions[:4] == [
        "Cost per request and per session (USD)",
        "Latency (ms)",
        "Error rate by class (% of requests)",
        "Tool calls followed by a successful tool result (%)",
    ]
    marks = rendered.marks
    assert all(mark["w"] > 0 and mark["h"] > 0 for mark in marks)
    width, _, rows = png_pixels(chart)
    assert count_color(rows, len(rows[0]) // width, _rgb(PALETTE[0])) > 200
