"""``switchyard demo``: the gateway and a local fake OpenAI provider in one process, so a
newcomer sees a real request walk through the actors without any provider key."""

from __future__ import annotations

import sys

import trio

from actors.system import GatewayHandle, run_gateway
from config.loader import parse_config
from fakes import open_fake_provider

DEMO_KEY = "sk-switchyard-demo"

_CONFIG = """\
accounts:
  - id: "demo"
    providers:
      - id: "demo-openai"
        type: "openai"
        api_key: "demo-provider-key"
        model: "gpt-5.5"
        base_url: "{base_url}"
virtual_keys:
  - id: "demo-key"
    key: "{key}"
    account: "demo"
"""

_BANNER = """
Switchyard demo is running: the gateway on {gateway}, a fake OpenAI provider on {fake}.
Every request's event trail goes to {database}.

Try it:
  curl -s {gateway}/v1/chat/completions -H 'Authorization: Bearer {key}' \\
    -H 'Content-Type: application/json' \\
    -d '{{"model": "gpt-5.5", "messages": [{{"role": "user", "content": "hello"}}]}}'

Use it from Codex CLI: put this in $CODEX_HOME/config.toml (e.g. ~/.codex/config.toml)
  model = "gpt-5.5"
  model_provider = "switchyard"
  [model_providers.switchyard]
  name = "Switchyard"
  base_url = "{gateway}/v1"
  env_key = "SWITCHYARD_API_KEY"
  wire_api = "responses"
then:  SWITCHYARD_API_KEY={key} codex exec "run: echo hello from codex > hello.txt"
Or from Claude Code:  ANTHROPIC_BASE_URL={gateway} ANTHROPIC_API_KEY={key} claude
(the fake provider calls the shell tool, Codex's or Claude Code's, for any line
starting with 'run:').

Look at the trail:
  sqlite3 {db_file} 'SELECT request_id, provider, model, status, latency_ms,
                            input_tokens, output_tokens FROM requests'
Stop with Ctrl-C.
"""


async def run_demo(*, host: str, port: int, database_url: str) -> None:
    async with trio.open_nursery() as outer:
        fake = await open_fake_provider(outer)
        config = parse_config(
            _CONFIG.format(base_url=fake.base_url, key=DEMO_KEY), source="<demo>", environ={}
        )
        async with trio.open_nursery() as gateway:
            handle: GatewayHandle = await gateway.start(
                lambda task_status: run_gateway(
                    config,
                    host=host,
                    port=port,
                    database_url=database_url,
                    handle_signals=True,
                    task_status=task_status,
                )
            )
            _print_banner(handle, fake.base_url, database_url)
        # the gateway has shut down gracefully (Ctrl-C / SIGTERM): stop the fake too
        outer.cancel_scope.cancel()


def _print_banner(handle: GatewayHandle, fake_url: str, database_url: str) -> None:
    text = _BANNER.format(
        gateway=handle.base_url,
        fake=fake_url,
        database=database_url,
        db_file=database_url.removeprefix("sqlite:///"),
        key=DEMO_KEY,
    )
    print(text, file=sys.stderr, flush=True)


__all__ = ["DEMO_KEY", "run_demo"]
