"""``switchyard whatif`` and ``switchyard models`` on a real SQLite file: the files
``--out`` writes, and one clear line for each mistake a user can make."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

from budgets.pricing import PriceTable
from config import load_config
from fakes.logged_traffic import TrafficShape, insert_traffic
from storage.database import make_engine, migrate
from tests.replay.mixes import LIVE_MIX, OTHER_MIX, write_mix


def _switchyard(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "cli.main", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def _logged(tmp_path: Path) -> tuple[str, Path]:
    url = f"sqlite:///{tmp_path / 'trail.db'}"
    live = write_mix(tmp_path, "live", LIVE_MIX, url)
    migrate(url)
    engine = make_engine(url)
    insert_traffic(engine, load_config(str(live)), TrafficShape(requests=300), PriceTable.shipped())
    engine.dispose()
    return url, write_mix(tmp_path, "other", OTHER_MIX, url)


def test_whatif_and_models_write_json_csv_and_html(tmp_path: Path) -> None:
    url, other = _logged(tmp_path)
    out = tmp_path / "whatif"
    result = _switchyard("whatif", "--config", str(other), "--db", url, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "what-if (an estimate)" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["report.csv", "report.html", "report.json"]
    document = orjson.loads((out / "report.json").read_bytes())
    assert document["estimate"] is True and document["rows"][0]["original_requests"] == 300
    assert "Estimate." in (out / "report.html").read_text()
    sample = _switchyard("whatif", "--config", str(other), "--db", url, "--sample", "40", "--json")
    assert orjson.loads(sample.stdout)["rows"][0]["original_requests"] == 40
    assert "a sample of 40" in orjson.loads(sample.stdout)["selection"]
    models = _switchyard("models", "--db", url, "--since", "2026-10-31", "--json")
    assert models.returncode == 0, models.stderr
    rows = orjson.loads(models.stdout)["rows"]
    assert rows[0]["row"] == "overall" and rows[0]["requests"] == 300
    assert {row["original_model"] for row in rows[1:]} == {
        "gpt-5.5",
        "claude-sonnet-4-5",
        "mistral-large-latest",
    }
    assert all(0 <= row["error_rate"] < 0.2 for row in rows[1:])


def test_mistakes_get_one_clear_line(tmp_path: Path) -> None:
    url, other = _logged(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    cases = [
        (("whatif", "--db", url), "--config: give the config"),
        (("whatif", "--config", str(other), "--db", url, "--since", "yesterday"), "--since"),
        (("whatif", "--config", str(other), "--db", url, "--limit", "-3"), "--limit '-3'"),
        (("whatif", "--config", str(other), "--db", url, "--limit", "1e99"), "--limit"),
        (("whatif", "--config", str(other), "--db", url, "--sample", "0"), "--sample '0'"),
        (("whatif", "--config", str(other), "--db", url, "--out", str(blocker)), "--out"),
        (("whatif", "--config", str(tmp_path / "missing.yaml"), "--db", url), "invalid config"),
        (("models", "--db", url, "--until", "2026-13-45"), "--until"),
        (("models", "--db", url, "--since", "999999w"), "before the year 1"),
        (("models", "--db", "not a url"), "is not a database URL"),
        (("models", "--db", f"sqlite:///{tmp_path}/no/such/dir/x.db"), "unable to open"),
        (("models", "--db", url, "--since", "7 days"), "--since"),
    ]
    for args, expected in cases:
        result = _switchyard(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0], (args, result.stderr)
        assert "Traceback" not in result.stderr
