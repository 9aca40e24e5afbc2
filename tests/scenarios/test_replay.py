"""``switchyard replay``: logged requests re-sent through another mix, compared, priced;
live cost views and budgets untouched."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx
import pytest
import trio

from fakes import CustomToolCall, FakeProviderServer, FakeUsage, FunctionCall, Reply, Text
from tests.gateway_rig import Trail, auth, make_config, running_gateway
from tests.scenarios.replay_rig import (
    ORIGINAL_PRICE,
    REPLAY_MAX_OUTPUT,
    REPLAY_PRICE,
    cost,
    original_yaml,
    replay_yaml,
    responses_body,
    switchyard,
)

ORIGINAL_USAGE = FakeUsage(input_tokens=100, output_tokens=20)
REPLAY_USAGE = FakeUsage(input_tokens=300, output_tokens=50)
BUDGET = """budgets:
  - {level: "virtual_key", id: "codex-dev", limit: 100, period: "monthly"}
"""
LIVE_VIEWS = ("cost_by_model", "cost_by_key", "cost_by_day", "budget_status")


def _call(name: str, arguments: str) -> Reply:
    return Reply(items=(FunctionCall(name=name, arguments=arguments),), usage=ORIGINAL_USAGE)


async def _log_requests(
    fake: FakeProviderServer, db: Path, count: int, **extra: object
) -> list[str]:
    """``count`` requests through the original mix; their request ids, in order."""
    config = make_config(original_yaml(fake, db, budgets=BUDGET))
    ids = []
    async with running_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            for n in range(count):
                body = responses_body(f"turn {n}", stream=n % 2 == 1, **extra)
                response = await client.post("/v1/responses", json=body, headers=auth())
                assert response.status_code == 200, response.text
                ids.append(response.headers["x-request-id"])
            with trio.fail_after(10):  # the accountant writes its counters once a second
                while not Trail(db).rows("SELECT * FROM budget_counters WHERE spent_usd > 0"):
                    await trio.sleep(0.1)
    return ids


def _spend_on_restart(db: Path) -> list[object]:
    """What a restarted gateway's accountant would load for the key's budget."""
    from messages.budget import BudgetRule
    from storage.budget_store import load_spend
    from storage.database import make_engine

    rules = [
        BudgetRule(level="virtual_key", scope_id="codex-dev", period="monthly", limit_usd=100),
        BudgetRule(level="provider", scope_id="fake-anthropic", period="total", limit_usd=100),
    ]
    engine = make_engine(f"sqlite:///{db}")
    try:
        return list(load_spend(engine, rules, cutoff=time.time() + 1))
    finally:
        engine.dispose()


def _live(trail: Trail) -> dict[str, list[tuple[object, ...]]]:
    views = {
        view: [tuple(row) for row in trail.rows(f"SELECT * FROM {view}")] for view in LIVE_VIEWS
    }
    for view, rows in views.items():
        if view == "budget_status":  # its counters' own clock is not spend
            views[view] = [row[:-1] for row in rows]
    return views


async def test_replay_compares_agreement_and_cost_and_leaves_live_views_alone(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    from fakes import open_fake_provider

    original, other = await open_fake_provider(nursery), await open_fake_provider(nursery)
    db = tmp_path / "trail.db"
    original.enqueue(
        _call("exec_command", '{"cmd": "ls", "cwd": "/tmp"}'),
        _call("exec_command", '{"cmd": "ls"}'),
        _call("exec_command", '{"cmd": "ls"}'),
        Reply(items=(Text(text="the answer is forty two"),), usage=ORIGINAL_USAGE),
    )
    ids = await _log_requests(original, db, 4)
    trail = Trail(db)
    # a live budget on the replay mix's provider (as when both mixes share a provider):
    # what its replays cost must never count in it
    with sqlite3.connect(db) as connection:
        connection.execute(
            "INSERT INTO budget_counters VALUES ('provider', 'fake-anthropic', 'total', 'cli',"
            " 100, NULL, NULL, NULL, NULL, 0, 0, '2026-01-01 00:00:00.000000')"
        )
    live_before = _live(trail)
    assert len(live_before["budget_status"]) == 2, "the key's counters were written"
    restart_before = _spend_on_restart(db)

    other.enqueue(
        # the same call, arguments in another order and spacing: the same as parsed JSON
        Reply(
            items=(FunctionCall(name="exec_command", arguments='{"cwd":"/tmp","cmd":"ls"}'),),
            usage=REPLAY_USAGE,
        ),
        Reply(
            items=(FunctionCall(name="exec_command", arguments='{"cmd": "pwd"}'),),
            usage=REPLAY_USAGE,
        ),
        Reply(
            items=(CustomToolCall(name="apply_patch", input="*** Begin Patch"),), usage=REPLAY_USAGE
        ),
        Reply(items=(Text(text="the answer is forty three"),), usage=REPLAY_USAGE),
    )
    config = tmp_path / "other.yaml"
    config.write_text(replay_yaml(other, db))
    out = tmp_path / "report"
    result = await switchyard(
        "replay", "--config", str(config), "--concurrency", "1", "--json", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    report = result.json()
    assert len(other.requests) == 4

    requests = {row["request_id"]: row for row in report["requests"]}
    assert set(requests) == set(ids)
    verdicts = [requests[rid]["verdict"] for rid in ids]
    assert verdicts == [
        "same_tools_same_args",
        "same_tools_different_args",
        "different_tools",
        "both_text",
    ]
    similarity = requests[ids[3]]["text_similarity"]
    assert similarity == pytest.approx(0.8)  # 4 of 5 words in common: 2*4/10

    overall = report["rows"][0]
    assert overall["row"] == "overall"
    original_cost = 4 * cost(ORIGINAL_PRICE, ORIGINAL_USAGE)
    replay_cost = 4 * cost(REPLAY_PRICE, REPLAY_USAGE)
    assert overall["original_cost_usd"] == pytest.approx(original_cost)
    assert overall["replay_cost_usd"] == pytest.approx(replay_cost)
    assert overall["cost_difference_usd"] == pytest.approx(replay_cost - original_cost)
    assert overall["replay_input_tokens"] == 4 * REPLAY_USAGE.input_tokens
    assert overall["replay_output_tokens"] == 4 * REPLAY_USAGE.output_tokens
    assert {p.name for p in out.iterdir()} >= {"report.json", "report.csv", "requests.csv"}

    # the trail: tagged replays, live views and budgets as they were
    replays = trail.rows("SELECT * FROM requests WHERE replay_run_id IS NOT NULL")
    assert sorted(row["original_request_id"] for row in replays) == sorted(ids)
    assert {row["provider"] for row in replays} == {"fake-anthropic"}
    assert _live(trail) == live_before
    assert _spend_on_restart(db) == restart_before
    runs = trail.rows("SELECT * FROM replay_runs")
    assert [(r["status"], r["requests"], r["replayed"]) for r in runs] == [("completed", 4, 4)]
    assert runs[0]["spent_usd"] == pytest.approx(replay_cost)
    spend = await switchyard("cost", "--db", f"sqlite:///{db}", "--json")
    assert spend.json()[0]["cost_usd"] == pytest.approx(original_cost)


def _max_overlap(rows: list[object]) -> int:
    """The most replayed requests that were in flight at one moment."""
    edges = []
    for row in rows:
        edges += [(row["started_at"], 1), (row["finished_at"], -1)]  # type: ignore[index]
    most = now = 0
    for _, step in sorted(edges, key=lambda edge: (edge[0], edge[1])):
        now += step
        most = max(most, now)
    return most


async def test_max_cost_stops_eight_concurrent_replays_before_the_cap_and_resume_finishes(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    from fakes import open_fake_provider
    from tests.scenarios.replay_rig import fixed

    original, other = await open_fake_provider(nursery), await open_fake_provider(nursery)
    db = tmp_path / "trail.db"
    fixed(original, ORIGINAL_USAGE)
    # the client's maximum output bounds each replay's hold (else the model's ceiling)
    ids = await _log_requests(original, db, 40, max_output_tokens=REPLAY_MAX_OUTPUT)
    fixed(other, REPLAY_USAGE, delay_s=0.2)
    config = tmp_path / "other.yaml"
    config.write_text(replay_yaml(other, db))
    each = cost(REPLAY_PRICE, REPLAY_USAGE)  # $0.00165; 8 at once: $0.0132
    cap = 0.05  # what 30 replays cost: the run must stop before that many

    result = await switchyard(
        "replay", "--config", str(config), "--concurrency", "8", "--max-cost", str(cap), "--json"
    )
    assert result.returncode == 3, result.stderr
    assert "stopped at --max-cost" in result.stderr
    trail = Trail(db)
    (run,) = trail.rows("SELECT * FROM replay_runs")
    assert run["status"] == "capped"
    assert run["spent_usd"] <= cap
    assert 20 <= run["replayed"] < 40
    assert run["spent_usd"] == pytest.approx(run["replayed"] * each)
    assert len(other.requests) == run["replayed"]  # a refused request reached no provider
    counted = trail.rows(
        "SELECT r.* FROM replay_results s JOIN requests r ON r.request_id = s.replay_request_id"
    )
    assert _max_overlap(counted) >= 6  # they did run concurrently

    resumed = await switchyard(
        "replay", "--resume", run["run_id"], "--db", f"sqlite:///{db}", "--max-cost", "1", "--json"
    )
    assert resumed.returncode == 0, resumed.stderr
    (run,) = trail.rows("SELECT * FROM replay_runs")
    assert (run["status"], run["replayed"], run["max_cost_usd"]) == ("completed", 40, 1.0)
    assert len(other.requests) == 40  # each request reached the provider exactly once
    rows = trail.rows("SELECT original_request_id, replay_request_id FROM replay_results")
    assert sorted(row["original_request_id"] for row in rows) == sorted(ids)
    assert all(row["replay_request_id"] for row in rows)


async def test_sigint_leaves_a_consistent_run_that_resume_finishes_exactly_once(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    import signal
    import subprocess

    from fakes import open_fake_provider
    from tests.scenarios.replay_rig import cli_command, cli_env, fixed

    original, other = await open_fake_provider(nursery), await open_fake_provider(nursery)
    db = tmp_path / "trail.db"
    fixed(original, ORIGINAL_USAGE)
    ids = await _log_requests(original, db, 12)
    fixed(other, REPLAY_USAGE, delay_s=0.4)
    config = tmp_path / "other.yaml"
    config.write_text(replay_yaml(other, db))
    trail = Trail(db)
    with (tmp_path / "out").open("wb") as out, (tmp_path / "err").open("wb") as err:
        command = cli_command("replay", "--config", str(config), "--concurrency", "2")
        process = await trio.lowlevel.open_process(
            command, env=cli_env(), stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )
        with trio.fail_after(60):
            while len(other.requests) < 3:  # two done, the third in flight
                await trio.sleep(0.02)
        process.send_signal(signal.SIGINT)
        with trio.fail_after(60):
            code = await process.wait()
    assert code == 130, (tmp_path / "err").read_text()
    (run,) = trail.rows("SELECT * FROM replay_runs")
    assert run["status"] == "interrupted"
    assert 3 <= run["replayed"] < 12
    assert run["replayed"] == len(other.requests)  # the ones in flight finished and count
    left = trail.rows("SELECT * FROM replay_results WHERE replay_request_id IS NULL")
    assert len(left) == 12 - run["replayed"]

    resumed = await switchyard("replay", "--resume", run["run_id"], "--db", f"sqlite:///{db}")
    assert resumed.returncode == 0, resumed.stderr
    (run,) = trail.rows("SELECT * FROM replay_runs")
    assert (run["status"], run["replayed"]) == ("completed", 12)
    assert len(other.requests) == 12  # each request reached the provider exactly once
    tagged = trail.rows(
        "SELECT original_request_id, COUNT(*) AS n FROM requests"
        " WHERE replay_run_id IS NOT NULL GROUP BY original_request_id"
    )
    assert sorted(row["original_request_id"] for row in tagged) == sorted(ids)
    assert {row["n"] for row in tagged} == {1}


async def test_route_pins_one_provider_of_the_other_config_with_its_model(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    from fakes import open_fake_provider
    from tests.gateway_rig import config_yaml, openai_provider
    from tests.scenarios.replay_rig import PRICING, fixed
    from tests.scenarios.translation_rig import provider_for

    original, other = await open_fake_provider(nursery), await open_fake_provider(nursery)
    db = tmp_path / "trail.db"
    fixed(original, ORIGINAL_USAGE)
    ids = await _log_requests(original, db, 3)
    fixed(other, REPLAY_USAGE)
    providers = [  # the router would pick the first almost always; the pin picks the second
        openai_provider(other.base_url, id="heavy", weight=1000),
        provider_for("anthropic", other, weight=1),
    ]
    config = tmp_path / "other.yaml"
    config.write_text(config_yaml(providers, db_path=db) + PRICING)
    pinned = "fake-anthropic/claude-opus-4-1-20250805"
    result = await switchyard("replay", "--config", str(config), "--route", pinned, "--json")
    assert result.returncode == 0, result.stderr
    served = Trail(db).rows("SELECT provider, model FROM requests WHERE replay_run_id IS NOT NULL")
    assert [tuple(row) for row in served] == [("fake-anthropic", "claude-opus-4-1-20250805")] * 3
    assert {request.path for request in other.requests} == {"/v1/messages"}
    assert len(result.json()["requests"]) == len(ids)


async def test_a_request_whose_body_retention_pruned_is_skipped_and_said(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    from fakes import open_fake_provider
    from tests.scenarios.replay_rig import fixed

    original, other = await open_fake_provider(nursery), await open_fake_provider(nursery)
    db = tmp_path / "trail.db"
    fixed(original, ORIGINAL_USAGE)
    ids = await _log_requests(original, db, 3)
    with sqlite3.connect(db) as connection:  # as retention leaves a pruned trail
        connection.execute(
            "DELETE FROM events WHERE request_id = ? AND kind = 'request.received'", (ids[1],)
        )
    fixed(other, REPLAY_USAGE)
    config = tmp_path / "other.yaml"
    config.write_text(replay_yaml(other, db))
    result = await switchyard("replay", "--config", str(config), "--json")
    assert result.returncode == 0, result.stderr
    assert "1 requests have no stored body any more (retention): not replayed" in result.stderr
    assert len(other.requests) == 2
    (run,) = Trail(db).rows("SELECT * FROM replay_runs")
    assert (run["status"], run["requests"], run["replayed"]) == ("completed", 3, 2)
    rows = {row["request_id"]: row for row in result.json()["requests"]}
    assert rows[ids[1]]["replay_request_id"] is None
