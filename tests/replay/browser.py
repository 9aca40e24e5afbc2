"""Open an HTML file in Debian's headless Chromium through Playwright (never Playwright's
own browser download), with every non-file request refused and recorded."""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("SWITCHYARD_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")


@dataclass
class Rendered:
    marks: list[dict[str, Any]]  # each SVG mark's class, box and fill
    figures: list[str]  # the charts' captions
    network: list[str] = field(default_factory=list)  # requests refused (not file://)
    console_errors: list[str] = field(default_factory=list)


def render(html_path: Path, screenshot: Path, chart_shot: Path) -> Rendered:
    """Open the page, save a full-page screenshot and one of its first chart alone."""
    from playwright.sync_api import sync_playwright

    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            refused: list[str] = []
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.route("**/*", lambda route: _only_files(route, refused))
            page.goto(html_path.as_uri())
            page.screenshot(path=str(screenshot), full_page=True)
            page.locator("figure.chart").first.screenshot(path=str(chart_shot))
            marks = page.eval_on_selector_all(
                "figure.chart svg .mark",
                """els => els.map(e => {const b = e.getBoundingClientRect();
                   return {w: b.width, h: b.height, fill: getComputedStyle(e).fill}})""",
            )
            figures = page.eval_on_selector_all(
                "figure.chart figcaption", "els => els.map(e => e.textContent)"
            )
        finally:
            browser.close()
    return Rendered(marks=marks, figures=figures, network=refused, console_errors=errors)


def _only_files(route: Any, refused: list[str]) -> None:
    if route.request.url.startswith("file://"):
        route.continue_()
    else:
        refused.append(route.request.url)
        route.abort()


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and rows of RGB(A) bytes of an 8-bit, non-interlaced PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, header = 8, b"", b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        chunk = data[offset + 8 : offset + 8 + length]
        header = chunk if kind == b"IHDR" else header
        idat += chunk if kind == b"IDAT" else b""
        offset += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and color in (2, 6), (depth, color)
    channels = 3 if color == 2 else 4
    return width, height, _unfilter(zlib.decompress(idat), width * channels, height, channels)


def _unfilter(raw: bytes, stride: int, height: int, bpp: int) -> list[bytes]:
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = previous[i]
            c = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return rows


def count_color(rows: list[bytes], channels: int, rgb: tuple[int, int, int]) -> int:
    """Pixels within 6 of ``rgb`` on each channel."""
    found = 0
    for row in rows:
        for x in range(0, len(row), channels):
            if all(abs(row[x + k] - rgb[k]) <= 6 for k in range(3)):
                found += 1
    return found
