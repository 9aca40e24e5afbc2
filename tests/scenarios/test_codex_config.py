"""``switchyard codex-config`` run as a user runs it: both forms printed from a gateway
config, never a key; ``--write`` merges into an existing Codex config and refuses to
replace different settings unless ``--force``. (The Codex e2e tests configure the real
Codex CLI with its output: ``tests/codex_rig.py``.)"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

GATEWAY_YAML = """\
server:
  host: "0.0.0.0"
  port: 9123
accounts:
  - id: "dev"
    providers:
      - id: "claude"
        type: "anthropic"
        api_key: "${CODEX_CONFIG_TEST_PROVIDER_KEY}"
        model: "claude-sonnet-4-5"
virtual_keys:
  - id: "dev-key"
    key: "sk-this-virtual-key-must-never-be-printed"
    account: "dev"
"""


def _codex_config(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    config = tmp / "switchyard.yaml"
    config.write_text(GATEWAY_YAML)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODEX_CONFIG_TEST_")}
    env["CODEX_HOME"] = str(tmp / "codex-home")
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "codex-config", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_both_forms_are_printed_as_valid_toml_without_any_key(tmp_path: Path) -> None:
    result = _codex_config(tmp=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "sk-this-virtual-key" not in result.stdout + result.stderr
    custom, builtin = result.stdout.split("\n\n# ")
    custom_toml = tomllib.loads(custom)
    assert custom_toml["model"] == "claude-sonnet-4-5"
    assert custom_toml["model_provider"] == "switchyard"
    provider = custom_toml["model_providers"]["switchyard"]
    assert provider["base_url"] == "http://127.0.0.1:9123/v1"  # a wildcard host made loopback
    assert provider["env_key"] == "SWITCHYARD_API_KEY"
    assert provider["wire_api"] == "responses"
    builtin_toml = tomllib.loads("# " + builtin)
    assert builtin_toml == {
        "model": "claude-sonnet-4-5",
        "model_provider": "openai",
        "openai_base_url": "http://127.0.0.1:9123/v1",
    }
    assert "codex login --with-api-key" in builtin


def test_options_choose_the_form_key_variable_model_and_url(tmp_path: Path) -> None:
    result = _codex_config(
        "--form",
        "custom",
        "--key-env",
        "MY_GATEWAY_KEY",
        "--model",
        "claude/claude-sonnet-4-5",
        "--base-url",
        "https://gw.example.com/openai/v1",
        tmp=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    document = tomllib.loads(result.stdout)
    assert document["model"] == "claude/claude-sonnet-4-5"
    assert document["model_providers"]["switchyard"]["env_key"] == "MY_GATEWAY_KEY"
    assert document["model_providers"]["switchyard"]["base_url"] == (
        "https://gw.example.com/openai/v1"
    )
    bad = _codex_config("--key-env", "not a name; rm -rf /", tmp=tmp_path)
    assert bad.returncode == 2 and "--key-env" in bad.stderr
    missing = _codex_config("--config", str(tmp_path / "nope.yaml"), tmp=tmp_path)
    assert missing.returncode == 2 and "invalid config" in missing.stderr


def test_write_merges_into_an_existing_config_and_refuses_to_clobber(tmp_path: Path) -> None:
    home = tmp_path / "codex-home"
    home.mkdir()
    target = home / "config.toml"
    original = (
        'approval_policy = "on-request"\n'
        'model = "o3"\n'
        "\n"
        "[mcp_servers.docs]\n"
        'command = "docs-server"\n'
    )
    target.write_text(original)
    refused = _codex_config("--write", tmp=tmp_path)
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert target.read_text() == original  # untouched

    forced = _codex_config("--write", "--force", tmp=tmp_path)
    assert forced.returncode == 0, forced.stderr
    merged = tomllib.loads(target.read_text())
    assert merged["approval_policy"] == "on-request"
    assert merged["mcp_servers"] == {"docs": {"command": "docs-server"}}
    assert merged["model"] == "claude-sonnet-4-5"
    assert merged["model_provider"] == "switchyard"
    assert merged["model_providers"]["switchyard"]["wire_api"] == "responses"

    again = _codex_config("--write", tmp=tmp_path)  # the same settings: nothing to refuse
    assert again.returncode == 0, again.stderr
    assert tomllib.loads(target.read_text()) == merged

    switched = _codex_config("--write", "--form", "builtin", "--force", tmp=tmp_path)
    assert switched.returncode == 0, switched.stderr
    builtin = tomllib.loads(target.read_text())
    assert builtin["model_provider"] == "openai"
    assert builtin["openai_base_url"] == "http://127.0.0.1:9123/v1"
    assert builtin["mcp_servers"] == {"docs": {"command": "docs-server"}}
    assert target.read_text().count("approval_policy") == 1
    assert "sk-this-virtual-key" not in target.read_text()


def test_write_refuses_a_config_that_is_not_toml(tmp_path: Path) -> None:
    home = tmp_path / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text("model = = broken\n")
    result = _codex_config("--write", "--force", tmp=tmp_path)
    assert result.returncode == 2 and "not valid TOML" in result.stderr
    assert (home / "config.toml").read_text() == "model = = broken\n"


def test_write_creates_the_codex_home_when_missing(tmp_path: Path) -> None:
    result = _codex_config("--write", "--form", "builtin", tmp=tmp_path)
    assert result.returncode == 0, result.stderr
    written = tomllib.loads((tmp_path / "codex-home" / "config.toml").read_text())
    assert written["openai_base_url"] == "http://127.0.0.1:9123/v1"
    assert "printenv SWITCHYARD_API_KEY | codex login --with-api-key" in result.stderr
