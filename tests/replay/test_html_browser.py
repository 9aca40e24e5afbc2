"""The HTML report opens in headless Chromium (Debian's) without a server or network,
and its charts render: SVG marks with a size, and their colours in a screenshot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from budgets.pricing import PriceTable
from config import load_config
from fakes.logged_traffic import TrafficShape, insert_traffic
from replay.render_html import render_html
from replay.report_model import ComparisonReport
from replay.svg_charts import PALETTE
from storage.database import make_engine, migrate
from tests.replay.browser import Rendered, count_color, png_pixels, render
from tests.replay.mixes import LIVE_MIX, OTHER_MIX, write_mix
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


def test_whatif_page_written_by_the_command_renders(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'trail.db'}"
    live = write_mix(tmp_path, "live", LIVE_MIX, url)
    other = write_mix(tmp_path, "other", OTHER_MIX, url)
    migrate(url)
    engine = make_engine(url)
    insert_traffic(engine, load_config(str(live)), TrafficShape(requests=500), PriceTable.shipped())
    engine.dispose()
    out = tmp_path / "out"
    # a process of its own: the command configures logging, which a test must not do
    command = [sys.executable, "-m", "cli.main", "whatif", "--config", str(other), "--db", url]
    result = subprocess.run([*command, "--out", str(out)], capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    shot, chart = tmp_path / "whatif.png", tmp_path / "whatif-chart.png"
    rendered = render(out / "report.html", shot, chart)
    assert rendered.network == [] and rendered.console_errors == []
    assert rendered.figures[0] == "Cost per model (USD)"
    assert sum(c.startswith("Latency distribution") for c in rendered.figures) == 1 + 5
    cost_bars = [m for m in rendered.marks if m["w"] > 0 and m["h"] > 0]
    assert len(cost_bars) == len(rendered.marks) >= 2 * 5
    width, _, rows = png_pixels(chart)
    channels = len(rows[0]) // width
    assert count_color(rows, channels, _rgb(PALETTE[0])) > 200
    assert count_color(rows, channels, _rgb(PALETTE[1])) > 200
