"""The exact key and the semantic context: what they cover and what they ignore."""

from __future__ import annotations

from typing import Any

import pytest

from cache.exact_key import IGNORED_FIELDS, Scope, exact_key, semantic_context

SCOPE = Scope(account="dev", team="red", customer="acme")


def _body(**extra: Any) -> dict[str, Any]:
    return {
        "model": "gpt-5.5",
        "instructions": "be brief",
        "input": [{"role": "user", "content": "hi"}],
        **extra,
    }


def test_the_key_is_stable_and_32_bytes() -> None:
    assert exact_key("responses", SCOPE, _body()) == exact_key("responses", SCOPE, _body())
    assert len(exact_key("responses", SCOPE, _body())) == 32


def test_key_order_does_not_matter() -> None:
    reordered = dict(reversed(list(_body().items())))
    assert exact_key("responses", SCOPE, reordered) == exact_key("responses", SCOPE, _body())


@pytest.mark.parametrize("field", sorted(IGNORED_FIELDS))
def test_each_ignored_field_is_ignored(field: str) -> None:
    assert exact_key("responses", SCOPE, _body(**{field: {"any": 1}})) == exact_key(
        "responses", SCOPE, _body()
    )


@pytest.mark.parametrize(
    "change",
    [
        {"model": "gpt-4o"},
        {"instructions": "be long"},
        {"tools": [{"type": "function", "name": "f"}]},
        {"temperature": 0.3},
        {"previous_response_id": "resp_1"},
        {"input": [{"role": "user", "content": "hello"}]},
        {"some_future_field": True},
    ],
)
def test_what_determines_the_answer_changes_the_key(change: dict[str, Any]) -> None:
    assert exact_key("responses", SCOPE, {**_body(), **change}) != exact_key(
        "responses", SCOPE, _body()
    )


@pytest.mark.parametrize(
    "scope",
    [
        Scope(account="other", team="red", customer="acme"),
        Scope(account="dev", team="blue", customer="acme"),
        Scope(account="dev", team="red", customer="globex"),
        Scope(account="dev", team=None, customer="acme"),
    ],
)
def test_the_scope_is_in_the_key(scope: Scope) -> None:
    assert exact_key("responses", scope, _body()) != exact_key("responses", SCOPE, _body())


def test_the_client_format_is_in_the_key() -> None:
    assert exact_key("chat", SCOPE, _body()) != exact_key("responses", SCOPE, _body())


def test_chat_tool_call_ids_are_renamed_in_order() -> None:
    def turn(call_id: str) -> dict[str, Any]:
        return {
            "model": "m",
            "messages": [
                {"role": "user", "content": "go"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": call_id,
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": call_id, "content": "done"},
            ],
        }

    assert exact_key("chat", SCOPE, turn("call_x")) == exact_key("chat", SCOPE, turn("call_y"))


def test_calls_paired_differently_hash_differently() -> None:
    def turn(first: str, second: str) -> dict[str, Any]:
        return {
            "model": "m",
            "input": [
                {"type": "function_call", "call_id": "a", "name": "f", "arguments": "1"},
                {"type": "function_call", "call_id": "b", "name": "f", "arguments": "2"},
                {"type": "function_call_output", "call_id": first, "output": "one"},
                {"type": "function_call_output", "call_id": second, "output": "two"},
            ],
        }

    assert exact_key("responses", SCOPE, turn("a", "b")) != exact_key(
        "responses", SCOPE, turn("b", "a")
    )


def test_the_semantic_context_leaves_out_the_latest_user_message() -> None:
    one = semantic_context("responses", SCOPE, _body())
    two = semantic_context("responses", SCOPE, _body(input=[{"role": "user", "content": "hey"}]))
    assert one.fingerprint == two.fingerprint
    assert (one.latest_user_text, two.latest_user_text) == ("hi", "hey")
    assert not one.tool_results


def test_the_semantic_context_keeps_the_conversation_before_it() -> None:
    earlier = [{"role": "user", "content": "first"}, {"role": "assistant", "content": "ok"}]
    one = semantic_context(
        "responses", SCOPE, _body(input=[*earlier, {"role": "user", "content": "x"}])
    )
    two = semantic_context("responses", SCOPE, _body(input=[{"role": "user", "content": "x"}]))
    assert one.fingerprint != two.fingerprint


def test_user_text_parts_and_the_short_form() -> None:
    parts = [
        {"type": "input_text", "text": "a"},
        {"type": "input_image", "image_url": "u"},
        {"type": "input_text", "text": "b"},
    ]
    context = semantic_context(
        "responses", SCOPE, _body(input=[{"role": "user", "content": parts}])
    )
    assert context.latest_user_text == "a\nb"
    short = semantic_context("responses", SCOPE, _body(input="just text"))
    assert short.latest_user_text == "just text"


def test_tool_results_are_noticed() -> None:
    items = [
        {"type": "function_call_output", "call_id": "c", "output": "x"},
        {"role": "user", "content": "and now?"},
    ]
    assert semantic_context("responses", SCOPE, _body(input=items)).tool_results
    chat = {
        "model": "m",
        "messages": [
            {"role": "tool", "tool_call_id": "c", "content": "x"},
            {"role": "user", "content": "and now?"},
        ],
    }
    assert semantic_context("chat", SCOPE, chat).tool_results


def test_a_body_nested_too_deep_raises_type_error() -> None:
    deep: Any = "x"
    for _ in range(300):
        deep = [deep]
    with pytest.raises(TypeError):
        exact_key("responses", SCOPE, _body(extra=deep))
