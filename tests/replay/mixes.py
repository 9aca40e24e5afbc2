"""Two provider mixes as config files, for the what-if and models tests and timing."""

from __future__ import annotations

from pathlib import Path

LIVE_MIX = """
accounts:
  - id: "dev"
    providers:
      - {id: "openai-main", type: "openai", api_key: "sk-test-provider-key-0001",
         model: "gpt-5.5", weight: 70}
      - {id: "anthropic-main", type: "anthropic", api_key: "sk-test-provider-key-0002",
         model: "claude-sonnet-4-5", weight: 30}
  - id: "ops"
    providers:
      - {id: "mistral-main", type: "mistral", api_key: "sk-test-provider-key-0003",
         model: "mistral-large-latest", weight: 1}
virtual_keys:
  - {id: "codex-dev", key: "sk-sy-test-virtual-key-0001", account: "dev"}
  - {id: "ops-bot", key: "sk-sy-test-virtual-key-0002", account: "ops"}
"""

OTHER_MIX = """
accounts:
  - id: "dev"
    providers:
      - {id: "gemini-main", type: "gemini", api_key: "sk-test-provider-key-0004",
         model: "gemini-2.5-pro", weight: 3}
      - {id: "openai-mini", type: "openai", api_key: "sk-test-provider-key-0005",
         model: "gpt-5-mini", weight: 1}
  - id: "ops"
    providers:
      - {id: "openai-main", type: "openai", api_key: "sk-test-provider-key-0001",
         model: "gpt-5.5", weight: 1}
virtual_keys:
  - {id: "codex-dev", key: "sk-sy-test-virtual-key-0001", account: "dev"}
  - {id: "ops-bot", key: "sk-sy-test-virtual-key-0002", account: "ops"}
"""

SINGLE_MIX = """
accounts:
  - id: "dev"
    providers:
      - {id: "openai-main", type: "openai", api_key: "sk-test-provider-key-0001",
         model: "gpt-5.5", weight: 1}
  - id: "ops"
    providers:
      - {id: "mistral-main", type: "mistral", api_key: "sk-test-provider-key-0003",
         model: "mistral-large-latest", weight: 1}
virtual_keys:
  - {id: "codex-dev", key: "sk-sy-test-virtual-key-0001", account: "dev"}
  - {id: "ops-bot", key: "sk-sy-test-virtual-key-0002", account: "ops"}
"""


def write_mix(folder: Path, name: str, text: str, db_url: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f'database:\n  url: "{db_url}"\n{text}')
    return path
