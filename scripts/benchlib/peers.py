"""The peers, each installed once into a throwaway directory under ``bench/tmp/``.

LiteLLM proxy: its own venv (``pip install 'litellm[proxy]'``), a ``model_list`` entry
``openai/gpt-bench`` with ``api_base`` on the fake, a master key, no database (so no
spend log), one uvicorn worker. Portkey gateway: ``npm install @portkey-ai/gateway``,
``build/start-server.js --port=P --headless``; each request names the provider and the
fake with ``x-portkey-provider: openai`` and ``x-portkey-custom-host``.

Portkey 1.15 crashes on every streamed OpenAI answer ("TypeError: immutable") with
``@hono/node-server`` 1.14 and later, whose lightweight ``Response`` keeps the fetch
answer's immutable ``Headers`` that Portkey then appends to. Its declared range
(``^1.3.3``) allows 1.13.8, the last release before that change, so the install pins
it with an npm ``overrides`` entry; nothing in Portkey itself is changed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from benchlib.load import Target
from benchlib.processes import REPO, Server, free_port, pinned, port_ready, spawn, stop, wait_for
from benchlib.targets import MODEL, UPSTREAM_KEY

PEER_ROOT = REPO / "bench" / "tmp"
LITELLM_KEY = "sk-litellm-bench-0123456789abcdef"
PORTKEY_VERSION = "1.15.2"
PORTKEY_PACKAGE = {
    "private": True,
    "dependencies": {"@portkey-ai/gateway": PORTKEY_VERSION},
    "overrides": {"@hono/node-server": "1.13.8"},
}
PEERS = ("litellm", "portkey")


class PeerUnavailable(RuntimeError):
    """The peer cannot be installed or started here; the message says why."""


def _run(command: list[str], log: Path, *, cwd: Path = REPO) -> None:
    print(f"  $ {' '.join(command)}   (log: {log})", file=sys.stderr, flush=True)
    with log.open("ab") as sink:
        done = subprocess.run(command, cwd=cwd, stdout=sink, stderr=sink, check=False, timeout=1800)
    if done.returncode != 0:
        raise PeerUnavailable(f"{command[0]} failed ({done.returncode}); see {log}")


def install(peer: str) -> Path:
    """Install ``peer`` under bench/tmp/ unless already there; its directory."""
    PEER_ROOT.mkdir(parents=True, exist_ok=True)
    home = PEER_ROOT / peer
    log = PEER_ROOT / f"{peer}-install.log"
    if peer == "litellm":
        if not (home / "bin" / "litellm").exists():
            python = shutil.which("python3.11") or shutil.which("python3") or sys.executable
            _run([python, "-m", "venv", str(home)], log)
            _run([str(home / "bin" / "pip"), "install", "--quiet", "litellm[proxy]"], log)
        return home
    if peer == "portkey":
        if shutil.which("npm") is None or shutil.which("node") is None:
            raise PeerUnavailable("node and npm are needed for the Portkey gateway")
        manifest = home / "package.json"
        pinned_here = manifest.exists() and json.loads(manifest.read_text()) == PORTKEY_PACKAGE
        if not (pinned_here and _portkey_script(home).exists()):
            home.mkdir(parents=True, exist_ok=True)
            manifest.write_text(json.dumps(PORTKEY_PACKAGE, indent=2) + "\n")
            _run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(home)], log)
        return home
    raise PeerUnavailable(f"unknown peer {peer!r} (known: {', '.join(PEERS)})")


def _portkey_script(home: Path) -> Path:
    return home / "node_modules" / "@portkey-ai" / "gateway" / "build" / "start-server.js"


def start(
    peer: str, home: Path, workdir: Path, fake: Server, *, core: int | None
) -> tuple[Server, Target]:
    if peer == "litellm":
        return _start_litellm(home, workdir, fake, core)
    return _start_portkey(home, workdir, fake, core)


def _litellm_config(fake_port: int) -> str:
    return f"""\
model_list:
  - model_name: "{MODEL}"
    litellm_params:
      model: "openai/{MODEL}"
      api_base: "http://127.0.0.1:{fake_port}/v1"
      api_key: "{UPSTREAM_KEY}"
general_settings:
  master_key: "{LITELLM_KEY}"
litellm_settings:
  drop_params: true
"""


def _start_litellm(
    home: Path, workdir: Path, fake: Server, core: int | None
) -> tuple[Server, Target]:
    config = workdir / "litellm.yaml"
    config.write_text(_litellm_config(fake.port))
    port = free_port()
    command = [
        str(home / "bin" / "litellm"),
        "--config",
        str(config),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--num_workers",
        "1",
    ]
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False"}
    server = _started("litellm", pinned(command, core), workdir, port, env=env)
    headers = (("authorization", f"Bearer {LITELLM_KEY}"),)
    return server, Target(name="litellm", port=port, headers=headers)


def _start_portkey(
    home: Path, workdir: Path, fake: Server, core: int | None
) -> tuple[Server, Target]:
    port = free_port()
    command = ["node", str(_portkey_script(home)), f"--port={port}", "--headless"]
    server = _started("portkey", pinned(command, core), workdir, port, env=None)
    headers = (
        ("x-portkey-provider", "openai"),
        ("x-portkey-custom-host", f"http://127.0.0.1:{fake.port}/v1"),
        ("authorization", f"Bearer {UPSTREAM_KEY}"),
    )
    return server, Target(name="portkey", port=port, headers=headers)


def _started(
    name: str, command: list[str], workdir: Path, port: int, *, env: dict[str, str] | None
) -> Server:
    log = workdir / f"{name}.log"
    process = spawn(command, log, cwd=workdir, env=env)
    try:
        wait_for(process, log, port_ready(port), timeout_s=180)
    except BaseException:
        stop(process)
        raise
    return Server(name=name, process=process, port=port, log=log)
