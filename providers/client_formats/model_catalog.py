"""``GET /models``: the models a virtual key may ask for, in the shape its client reads.

Two shapes, chosen by the request: Codex asks ``GET {base}/models?client_version=…``
(its built-in ``openai`` provider, or a provider with ``requires_openai_auth``) and
decodes Codex's own catalog, ``{"models": [ModelInfo…]}``, to fill its model picker;
everyone else (the OpenAI SDKs) gets OpenAI's list, ``{"object": "list", "data": […]}``.

Each model of the key's account is listed under its own name and pinned to its provider
(``<provider id>/<model>``); a key with ``allowed_models`` sees only those. A Codex
catalog entry carries the fields Codex 0.169 requires, with neutral values: no
reasoning levels the upstream may not have, the ``shell_command`` tool, a 128k window.
Codex takes a catalog entry's ``base_instructions`` as the system prompt for that model,
in place of the one it ships with (an empty string would leave the model without one),
so each entry carries ``CODEX_INSTRUCTIONS``, a short prompt of the gateway's own.
Codex fetches the catalog only with a ChatGPT-style login (a stored access token);
with ``codex login --with-api-key`` it keeps its bundled catalog and prompts.
"""

from __future__ import annotations

import orjson

from config.model import AccountConfig, VirtualKeyConfig

CODEX_INSTRUCTIONS = (
    "You are a coding agent working in the user's workspace through the Codex CLI. "
    "Use the tools you are given to read files, run commands and make changes; prefer "
    "small, verifiable steps; say briefly what you did and what is left."
)
"""The system prompt of a catalog entry (see the module's docstring)."""

CODEX_CONTEXT_WINDOW = 128_000
"""The window a Codex catalog entry declares (Codex compacts at 90% of it)."""


def wants_codex_catalog(target: str) -> bool:
    """True for Codex's catalog request (its query names ``client_version``)."""
    query = target.partition("?")[2]
    return any(part.partition("=")[0] == "client_version" for part in query.split("&"))


def listed_models(account: AccountConfig | None, key: VirtualKeyConfig) -> list[tuple[str, str]]:
    """``(model name, provider type)`` for each name the key may use, first-seen order."""
    names: dict[str, str] = {}
    for provider in account.providers if account else ():
        for name in (provider.model, f"{provider.id}/{provider.model}"):
            names.setdefault(name, provider.type)
    allowed = key.allowed_models
    return [(name, kind) for name, kind in names.items() if not allowed or name in allowed]


def render_openai_list(models: list[tuple[str, str]]) -> bytes:
    data = [
        {"id": name, "object": "model", "created": 0, "owned_by": kind} for name, kind in models
    ]
    return orjson.dumps({"object": "list", "data": data})


def render_codex_catalog(models: list[tuple[str, str]]) -> bytes:
    entries = [_codex_entry(name, kind, rank) for rank, (name, kind) in enumerate(models)]
    return orjson.dumps({"models": entries})


def _codex_entry(name: str, kind: str, rank: int) -> dict[str, object]:
    return {
        "slug": name,
        "display_name": name,
        "description": f"{kind} through Switchyard",
        "default_reasoning_level": None,
        "supported_reasoning_levels": [],
        "shell_type": "shell_command",
        "visibility": "list",
        "supported_in_api": True,
        "priority": rank,
        "upgrade": None,
        "base_instructions": CODEX_INSTRUCTIONS,
        "supports_reasoning_summaries": False,
        "support_verbosity": False,
        "default_verbosity": None,
        "apply_patch_tool_type": None,
        "truncation_policy": {"mode": "tokens", "limit": 10_000},
        "supports_parallel_tool_calls": True,
        "context_window": CODEX_CONTEXT_WINDOW,
        "experimental_supported_tools": [],
        "input_modalities": ["text", "image"],
    }


__all__ = [
    "CODEX_CONTEXT_WINDOW",
    "listed_models",
    "render_codex_catalog",
    "render_openai_list",
    "wants_codex_catalog",
]
