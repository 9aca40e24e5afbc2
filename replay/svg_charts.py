"""Inline SVG charts for the HTML report: no script, no network, text escaped.

Every drawn mark has ``class="mark"`` (and ``data-value``), so a test counts what
rendered; each chart is a ``<figure class="chart">`` with its title.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#3b6fb6", "#e08a2c", "#4c9a5b", "#c4453c", "#8a63b8", "#7f7f7f")
_ROW = 22  # pixels per bar
_LABEL = 290  # pixels for the category labels
_PLOT = 420  # pixels for the bars


@dataclass(frozen=True, slots=True, kw_only=True)
class Series:
    name: str
    values: Sequence[float | None]
    color: str


def grouped_bars(
    title: str, categories: Sequence[str], series: Sequence[Series], *, unit: str
) -> str:
    """Horizontal bars, one group per category, one bar per series (``None``: no bar)."""
    known = [v for s in series for v in s.values if v is not None]
    top = max([abs(v) for v in known] or [0.0]) or 1.0
    group = _ROW * len(series) + 8
    height = group * len(categories) + 30
    parts = [_svg_open(title, height)]
    for index, category in enumerate(categories):
        y0 = 24 + index * group
        parts.append(_text(4, y0 + group / 2, category, anchor="start"))
        for offset, line in enumerate(series):
            value = line.values[index]
            y = y0 + offset * _ROW
            if value is None:
                parts.append(_text(_LABEL + 4, y + 13, f"{line.name}: no data", size=10))
                continue
            width = max(1.0, _PLOT * abs(value) / top)
            parts.append(_bar(_LABEL, y, width, _ROW - 4, line.color, value, line.name))
            parts.append(_text(_LABEL + width + 4, y + 13, f"{_fmt(value)} {unit}"))
    parts.append(_legend(series, 4, 12))
    parts.append("</svg>")
    return _figure(title, parts)


def stacked_bars(
    title: str, categories: Sequence[str], segments: Sequence[Series], *, unit: str
) -> str:
    """One horizontal bar per category, split into segments (their shares of the total)."""
    height = (_ROW + 6) * len(categories) + 40
    parts = [_svg_open(title, height)]
    for index, category in enumerate(categories):
        y = 24 + index * (_ROW + 6)
        parts.append(_text(4, y + 13, category, anchor="start"))
        values = [s.values[index] or 0.0 for s in segments]
        total = sum(values)
        x = float(_LABEL)
        for segment, value in zip(segments, values, strict=True):
            if value <= 0:
                continue
            width = _PLOT * value / total
            parts.append(_bar(x, y, width, _ROW - 4, segment.color, value, segment.name))
            x += width
        parts.append(_text(_LABEL + _PLOT + 6, y + 13, f"{_fmt(total)} {unit}"))
    parts.append(_legend(segments, 4, 12))
    parts.append("</svg>")
    return _figure(title, parts)


def histogram(title: str, buckets: Sequence[str], series: Sequence[Series]) -> str:
    """Vertical bars per bucket, one per series, heights as shares of each series' total."""
    width = _LABEL + _PLOT
    height = 200
    step = (width - 40) / max(1, len(buckets))
    bar = max(2.0, (step - 6) / max(1, len(series)))
    parts = [_svg_open(title, height + 40)]
    for offset, line in enumerate(series):
        total = sum(v or 0.0 for v in line.values) or 1.0
        for index, value in enumerate(line.values):
            if not value:
                continue
            h = (height - 30) * value / total
            x = 30 + index * step + offset * bar
            parts.append(_bar(x, height - h, bar - 1, h, line.color, value, line.name))
    for index, bucket in enumerate(buckets):
        parts.append(_text(30 + index * step + step / 2 - 3, height + 14, bucket, size=9))
    parts.append(_legend(series, 4, 12))
    parts.append("</svg>")
    return _figure(title, parts)


def _svg_open(title: str, height: float) -> str:
    width = _LABEL + _PLOT + 140
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
        f'viewBox="0 0 {width} {height:.0f}" role="img" aria-label="{escape(title)}">'
    )


def _figure(title: str, parts: list[str]) -> str:
    return (
        f'<figure class="chart"><figcaption>{escape(title)}</figcaption>{"".join(parts)}</figure>'
    )


def _bar(x: float, y: float, w: float, h: float, color: str, value: float, name: str) -> str:
    return (
        f'<rect class="mark" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
        f'fill="{color}" data-value="{value:.6g}">'
        f"<title>{escape(name)}: {_fmt(value)}</title></rect>"
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 11) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}">'
        f"{escape(_short(text))}</text>"
    )


def _legend(series: Sequence[Series], x: float, y: float) -> str:
    items = []
    for index, line in enumerate(series):
        left = x + index * 136
        items.append(
            f'<rect x="{left:.0f}" y="{y - 9}" width="10" height="10" fill="{line.color}"/>'
        )
        items.append(_text(left + 14, y, line.name))
    return "".join(items)


def _short(text: str, limit: int = 46) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fmt(value: float) -> str:
    if value == int(value) and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.1f}"


__all__ = ["PALETTE", "Series", "grouped_bars", "histogram", "stacked_bars"]
