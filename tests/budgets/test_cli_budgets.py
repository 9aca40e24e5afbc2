"""``switchyard keys``, ``budgets`` and ``cost`` as a user runs them."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import pytest

from cli.cost import since_day
from cli.database import CommandError
from cli.keys import expiry
from storage import SqlRecorder, make_engine, migrate
from tests.budgets.trail_samples import GPT_55_COST, PricedTrail, request_events

CONFIG = """\
database:
  url: "sqlite:///{db}"
accounts:
  - id: "dev"
    providers:
      - {{id: "p", type: "openai", model: "gpt-5.5", api_key: "sk-test"}}
pricing:
  - {{provider: "openai", model: "gpt-5.5", input: 4, output: 20}}
"""


def _switchyard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_keys_create_list_and_revoke(tmp_path: Path) -> None:
    config = tmp_path / "switchyard.yaml"
    config.write_text(CONFIG.format(db=tmp_path / "cli.db"))
    made = _switchyard(
        "keys", "create", "--name", "laptop", "--config", str(config), "--team", "red"
    )
    assert made.returncode == 0, made.stderr
    secret = made.stdout.splitlines()[-1]
    assert secret.startswith("sy-") and "shown only now" in made.stdout
    key_id = made.stdout.split()[3]
    listed = _switchyard("keys", "list", "--config", str(config))
    assert key_id in listed.stdout and "active" in listed.stdout and "dev" in listed.stdout
    assert secret not in listed.stdout and secret[:10] in listed.stdout
    assert _switchyard("keys", "revoke", key_id, "--config", str(config)).returncode == 0
    rows = orjson.loads(_switchyard("keys", "list", "--config", str(config), "--json").stdout)
    assert [(r["id"], r["state"], r["team"]) for r in rows] == [(key_id, "revoked", "red")]
    unknown = _switchyard("keys", "revoke", "vk_nope", "--config", str(config))
    assert unknown.returncode == 2 and "no stored virtual key" in unknown.stderr
    wrong = _switchyard(
        "keys", "create", "--name", "x", "--account", "prod", "--config", str(config)
    )
    assert wrong.returncode == 2 and "no account 'prod'" in wrong.stderr
    bare = _switchyard("keys", "create", "--name", "x", "--db", f"sqlite:///{tmp_path / 'b.db'}")
    assert bare.returncode == 2 and "--account" in bare.stderr


def test_budgets_set_show_delete_and_bad_input(tmp_path: Path) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'cli.db'}"]
    ok = _switchyard(
        "budgets",
        "set",
        "--level",
        "team",
        "--id",
        "red",
        "--period",
        "weekly",
        "--limit",
        "25",
        *db,
    )
    assert ok.returncode == 0, ok.stderr
    shown = orjson.loads(_switchyard("budgets", "show", "--json", *db).stdout)
    assert [(r["level"], r["scope_id"], r["period"], r["limit_usd"]) for r in shown] == [
        ("team", "red", "weekly", 25.0)
    ]
    assert "not counted yet" in shown[0]["source"]
    bad_period = _switchyard(
        "budgets",
        "set",
        "--level",
        "team",
        "--id",
        "red",
        "--period",
        "fortnightly",
        "--limit",
        "1",
        *db,
    )
    assert bad_period.returncode == 2 and "unknown period" in bad_period.stderr
    nothing = _switchyard("budgets", "set", "--level", "team", "--id", "red", *db)
    assert nothing.returncode == 2 and "--limit" in nothing.stderr
    gone = _switchyard(
        "budgets", "delete", "--level", "team", "--id", "red", "--period", "weekly", *db
    )
    assert gone.returncode == 0
    assert orjson.loads(_switchyard("budgets", "show", "--json", *db).stdout) == []


def test_cost_reports_what_the_trail_says(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate(url)
    engine = make_engine(url)
    trail = PricedTrail()
    SqlRecorder(engine).append(trail.batch(request_events("r1", time.time() - 60)))
    engine.dispose()
    rows = orjson.loads(
        _switchyard("cost", "--by", "model", "--since", "7d", "--json", "--db", url).stdout
    )
    assert [(r["provider"], r["model"], r["requests"]) for r in rows] == [
        ("openai-main", "gpt-5.5", 1)
    ]
    assert rows[0]["cost_usd"] == pytest.approx(GPT_55_COST)
    table = _switchyard("cost", "--by", "team", "--db", url).stdout
    assert "red" in table and "0.014100" in table
    bad = _switchyard("cost", "--since", "last tuesday", "--db", url)
    assert bad.returncode == 2 and "--since" in bad.stderr


def test_migrate_records_the_price_list_with_the_configs_overrides(tmp_path: Path) -> None:
    config = tmp_path / "switchyard.yaml"
    config.write_text(CONFIG.format(db=tmp_path / "cli.db"))
    first = _switchyard("migrate", "--config", str(config))
    assert first.returncode == 0 and "new model prices recorded" in first.stdout
    again = _switchyard("migrate", "--config", str(config))
    assert "0 new model prices" in again.stdout


def test_since_and_expiry_parsing() -> None:
    today = date(2026, 11, 25)
    assert since_day("7d", today=today) == date(2026, 11, 19)
    assert since_day("1w", today=today) == date(2026, 11, 19)
    assert since_day("2026-11-01", today=today) == date(2026, 11, 1)
    assert since_day(None, today=today) is None
    assert expiry("30d", now=100.0) == 100.0 + 30 * 86400
    assert expiry("2026-12-31", now=0) == datetime(2026, 12, 31, tzinfo=UTC).timestamp()
    with pytest.raises(CommandError):
        expiry("soon", now=0)


@pytest.mark.parametrize("limit", ["nan", "NaN", "inf", "-inf", "-1", "1e999"])
def test_budgets_set_refuses_a_limit_that_is_not_a_finite_amount(
    tmp_path: Path, limit: str
) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'cli.db'}"]
    args = ("budgets", "set", "--level", "team", "--id", "red", "--period", "daily")
    refused = _switchyard(*args, f"--limit={limit}", *db)
    assert refused.returncode == 2
    [line] = refused.stderr.strip().splitlines()
    assert "--limit must be a finite number of USD, 0 or more" in line
    assert orjson.loads(_switchyard("budgets", "show", "--json", *db).stdout) == []
