"""The two targets every run has: the fake upstream itself, and Switchyard in front of it."""

from __future__ import annotations

import os
from pathlib import Path

from benchlib.load import Target
from benchlib.processes import Server, start_gateway
from benchlib.trail import ADMIN_KEY

VIRTUAL_KEY = "sk-switchyard-bench-0123456789abcdef"
UPSTREAM_KEY = "sk-fake-upstream-0123456789abcdef"
MODEL = "gpt-bench"


def direct_target(fake: Server) -> Target:
    return Target(
        name="direct", port=fake.port, headers=(("authorization", f"Bearer {UPSTREAM_KEY}"),)
    )


def switchyard_config(fake_port: int) -> str:
    """One account, one OpenAI provider on the fake, one virtual key, a budget that never
    runs out (so budget accounting is on the path), a price for the fake's model (an
    unpriced model is refused under a USD budget); no retries."""
    return f"""\
server:
  admin_key: "{ADMIN_KEY}"
accounts:
  - id: "bench"
    providers:
      - id: "fake"
        type: "openai"
        api_key: "{UPSTREAM_KEY}"
        model: "{MODEL}"
        base_url: "http://127.0.0.1:{fake_port}/v1"
        retry: {{max_retries: 0}}
virtual_keys:
  - id: "bench-key"
    key: "{VIRTUAL_KEY}"
    account: "bench"
budgets:
  - level: "virtual_key"
    id: "bench-key"
    limit: 1000000
    period: "daily"
pricing:
  - {{provider: "openai", model: "{MODEL}", input: 1.0, output: 2.0}}
"""


def start_switchyard(
    workdir: Path,
    fake: Server,
    *,
    core: int | None,
    database_url: str | None = None,
    workers: int = 1,
    metrics: bool = True,
) -> tuple[Server, Target]:
    """The gateway with its SQLite trail in ``workdir`` (the trail is on), or on
    ``database_url`` (PostgreSQL, migrated), with ``workers`` processes. Without
    ``metrics`` it counts nothing for ``/metrics`` (``SWITCHYARD_METRICS=off``): the
    target ``switchyard-nometrics``, run beside ``switchyard`` by ``--metrics-variant``."""
    name = "switchyard" if metrics else "switchyard-nometrics"
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "switchyard.yaml"
    config.write_text(switchyard_config(fake.port))
    env = None if metrics else {**os.environ, "SWITCHYARD_METRICS": "off"}
    server = start_gateway(
        workdir,
        config,
        core=core,
        database_url=database_url,
        workers=workers,
        name=name,
        env=env,
    )
    target = Target(
        name=name, port=server.port, headers=(("authorization", f"Bearer {VIRTUAL_KEY}"),)
    )
    return server, target
