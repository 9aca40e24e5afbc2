"""A replay run's comparison report, from its rows of ``replay_results`` (pure).

Each selected request is one ``RequestRow``: its original side, and its replay once it
has one (the counted replay: see ``storage/replay_tables.py``). The figures — overall
and per pair of models (the model that served the original → the model that served its
replay) — are over the requests replayed so far, so both sides always count the same
turns; a request not replayed yet is listed with ``replay`` ``None`` and left out of them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from replay.agreement import compare, read_answer
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


@dataclass(frozen=True, slots=True, kw_only=True)
class RunFacts:
    """What the report says about the run itself."""

    run_id: str
    selection: str
    generated_at: str
    original_config: str | None = None
    replay_config: str | None = None


def build_report(
    rows: Sequence[Mapping[str, Any]],
    *,
    facts: RunFacts,
    responses: Mapping[str, bytes],
    provider_types: Mapping[str, str],
) -> ComparisonReport:
    """``rows``: the run's ``replay_results``; ``responses``: stored responses by request
    id (both sides); ``provider_types``: each request's serving provider type."""
    requests = tuple(_request_row(row, responses, provider_types) for row in rows)
    replayed = [r for r in requests if r.replay is not None]
    groups: dict[tuple[ModelKey | None, ModelKey | None], list[RequestRow]] = defaultdict(list)
    for request in replayed:
        assert request.replay is not None
        groups[request.original.model, request.replay.model].append(request)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), _label(item[0])))
    return ComparisonReport(
        kind=ReportKind.REPLAY,
        estimate=False,
        run_id=facts.run_id,
        selection=f"{facts.selection}; {len(replayed)} of {len(requests)} requests replayed",
        generated_at=facts.generated_at,
        overall=_row(None, None, replayed),
        rows=tuple(_row(original, replay, members) for (original, replay), members in ordered),
        requests=requests,
        original_config=facts.original_config,
        replay_config=facts.replay_config,
    )


def _label(pair: tuple[ModelKey | None, ModelKey | None]) -> str:
    return " ".join(key.label if key else "-" for key in pair)


def _row(
    original: ModelKey | None, replay: ModelKey | None, members: Sequence[RequestRow]
) -> ComparisonRow:
    return ComparisonRow(
        original_model=original,
        replay_model=replay,
        original=_figures([m.original for m in members], members),
        replay=_figures([m.replay for m in members if m.replay is not None], members),
        agreement=_agreement(members),
    )


def _figures(sides: Sequence[RequestSide], members: Sequence[RequestRow]) -> SideFigures:
    costs = [side.cost_usd for side in sides]
    known = [cost for cost in costs if cost is not None]
    errors = Counter(side.error_kind or "unknown" for side in sides if side.status == "failed")
    return SideFigures(
        requests=len(sides),
        successes=sum(1 for side in sides if side.status == "completed"),
        errors=error_counts(errors),
        input_tokens=sum(side.input_tokens for side in sides),
        cached_input_tokens=sum(side.cached_input_tokens for side in sides),
        output_tokens=sum(side.output_tokens for side in sides),
        cost_usd=sum(known) if known or not costs else None,
        unpriced=len(costs) - len(known),
        latency=distribution(side.latency_ms for side in sides),
        ttfb=distribution(side.ttfb_ms for side in sides),
        sessions=len({m.session_id for m in members if m.session_id is not None}),
    )


def _agreement(members: Iterable[RequestRow]) -> Agreement:
    counts: Counter[Verdict] = Counter()
    similarities: list[float] = []
    for member in members:
        verdict = member.verdict or Verdict.NOT_COMPARED
        counts[verdict] += 1
        if verdict is Verdict.BOTH_TEXT and member.text_similarity is not None:
            similarities.append(member.text_similarity)
    return Agreement(
        same_tools_same_args=counts[Verdict.SAME_TOOLS_SAME_ARGS],
        same_tools_different_args=counts[Verdict.SAME_TOOLS_DIFFERENT_ARGS],
        different_tools=counts[Verdict.DIFFERENT_TOOLS],
        text_vs_tool=counts[Verdict.TEXT_VS_TOOL],
        both_text=counts[Verdict.BOTH_TEXT],
        not_compared=counts[Verdict.NOT_COMPARED],
        text_similarity_mean=sum(similarities) / len(similarities) if similarities else None,
    )


def _request_row(
    row: Mapping[str, Any], responses: Mapping[str, bytes], provider_types: Mapping[str, str]
) -> RequestRow:
    original_id = row["original_request_id"]
    replay_id = row.get("replay_request_id")
    original = _side(row, "original", provider_types.get(original_id))
    replay = None
    if isinstance(replay_id, str):
        replay = _side(row, "replay", provider_types.get(replay_id))
    verdict, similarity = None, None
    if replay is not None and isinstance(replay_id, str):
        verdict, similarity = Verdict.NOT_COMPARED, None
        if original.status == "completed" and replay.status == "completed":
            verdict, similarity = compare(
                read_answer(responses.get(original_id)), read_answer(responses.get(replay_id))
            )
    return RequestRow(
        request_id=original_id,
        session_id=row.get("session_id") or row.get("thread_id"),
        started_at=_iso(row.get("original_started_at")),
        original=original,
        replay=replay,
        replay_request_id=replay_id,
        verdict=verdict,
        text_similarity=similarity,
    )


def _side(row: Mapping[str, Any], prefix: str, provider_type: str | None) -> RequestSide:
    def get(name: str) -> Any:
        return row.get(f"{prefix}_{name}")

    provider, model = get("provider"), get("model")
    key = (
        None
        if provider is None and model is None
        else ModelKey(provider=provider, provider_type=provider_type, model=model)
    )
    cost = get("cost_usd")
    return RequestSide(
        model=key,
        status=get("status") or "missing",
        error_kind=get("error_kind"),
        input_tokens=int(get("input_tokens") or 0),
        cached_input_tokens=int(get("cached_input_tokens") or 0),
        output_tokens=int(get("output_tokens") or 0),
        cost_usd=None if cost is None else float(cost),
        latency_ms=_float(get("latency_ms")),
        ttfb_ms=_float(get("ttfb_ms")),
    )


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _iso(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


__all__ = ["RunFacts", "build_report"]
