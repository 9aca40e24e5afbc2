"""Small reports built by hand, for the renderers' tests."""

from __future__ import annotations

from replay.report_model import (
    Agreement,
    ComparisonReport,
    ComparisonRow,
    ModelKey,
    ReportKind,
    RequestRow,
    RequestSide,
    SideFigures,
    Verdict,
    distribution,
    error_counts,
)

GPT = ModelKey(provider="openai-main", provider_type="openai", model="gpt-5.5")
CLAUDE = ModelKey(provider="anthropic-main", provider_type="anthropic", model="claude-sonnet-4-5")
GEMINI = ModelKey(provider="gemini-main", provider_type="gemini", model="gemini-2.5-pro")


def figures(requests: int, cost: float | None, latencies: list[float], **kw: object) -> SideFigures:
    errors = kw.pop("errors", {})
    assert isinstance(errors, dict)
    failures = sum(errors.values())
    return SideFigures(
        requests=requests,
        successes=requests - failures,
        errors=error_counts(errors),
        input_tokens=1_000 * requests,
        cached_input_tokens=200 * requests,
        output_tokens=50 * requests,
        cost_usd=cost,
        latency=distribution(latencies),
        ttfb=distribution([v / 4 for v in latencies]),
        **kw,  # type: ignore[arg-type]
    )


def replay_report(kind: ReportKind = ReportKind.REPLAY) -> ComparisonReport:
    to_claude = ComparisonRow(
        original_model=GPT,
        replay_model=CLAUDE,
        original=figures(3, 0.03, [800, 1200, 2500]),
        replay=figures(3, 0.045, [900, 1500, 4000], errors={"timeout": 1}),
        agreement=Agreement(same_tools_same_args=1, text_vs_tool=1, not_compared=1),
    )
    to_gemini = ComparisonRow(
        original_model=GPT,
        replay_model=GEMINI,
        original=figures(2, 0.02, [700, 30_000]),
        replay=figures(2, 0.01, [400, 600]),
        agreement=Agreement(same_tools_different_args=1, both_text=1, text_similarity_mean=0.5),
    )
    overall = ComparisonRow(
        original_model=None,
        replay_model=None,
        original=figures(5, 0.05, [800, 1200, 2500, 700, 30_000]),
        replay=figures(5, 0.055, [900, 1500, 4000, 400, 600], errors={"timeout": 1}),
        agreement=Agreement(
            same_tools_same_args=1,
            same_tools_different_args=1,
            text_vs_tool=1,
            both_text=1,
            not_compared=1,
            text_similarity_mean=0.5,
        ),
    )
    request = RequestRow(
        request_id="req_1",
        session_id="=HYPERLINK(1)",
        started_at="2026-12-01T10:00:00+00:00",
        original=RequestSide(model=GPT, status="completed", input_tokens=1000, cost_usd=0.01),
        replay=RequestSide(model=CLAUDE, status="failed", error_kind="timeout"),
        replay_request_id="req_2",
        verdict=Verdict.NOT_COMPARED,
    )
    return ComparisonReport(
        kind=kind,
        estimate=kind == ReportKind.WHATIF,
        run_id="run_1" if kind == ReportKind.REPLAY else None,
        selection="session s1, 5 requests",
        generated_at="2026-12-05T04:00:00+00:00",
        overall=overall,
        rows=(to_claude, to_gemini),
        requests=(request,),
        estimate_note="logged token counts" if kind == ReportKind.WHATIF else None,
    )


def models_report() -> ComparisonReport:
    gpt = figures(4, 0.04, [800, 1200, 2500, 900], sessions=2, tool_calls=6, tool_calls_followed=5)
    claude = figures(2, 0.06, [1500, 5000], errors={"rate_limited": 1}, sessions=1)
    overall = figures(6, 0.10, [800, 1200, 2500, 900, 1500, 5000], errors={"rate_limited": 1})
    return ComparisonReport(
        kind=ReportKind.MODELS,
        estimate=False,
        run_id=None,
        selection="since 2026-11-28",
        generated_at="2026-12-05T04:00:00+00:00",
        overall=ComparisonRow(original_model=None, replay_model=None, original=overall),
        rows=(
            ComparisonRow(original_model=GPT, replay_model=None, original=gpt),
            ComparisonRow(original_model=CLAUDE, replay_model=None, original=claude),
        ),
    )
