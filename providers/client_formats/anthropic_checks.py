"""The top-level fields of an Anthropic Messages request that the gateway reads, checked
at parse time (``inbound_checks`` calls ``check_anthropic``): a wrong type or an absurd
value is a 400 ``invalid_request_error`` naming the field, before the request is routed.
What only the translation reads deeper (each block, each tool's schema) is checked by
``anthropic_format`` with the same ``RequestInvalid``."""

from __future__ import annotations

from collections.abc import Mapping

from providers.client_formats.request_fields import RequestInvalid, as_object, optional_str

MAX_TOP_K = 1_000_000
MAX_USER_ID_CHARS = 256  # Anthropic's own limit on metadata.user_id
MIN_THINKING_BUDGET = 1024  # Anthropic rejects a smaller budget_tokens
_ROLES = ("user", "assistant", "system")
_THINKING = ("enabled", "disabled", "adaptive")
_EFFORTS = ("low", "medium", "high", "max")


def check_anthropic(body: Mapping[str, object]) -> None:
    """Raises ``RequestInvalid`` naming the first field that is wrong."""
    if body.get("max_tokens") is None:
        raise RequestInvalid("'max_tokens' is required", "max_tokens")
    _check_messages(body.get("messages"))
    system = body.get("system")
    if system is not None and not isinstance(system, str | list):
        raise RequestInvalid("'system' must be a string or an array of text blocks", "system")
    stops = body.get("stop_sequences")
    if stops is not None and (
        not isinstance(stops, list) or not all(isinstance(each, str) for each in stops)
    ):
        raise RequestInvalid("'stop_sequences' must be an array of strings", "stop_sequences")
    top_k = body.get("top_k")
    if top_k is not None and (type(top_k) is not int or not 0 <= top_k <= MAX_TOP_K):
        raise RequestInvalid(f"'top_k' must be an integer from 0 to {MAX_TOP_K}", "top_k")
    choice = body.get("tool_choice")
    if choice is not None:
        optional_str(as_object(choice, "tool_choice"), "type", "tool_choice")
    _check_thinking(body)
    _check_metadata(body.get("metadata"))
    if body.get("context_management") is not None:
        as_object(body["context_management"], "context_management")


def _check_messages(messages: object) -> None:
    if not isinstance(messages, list):
        return  # ``inbound`` reports a missing or non-list ``messages``
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            where = f"messages[{index}].role"
            raise RequestInvalid(f"'{where}' must be 'user', 'assistant' or 'system'", where)
        content = message.get("content")
        if not isinstance(content, str | list):
            where = f"messages[{index}].content"
            raise RequestInvalid(f"'{where}' must be a string or an array of blocks", where)


def _check_thinking(body: Mapping[str, object]) -> None:
    config = body.get("output_config")
    if config is not None:
        effort = optional_str(as_object(config, "output_config"), "effort", "output_config")
        if effort is not None and effort not in _EFFORTS:
            where = "output_config.effort"
            raise RequestInvalid(f"'{where}' must be one of {', '.join(_EFFORTS)}", where)
    thinking = body.get("thinking")
    if thinking is None:
        return
    kind = as_object(thinking, "thinking").get("type")
    if kind not in _THINKING:
        where = "thinking.type"
        raise RequestInvalid(f"'{where}' must be 'enabled', 'disabled' or 'adaptive'", where)
    assert isinstance(thinking, Mapping)
    optional_str(thinking, "display", "thinking")
    if kind != "enabled":
        return
    budget, ceiling = thinking.get("budget_tokens"), body.get("max_tokens")
    top = ceiling if type(ceiling) is int else 0
    if type(budget) is not int or not MIN_THINKING_BUDGET <= budget < top:
        where = "thinking.budget_tokens"
        raise RequestInvalid(
            f"'{where}' must be an integer from {MIN_THINKING_BUDGET} to below 'max_tokens'",
            where,
        )


def _check_metadata(metadata: object) -> None:
    if metadata is None:
        return
    user_id = optional_str(as_object(metadata, "metadata"), "user_id", "metadata")
    if user_id is not None and len(user_id) > MAX_USER_ID_CHARS:
        where = "metadata.user_id"
        raise RequestInvalid(f"'{where}' must be at most {MAX_USER_ID_CHARS} characters", where)


__all__ = ["check_anthropic"]
