"""The report's data and its JSON, CSV and table renderings."""

from __future__ import annotations

import csv
import io

import orjson
import pytest

from replay.render_csv import render_requests_csv, render_rows_csv
from replay.render_json import render_json
from replay.render_table import render_text
from replay.report_model import (
    LATENCY_EDGES_MS,
    Agreement,
    ReportKind,
    distribution,
    percentile,
)
from replay.tally import Tally
from tests.replay.samples import models_report, replay_report


def test_percentiles_and_histogram_leave_out_unknown_and_hostile_values() -> None:
    values = [100.0, 200.0, None, float("nan"), -5.0, float("inf"), *range(300, 2100, 100)]
    d = distribution(values)
    assert d.count == 20
    assert (d.p50_ms, d.p95_ms) == (1000.0, 1900.0)
    assert sum(d.buckets) == 20 and len(d.buckets) == len(LATENCY_EDGES_MS) + 1
    assert d.buckets[LATENCY_EDGES_MS.index(100.0)] == 1
    assert percentile([], 0.5) is None
    assert distribution([]).p95_ms is None


def test_rates_differences_and_agreement_counts() -> None:
    report = replay_report()
    overall = report.overall
    assert overall.replay is not None
    assert overall.replay.success_rate == pytest.approx(0.8)
    assert overall.replay.error_rates() == {"timeout": pytest.approx(0.2)}
    assert report.cost_difference_usd == pytest.approx(0.005)
    assert report.rows[1].cost_difference_usd == pytest.approx(-0.01)
    assert Agreement(same_tools_same_args=2, text_vs_tool=1, not_compared=4).compared == 3


def test_a_share_split_tally_keeps_fractions_and_unpriced_apart() -> None:
    tally = Tally()
    tally.add(weight=0.75, error_kind=None, tokens=(100, 10, 20), cost_usd=0.4)
    tally.add(weight=0.25, error_kind="timeout", tokens=(100, 10, 20), cost_usd=None)
    figures = tally.figures()
    assert (figures.requests, figures.successes, figures.unpriced) == (1.0, 0.75, 0.25)
    assert figures.cost_usd == pytest.approx(0.3)
    assert figures.errors == (("timeout", 0.25),)
    only_unpriced = Tally()
    only_unpriced.add(weight=1, error_kind=None, tokens=(1, 0, 1), cost_usd=None)
    assert only_unpriced.figures().cost_usd is None  # unknown, never a silent 0


def test_json_holds_rows_histograms_and_requests() -> None:
    document = orjson.loads(render_json(replay_report()))
    assert document["kind"] == "replay" and document["run_id"] == "run_1"
    assert document["rows"][0]["row"] == "overall"
    first = document["rows"][1]
    assert first["original_cost_usd"] == 0.03 and first["replay_cost_usd"] == 0.045
    assert first["cost_difference_usd"] == pytest.approx(0.015)
    assert first["same_tools_same_args"] == 1 and first["text_vs_tool"] == 1
    assert document["histograms"][0]["replay"]["latency"][4] == 2  # 600 and 900 ms
    assert document["requests"][0]["verdict"] == "not_compared"


def test_csv_quotes_formula_looking_cells_and_keeps_columns() -> None:
    rows = list(csv.DictReader(io.StringIO(render_rows_csv(replay_report()))))
    assert rows[0]["row"] == "overall"
    assert rows[1]["replay_errors"] == "timeout=1"
    requests = list(csv.DictReader(io.StringIO(render_requests_csv(replay_report()))))
    assert requests[0]["session_id"] == "'=HYPERLINK(1)"
    assert requests[0]["replay_error_kind"] == "timeout"


def test_tables_show_both_sides_and_the_estimate() -> None:
    text = render_text(replay_report(), width=220)
    assert "original vs replay" in text and "+0.0050" in text and "text<->tool" in text
    whatif = render_text(replay_report(kind=ReportKind.WHATIF), width=220)
    assert "what-if (an estimate)" in whatif and "estimate: logged token counts" in whatif
    models = render_text(models_report(), width=220)
    assert "5/6 (83%)" in models and "rate_limited 1" in models
