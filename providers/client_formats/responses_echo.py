"""What a translated Response object repeats of its request, as OpenAI's own does (and its
schema requires): ``tools``, ``temperature``, ``top_p``, ``tool_choice`` and
``parallel_tool_calls``. Built once per request; the tools are serialised once
(``orjson.Fragment``), so the three snapshots of a stream (created, in progress, done)
cost no more for a long tool list.

A function tool is echoed as OpenAI echoes it: ``description`` and ``parameters`` null
when not given, ``strict`` true by default (the Responses API's default). Other tools go
back as sent. ``temperature``/``top_p`` not sent are null (the gateway does not know the
upstream's default).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

_FUNCTION_DEFAULTS = {"description": None, "parameters": None, "strict": True}


def response_echo(body: Mapping[str, Any]) -> dict[str, object]:
    echo: dict[str, object] = {
        "temperature": _number(body.get("temperature")),
        "top_p": _number(body.get("top_p")),
    }
    tools = body.get("tools")
    if isinstance(tools, list) and tools:
        echo["tools"] = orjson.Fragment(orjson.dumps([_tool(tool) for tool in tools]))
    choice = body.get("tool_choice")
    if isinstance(choice, str | dict):
        echo["tool_choice"] = choice
    parallel = body.get("parallel_tool_calls")
    if isinstance(parallel, bool):
        echo["parallel_tool_calls"] = parallel
    return echo


def _tool(tool: object) -> object:
    if isinstance(tool, dict) and tool.get("type") == "function":
        return {**_FUNCTION_DEFAULTS, **tool}
    return tool


def _number(value: object) -> float | int | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


__all__ = ["response_echo"]
