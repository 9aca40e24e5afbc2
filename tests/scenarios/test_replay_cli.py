"""``switchyard replay`` and ``switchyard sessions`` with hostile flags: one clear line
and exit status 2, before anything is sent or written."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.gateway_rig import config_yaml, openai_provider
from tests.scenarios.replay_rig import cli_command, cli_env

CASES = [
    (["replay", "--concurrency", "abc"], "--concurrency 'abc': give a whole number"),
    (["replay", "--concurrency", "0"], "--concurrency '0'"),
    (["replay", "--concurrency", "100000000000"], "from 1 to 256"),
    (["replay", "--max-cost", "nan"], "--max-cost 'nan': give USD above 0"),
    (["replay", "--max-cost", "inf"], "--max-cost 'inf'"),
    (["replay", "--max-cost", "-1"], "--max-cost '-1'"),
    (["replay", "--max-cost", "1e300"], "at most 1,000,000"),
    (["replay", "--limit", "0"], "--limit '0': give a whole number"),
    (["replay", "--sample", "many"], "--sample 'many'"),
    (["replay", "--since", "yesterday"], "--since 'yesterday': give a time"),
    (["replay", "--session", ""], "--session: give a non-empty value"),
    (["replay", "--route", "nope/gpt"], "has no provider 'nope'"),
    (["replay", "--route", "fake/"], "--route 'fake/': give a provider id"),
    (["replay", "--resume", "rr_missing"], "--resume 'rr_missing': no such replay run"),
    (["replay", "--resume", "rr_x", "--session", "s"], "--resume replays the run's own"),
    (["replay"], "no logged request matches"),
    (["sessions", "--since", "3 days"], "--since '3 days'"),
    (["sessions", "--limit", "-4"], "--limit '-4'"),
]


@pytest.mark.parametrize(("args", "says"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_hostile_flag_is_one_clear_line(args: list[str], says: str, tmp_path: Path) -> None:
    db = tmp_path / "trail.db"
    config = tmp_path / "other.yaml"
    config.write_text(config_yaml([openai_provider("http://127.0.0.1:9/v1")], db_path=db))
    extra = ["--config", str(config)] if "--resume" not in args else ["--db", f"sqlite:///{db}"]
    result = subprocess.run(
        cli_command(*args, *extra),
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert says in lines[0]
    assert "Traceback" not in result.stderr


def test_replay_without_config_says_what_it_needs(tmp_path: Path) -> None:
    result = subprocess.run(
        cli_command("replay", "--db", f"sqlite:///{tmp_path / 'x.db'}"),
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "switchyard replay: --config FILE is needed: the routing config to replay through"
    )
