"""What-if pricing over logged traffic in a real SQLite file (rows written through the
storage layer's own tables): an equal mix gives the logged costs, another mix gives the
costs computed here by hand from the price list and the routing weights."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from budgets.pricing import PriceTable
from config import load_config
from config.model import GatewayConfig
from fakes.logged_traffic import TrafficShape, insert_traffic
from replay.mix import TargetMix
from replay.report_model import ComparisonReport, ModelKey
from replay.traffic import TrafficSelection
from replay.whatif import whatif_report
from storage.logged_traffic import logged_requests
from storage.tables import requests
from tests.replay.mixes import LIVE_MIX, OTHER_MIX, SINGLE_MIX, write_mix
from tests.storage.conftest import database_url, empty_database_url, engine

PRICES = PriceTable.shipped()
# the storage suite's databases: a SQLite file, and PostgreSQL with SWITCHYARD_TEST_PG_URL
__all__ = ["database_url", "empty_database_url", "engine"]


def _config(tmp_path: Path, name: str, text: str) -> GatewayConfig:
    return load_config(str(write_mix(tmp_path, name, text, "sqlite:///unused.db")))


def _whatif(engine: Engine, other: GatewayConfig, **selection: object) -> ComparisonReport:
    logged = logged_requests(engine, TrafficSelection(**selection))  # type: ignore[arg-type]
    return whatif_report(
        logged, TargetMix(other), PRICES, selection="test", config_name="other.yaml"
    )


def test_a_mix_equal_to_the_logged_one_prices_to_the_logged_costs(
    engine: Engine, tmp_path: Path
) -> None:
    single = _config(tmp_path, "single", SINGLE_MIX)
    insert_traffic(engine, single, TrafficShape(requests=2_000), PRICES)
    with engine.connect() as connection:
        logged_total = connection.execute(sa.select(sa.func.sum(requests.c.cost_usd))).scalar()
    report = _whatif(engine, single)
    assert report.estimate is True and report.kind == "whatif"
    overall = report.overall
    assert overall.replay is not None
    assert overall.original.cost_usd == pytest.approx(logged_total, rel=1e-12)
    assert overall.replay.cost_usd == pytest.approx(logged_total, rel=1e-12)
    assert overall.cost_difference_usd == pytest.approx(0.0, abs=1e-9)
    for row in report.rows:  # each model to itself, every figure equal
        assert row.original_model == row.replay_model
        assert row.replay is not None
        assert row.replay.cost_usd == pytest.approx(row.original.cost_usd, rel=1e-12)
        assert row.replay.input_tokens == row.original.input_tokens
        assert row.replay.output_tokens == row.original.output_tokens
    assert {row.label for row in report.rows} == {
        "openai-main/gpt-5.5 -> openai-main/gpt-5.5",
        "mistral-main/mistral-large-latest -> mistral-main/mistral-large-latest",
    }
    assert "token counts as logged" not in (report.estimate_note or "")


def _price(provider: str, model: str, fresh: int, cached: int, output: int) -> float:
    """USD by hand: fresh input, cached input and output tokens at the listed prices."""
    price = PRICES.find(provider, model)
    assert price is not None and price.cached_input is not None
    return (fresh * price.input + cached * price.cached_input + output * price.output) / 1e6


def test_another_mix_is_priced_by_weight_and_price_list(engine: Engine, tmp_path: Path) -> None:
    live = _config(tmp_path, "live", LIVE_MIX)
    insert_traffic(engine, live, TrafficShape(requests=40, failure_rate=0.0), PRICES)
    logged = logged_requests(engine, TrafficSelection())
    report = _whatif(engine, _config(tmp_path, "other", OTHER_MIX))
    expected = 0.0
    for request in logged:
        fresh = request.input_tokens - request.cached_input_tokens
        cached, output = request.cached_input_tokens, request.output_tokens
        if request.virtual_key == "codex-dev":  # gemini 3 : gpt-5-mini 1
            expected += 0.75 * _price("gemini", "gemini-2.5-pro", fresh, cached, output)
            expected += 0.25 * _price("openai", "gpt-5-mini", fresh, cached, output)
        else:  # ops-bot: all to gpt-5.5
            expected += _price("openai", "gpt-5.5", fresh, cached, output)
    assert report.overall.replay is not None
    assert report.overall.replay.cost_usd == pytest.approx(expected, rel=1e-9)
    assert report.overall.original.cost_usd == pytest.approx(
        sum(r.cost_usd or 0.0 for r in logged), rel=1e-12
    )
    shares = {row.label: row.replay.requests for row in report.rows if row.replay}
    dev = sum(1 for r in logged if r.virtual_key == "codex-dev")
    assert sum(v for k, v in shares.items() if "gemini-main" in k) == pytest.approx(0.75 * dev)
    assert sum(v for k, v in shares.items() if "openai-mini" in k) == pytest.approx(0.25 * dev)
    note = report.estimate_note or ""
    # Anthropic's counts cannot be re-counted for OpenAI offline; GPT-5.5 -> GPT-5 mini can
    assert "anthropic-main/claude-sonnet-4-5 -> openai-mini/gpt-5-mini" in note
    assert "openai-main/gpt-5.5 -> openai-mini/gpt-5-mini" not in note


def test_pinned_requests_and_unknown_accounts(engine: Engine, tmp_path: Path) -> None:
    live = _config(tmp_path, "live", LIVE_MIX)
    insert_traffic(engine, live, TrafficShape(requests=6, failure_rate=0.0), PRICES)
    with engine.begin() as connection:
        connection.execute(
            requests.update()
            .where(requests.c.request_id == "req_synthetic_00000000")
            .values(model_requested="openai-mini/gpt-5-mini")
        )
        connection.execute(
            requests.update()
            .where(requests.c.request_id == "req_synthetic_00000002")
            .values(virtual_key="gone", account_id="gone")
        )
    report = _whatif(engine, _config(tmp_path, "other", OTHER_MIX))
    mini = ModelKey(provider="openai-mini", provider_type="openai", model="gpt-5-mini")
    pinned = [row for row in report.rows if row.replay_model == mini]
    assert sum(row.replay.requests for row in pinned if row.replay) == pytest.approx(1 + 0.25)
    assert "1 requests have no account in other.yaml" in (report.estimate_note or "")
    assert report.overall.replay is not None and report.overall.replay.unpriced == 1


def test_selection_leaves_out_replays_and_unfinished_requests(
    engine: Engine, tmp_path: Path
) -> None:
    live = _config(tmp_path, "live", SINGLE_MIX)
    insert_traffic(engine, live, TrafficShape(requests=10, failure_rate=0.0), PRICES)
    with engine.begin() as connection:
        connection.execute(
            requests.update()
            .where(requests.c.request_id == "req_synthetic_00000001")
            .values(replay_run_id="run_x", original_request_id="req_synthetic_00000000")
        )
        connection.execute(
            requests.update()
            .where(requests.c.request_id == "req_synthetic_00000002")
            .values(status="in_progress")
        )
        connection.execute(  # refused before any provider: a budget, a bad key
            requests.update()
            .where(requests.c.request_id == "req_synthetic_00000009")
            .values(status="failed", attempts=0, error_kind="budget_exceeded")
        )
    assert len(logged_requests(engine, TrafficSelection())) == 7
    start = datetime(2026, 11, 1, tzinfo=UTC)
    window = TrafficSelection(
        since=start + timedelta(seconds=4), until=start + timedelta(seconds=10)
    )
    assert [r.request_id[-2:] for r in logged_requests(engine, window)] == ["03", "04"]
    assert len(logged_requests(engine, TrafficSelection(keys=("ops-bot",)))) == 3
    assert len(logged_requests(engine, TrafficSelection(limit=3))) == 3
    # --model matches the model asked for (all asked for gpt-5.5) or the one that served
    served = TrafficSelection(sessions=("session-0",), models=("mistral-large-latest",))
    assert {r.model for r in logged_requests(engine, served)} == {"mistral-large-latest"}
    assert len(logged_requests(engine, TrafficSelection(models=("gpt-5.5",)))) == 7
