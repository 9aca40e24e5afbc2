"""Every mistake a user can make on the command line ends in one line on stderr (exit
status 2), never a traceback; ``--help`` speaks to users."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

GOOD = """\
accounts:
  - id: "a"
    providers:
      - {id: "p", type: "openai", api_key: "sk-test-0123456789abcdef", model: "gpt-5.5"}
virtual_keys:
  - {id: "k", key: "sk-virtual-key-0123456789", account: "a"}
"""


def _switchyard(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _one_line(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    for word in words:
        assert word in lines[0]
    return lines[0]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "switchyard.yaml"
    path.write_text(GOOD)
    return path


def test_a_port_in_use_is_one_line(config: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        db = f"sqlite:///{tmp_path / 'trail.db'}"
        result = _switchyard("serve", "--config", str(config), "--port", port, "--db", db)
    line = _one_line(result, "switchyard serve:", "already in use", "--port")
    assert line.startswith("switchyard serve: cannot listen")


def test_an_address_not_of_this_machine_is_one_line(config: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'trail.db'}"
    result = _switchyard(
        "serve", "--config", str(config), "--host", "192.0.2.1", "--port", "0", "--db", db
    )
    _one_line(result, "cannot listen", "not one of this machine's")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("serve", "--config", "/nonexistent/switchyard.yaml"), ("cannot read the config file",)),
        (("serve",), ("--config",)),
        (("serve", "--config", "x.yaml", "--port", "http"), ("--port", "0 to 65535", "--help")),
        (("serve", "--config", "x.yaml", "--port", "70000"), ("--port", "0 to 65535")),
        (("demo", "--port", "-1"), ("--port",)),
        (("--log-level", "loud", "doctor"), ("--log-level", "debug, info")),
        (("cost", "--by", "colour"), ("--by", "invalid choice")),
        (("cost", "--since", "last tuesday", "--db", "sqlite://"), ("--since", "7d")),
        (("frobnicate",), ("invalid choice", "frobnicate")),
        (("serve", "--config", "x.yaml", "--workers", "many"), ("--workers", "invalid int")),
    ],
)
def test_bad_arguments_are_one_line(args: tuple[str, ...], words: tuple[str, ...]) -> None:
    _one_line(_switchyard(*args), *words)


def test_bad_yaml_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "broken.yaml"
    config.write_text('accounts:\n  - id: "a"\n    providers: [\n')
    result = _switchyard("serve", "--config", str(config))
    _one_line(result, "invalid config", str(config))


def test_an_unreachable_database_is_one_line(config: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once closed
    url = f"postgresql://switchyard:hunter2-secret@127.0.0.1:{port}/switchyard"
    for command in (("serve", "--config", str(config), "--db", url), ("cost", "--db", url)):
        line = _one_line(_switchyard(*command), "cannot open the database")
        assert "hunter2-secret" not in line


def test_a_database_path_that_cannot_exist_is_one_line(config: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-dir' / 'trail.db'}"
    _one_line(_switchyard("migrate", "--db", url), "cannot open the database")
    _one_line(_switchyard("serve", "--config", str(config), "--db", url), "database")


def test_several_workers_on_sqlite_is_one_line(config: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'trail.db'}"
    _one_line(_switchyard("serve", "--config", str(config), "--workers", "2", "--db", db))


def test_a_database_url_not_understood_is_one_line(config: Path) -> None:
    result = _switchyard("serve", "--config", str(config), "--db", "nosuchdb://x/y")
    _one_line(result, "database URL not understood")


def test_help_speaks_to_users() -> None:
    result = _switchyard("--help")
    assert result.returncode == 0
    assert "actors" not in result.stdout and "trio" not in result.stdout
    assert "AI gateway for coding agents" in result.stdout
    for command in ("serve", "demo", "doctor", "migrate", "keys", "budgets", "cost", "body"):
        assert command in result.stdout
    serve = _switchyard("serve", "--help")
    assert "listen port" in serve.stdout
