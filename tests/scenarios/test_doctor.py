"""``switchyard doctor``: one verdict line per check and exit status 1 when one fails —
on a good setup, a missing key, an unreachable or key-refusing provider, an unmigrated
database and a Codex config that points elsewhere. It changes nothing."""

from __future__ import annotations

import os
import re
import socket
import sys
from pathlib import Path

import pytest
import trio
from alembic.script import ScriptDirectory

from fakes import FakeProviderServer, Fault, open_fake_provider
from storage.database import alembic_config, migrate

CODEX_OK = """\
model = "gpt-5.5"
model_provider = "switchyard"

[model_providers.switchyard]
name = "Switchyard"
base_url = "http://127.0.0.1:8080/v1"
env_key = "SWITCHYARD_API_KEY"
wire_api = "responses"
"""


def _config(tmp_path: Path, base_url: str, api_key: str = '"sk-test-0123456789abcdef"') -> Path:
    path = tmp_path / "switchyard.yaml"
    path.write_text(
        f"""\
database:
  url: "sqlite:///{tmp_path / "trail.db"}"
accounts:
  - id: "a"
    providers:
      - {{id: "main", type: "openai", api_key: {api_key}, model: "gpt-5.5",
          base_url: "{base_url}"}}
virtual_keys:
  - {{id: "k", key: "sk-virtual-key-0123456789", account: "a"}}
"""
    )
    return path


async def _doctor(tmp_path: Path, *args: str) -> tuple[int, dict[str, tuple[str, str]]]:
    codex = tmp_path / "codex"
    env = {**os.environ, "CODEX_HOME": str(codex), "SWITCHYARD_API_KEY": "sk-virtual-key-01"}
    result = await trio.run_process(
        [sys.executable, "-m", "cli.main", "doctor", *args],
        capture_stdout=True,
        capture_stderr=True,
        check=False,
        env=env,
    )
    assert result.stderr == b""
    verdicts = {}
    for line in result.stdout.decode().splitlines():
        outcome, check, detail = re.split(r"\s{2,}", line, maxsplit=2)
        verdicts[check] = (outcome, detail)
    return result.returncode, verdicts


@pytest.fixture
async def fake(nursery: trio.Nursery) -> FakeProviderServer:
    return await open_fake_provider(nursery)


@pytest.fixture
def codex(tmp_path: Path) -> Path:
    home = tmp_path / "codex"
    home.mkdir()
    (home / "config.toml").write_text(CODEX_OK)
    return home


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_a_good_setup_passes_every_check(
    fake: FakeProviderServer, tmp_path: Path, codex: Path
) -> None:
    config = _config(tmp_path, fake.base_url)
    migrate(f"sqlite:///{tmp_path / 'trail.db'}")
    status, verdicts = await _doctor(tmp_path, "--config", str(config), "--providers")
    assert status == 0, verdicts
    assert {check: v[0] for check, v in verdicts.items()} == {
        "config": "ok",
        "database": "ok",
        "provider main": "ok",
        "codex": "ok",
    }
    assert verdicts["provider main"][1].startswith("openai gpt-5.5 answered")
    assert "the latest" in verdicts["database"][1]
    (probe,) = fake.requests
    assert probe.body["max_tokens"] == 1  # one tiny request


async def test_a_missing_key_fails_the_config_naming_the_variable(
    tmp_path: Path, codex: Path
) -> None:
    config = _config(tmp_path, "http://127.0.0.1:9/v1", api_key='"${SURELY_UNSET_DOCTOR_KEY}"')
    status, verdicts = await _doctor(tmp_path, "--config", str(config), "--providers")
    assert status == 1
    assert verdicts["config"][0] == "FAIL"
    assert "SURELY_UNSET_DOCTOR_KEY" in verdicts["config"][1]
    assert verdicts["providers"] == ("skip", "the config did not load")


async def test_a_refused_key_and_an_unreachable_provider_fail(
    fake: FakeProviderServer, tmp_path: Path, codex: Path
) -> None:
    fake.enqueue(Fault(status=401))
    config = _config(tmp_path, fake.base_url)
    migrate(f"sqlite:///{tmp_path / 'trail.db'}")
    status, verdicts = await _doctor(tmp_path, "--config", str(config), "--providers")
    assert status == 1
    assert verdicts["provider main"][0] == "FAIL"
    assert "the key was refused: HTTP 401" in verdicts["provider main"][1]
    assert "sk-test-0123456789abcdef" not in str(verdicts)

    down = _config(tmp_path, f"http://127.0.0.1:{_closed_port()}/v1")
    status, verdicts = await _doctor(tmp_path, "--config", str(down), "--providers")
    assert status == 1
    assert verdicts["provider main"][0] == "FAIL"
    assert "unreachable at http://127.0.0.1:" in verdicts["provider main"][1]
    assert verdicts["config"][0] == verdicts["database"][0] == "ok"


async def test_an_unmigrated_database_says_how_to_fix_it(tmp_path: Path, codex: Path) -> None:
    config = _config(tmp_path, "http://127.0.0.1:9/v1")
    db = tmp_path / "trail.db"
    status, verdicts = await _doctor(tmp_path, "--config", str(config))
    assert status == 1
    assert verdicts["database"][0] == "FAIL"
    assert "switchyard migrate --db" in verdicts["database"][1]
    assert not db.exists()  # doctor creates nothing

    migrate(f"sqlite:///{db}", "0002")
    status, verdicts = await _doctor(tmp_path, "--config", str(config))
    assert status == 1
    outcome, detail = verdicts["database"]
    assert outcome == "FAIL"
    (head,) = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert f"schema at 0002, needs {head}" in detail
    assert "switchyard migrate --db" in detail
    assert verdicts["providers"][0] == "skip"  # opt-in


async def test_a_codex_config_pointing_elsewhere_fails(tmp_path: Path, codex: Path) -> None:
    (codex / "config.toml").write_text(CODEX_OK.replace(":8080", ":9999"))
    config = _config(tmp_path, "http://127.0.0.1:9/v1")
    migrate(f"sqlite:///{tmp_path / 'trail.db'}")
    status, verdicts = await _doctor(tmp_path, "--config", str(config))
    assert status == 1
    assert verdicts["codex"][0] == "FAIL"
    assert "is not this gateway" in verdicts["codex"][1]
