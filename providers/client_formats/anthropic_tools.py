"""Anthropic ``tools`` and ``tool_choice`` decoded into the IR (``anthropic_format``).

A custom tool (no ``type``, or ``"custom"``) has ``name``, ``description`` and an
``input_schema`` object; ``strict`` is carried, ``cache_control``, ``defer_loading``
(Claude Code's advanced-tool-use beta) and ``input_examples`` are dropped — every
tool is offered to the model. A tool of one of Anthropic's own types (``bash_20250124``,
``web_search_20250305``, ``text_editor_…``, ``code_execution_…``) runs on Anthropic's
side or has a schema only Anthropic knows: it is dropped and noted.
"""

from __future__ import annotations

from collections.abc import Mapping

from messages.chat import ToolChoice, ToolChoiceMode, ToolSpec
from messages.json import JsonObject
from providers.client_formats.request_fields import (
    RequestInvalid,
    as_list,
    as_object,
    field_str,
    optional_bool,
    optional_str,
)

_CHOICES = {
    "auto": ToolChoiceMode.AUTO,
    "any": ToolChoiceMode.REQUIRED,
    "none": ToolChoiceMode.NONE,
    "tool": ToolChoiceMode.NAMED,
}


def decode_tools(value: object, notes: list[str]) -> tuple[ToolSpec, ...]:
    if value is None:
        return ()
    specs: list[ToolSpec] = []
    for index, raw in enumerate(as_list(value, "tools")):
        param = f"tools[{index}]"
        tool = as_object(raw, param)
        kind = optional_str(tool, "type", param)
        if kind not in (None, "custom"):
            notes.append(f"tool:{kind}")
            continue
        dropped = ("defer_loading", "cache_control", "input_examples")
        notes.extend(f"tools.{name}" for name in dropped if tool.get(name) is not None)
        specs.append(_custom_tool(tool, param))
    return tuple(specs)


def _custom_tool(tool: Mapping[str, object], param: str) -> ToolSpec:
    schema = tool.get("input_schema")
    if not isinstance(schema, dict):
        where = f"{param}.input_schema"
        raise RequestInvalid(f"'{where}' is required and must be a JSON Schema object", where)
    typed: JsonObject = schema
    return ToolSpec(
        name=field_str(tool, "name", param),
        description=optional_str(tool, "description", param) or "",
        parameters=typed,
        strict=optional_bool(tool, "strict", param),
    )


def decode_tool_choice(value: object) -> tuple[ToolChoice | None, bool | None]:
    """The IR tool choice and ``parallel_tool_calls`` (False when parallel use is off)."""
    if value is None:
        return None, None
    choice = as_object(value, "tool_choice")
    kind = choice.get("type")
    mode = _CHOICES.get(kind) if isinstance(kind, str) else None
    if mode is None:
        raise RequestInvalid(
            "'tool_choice.type' must be 'auto', 'any', 'tool' or 'none'", "tool_choice.type"
        )
    serial = optional_bool(choice, "disable_parallel_tool_use", "tool_choice")
    name = field_str(choice, "name", "tool_choice") if mode is ToolChoiceMode.NAMED else None
    return ToolChoice(mode=mode, name=name), (False if serial else None)


__all__ = ["decode_tool_choice", "decode_tools"]
