"""``ChatRequest`` → an Anthropic Messages request body (the top-level fields).

Decisions the wire forces (SPEC §3, §7):

- ``max_tokens`` is required: the request's, capped at the model's ceiling when the model
  is known, else the model's ceiling, else 8192 (``output_limit.anthropic_max_tokens``,
  which the budget estimate reads too).
- ``temperature`` is clamped to 0-1; when both ``temperature`` and ``top_p`` are given only
  ``temperature`` is sent (Claude 4.5+ reject the pair).
- ``reasoning_effort`` turns thinking on: a ``budget_tokens`` (low/medium/high/xhigh →
  2048/8192/24576/32768, leaving at least 1024 tokens of ``max_tokens`` for the answer;
  under 1024 thinking stays off) or, for adaptive models, ``output_config.effort``.
  Thinking then drops ``temperature``/``top_p``. ``minimal``/``none`` mean no thinking.
  Thinking also stays off when the tool choice forces a tool (Anthropic rejects the mix)
  and when the last assistant turn called tools without a signed thinking block first
  (e.g. another provider made it): Anthropic would answer 400 for both.
- ``parallel_tool_calls: false`` → ``tool_choice.disable_parallel_tool_use``.
- ``prompt_cache`` (the provider's ``prompt_cache: auto``): ``cache_control`` breakpoints
  are marked (``_cache_marks``), a client's own kept; ``off`` sends none at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from messages.chat import ChatRequest, TextPart, ToolChoiceMode, ToolSpec
from messages.json import Json
from providers._tool_wire import ToolTable, wire_description, wire_name, wire_schema
from providers.anthropic._cache_marks import mark_breakpoints, strip_marks
from providers.anthropic._messages import encode_conversation, system_marked
from providers.anthropic._models import ModelTraits, ThinkingStyle, model_traits
from providers.output_limit import anthropic_max_tokens

_BUDGETS = {"low": 2048, "medium": 8192, "high": 24576, "xhigh": 32768}
_ADAPTIVE_EFFORTS = {"low": "low", "medium": "medium", "high": "high", "xhigh": "high"}
_MIN_BUDGET = 1024
_ANSWER_RESERVE = 1024
_FORCED = frozenset({ToolChoiceMode.REQUIRED, ToolChoiceMode.NAMED})


def encode_body(
    request: ChatRequest, *, model: str, stream: bool, prompt_cache: bool = True
) -> dict[str, Json]:
    traits = model_traits(model)
    system, messages = encode_conversation(request.messages)
    max_tokens = anthropic_max_tokens(model, request.max_output_tokens)
    body: dict[str, Json] = {"model": model, "max_tokens": max_tokens}
    if system:
        body["system"] = system
        if system_marked(request.messages):
            body["system"] = [
                {"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}
            ]
    body["messages"] = messages
    if request.tools:
        table = ToolTable(request.tools)
        body["tools"] = [_tool(spec) for spec in request.tools]
        choice = _tool_choice(request, table)
        if choice is not None:
            body["tool_choice"] = choice
    thinking = _thinking(request, traits, max_tokens, messages)
    body.update(thinking)
    if not thinking:
        body.update(_sampling(request))
    stops = [stop for stop in request.stop if stop.strip()]
    if stops:
        body["stop_sequences"] = stops
    if stream:
        body["stream"] = True
    if prompt_cache:
        mark_breakpoints(body)
    elif any(isinstance(p, TextPart) and p.cache_mark for m in request.messages for p in m.content):
        strip_marks(body)
    return body


def _tool(spec: ToolSpec) -> dict[str, Json]:
    return {
        "name": wire_name(spec.name, spec.namespace),
        "description": wire_description(spec),
        "input_schema": wire_schema(spec),
    }


def _tool_choice(request: ChatRequest, table: ToolTable) -> dict[str, Json] | None:
    mode = request.tool_choice.mode if request.tool_choice else None
    serial = request.parallel_tool_calls is False
    if mode is ToolChoiceMode.NONE:
        return {"type": "none"}
    choice: dict[str, Json]
    if mode is ToolChoiceMode.REQUIRED:
        choice = {"type": "any"}
    elif mode is ToolChoiceMode.NAMED and request.tool_choice and request.tool_choice.name:
        choice = {"type": "tool", "name": table.wire_name_for(request.tool_choice.name)}
    elif serial:
        choice = {"type": "auto"}
    else:
        return None if mode is None else {"type": "auto"}
    if serial:
        choice["disable_parallel_tool_use"] = True
    return choice


def _thinking(
    request: ChatRequest, traits: ModelTraits, max_tokens: int, messages: Sequence[Json]
) -> dict[str, Json]:
    effort = request.reasoning_effort
    if effort is None or traits.thinking is ThinkingStyle.NONE:
        return {}
    if request.tool_choice is not None and request.tool_choice.mode in _FORCED:
        return {}
    if not _last_tool_turn_starts_with_thinking(messages):
        return {}
    if traits.thinking is ThinkingStyle.ADAPTIVE:
        level = _ADAPTIVE_EFFORTS.get(effort)
        if level is None:
            return {}
        return {"thinking": {"type": "adaptive"}, "output_config": {"effort": level}}
    budget = min(_BUDGETS.get(effort, 0), max_tokens - _ANSWER_RESERVE)
    if budget < _MIN_BUDGET:
        return {}
    return {"thinking": {"type": "enabled", "budget_tokens": budget}}


def _last_tool_turn_starts_with_thinking(messages: Sequence[Json]) -> bool:
    """False when the final assistant turn calls tools but does not open with thinking."""
    for message in reversed(messages):
        if not isinstance(message, Mapping) or message.get("role") != "assistant":
            continue
        content = message.get("content")
        if not isinstance(content, list) or not content:
            return True
        kinds = [block.get("type") for block in content if isinstance(block, Mapping)]
        if "tool_use" not in kinds:
            return True
        return kinds[0] in ("thinking", "redacted_thinking")
    return True


def _sampling(request: ChatRequest) -> dict[str, Json]:
    if request.temperature is not None:
        return {"temperature": min(max(request.temperature, 0.0), 1.0)}
    if request.top_p is not None:
        return {"top_p": request.top_p}
    return {}


__all__ = ["encode_body"]
