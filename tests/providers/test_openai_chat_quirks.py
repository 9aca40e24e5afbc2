"""Each Chat Completions provider's quirks: Mistral, Groq, Perplexity, Cerebras, compatible."""

from __future__ import annotations

import json
import re

import pytest

from config.provider_types import PROVIDER_TYPES
from fakes.mistral_wire import rejection
from messages.chat import (
    FinishReason,
    Message,
    Reasoning,
    Role,
    StreamFailure,
    TextPart,
    ToolChoice,
    ToolChoiceMode,
)
from messages.errors import ErrorKind
from messages.usage import Usage
from providers import cerebras, groq, mistral, openai_chat_upstream, openai_compatible, perplexity
from providers.adapter import CallTarget
from providers.mistral import mistral_call_id
from tests.providers.anthropic_support import (
    WEATHER,
    call,
    codex_like_conversation,
    fold,
    request,
    tool_result,
    user,
)
from tests.providers.chat_family_support import (
    body_of,
    chat_events,
    chunk_event,
    decode,
    fixture_bytes,
)

NINE = re.compile(r"[A-Za-z0-9]{9}")
MODULES = (openai_chat_upstream, mistral, groq, cerebras, perplexity, openai_compatible)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_each_adapter_is_named_after_its_config_type(module: object) -> None:
    adapter = module.ADAPTER  # type: ignore[attr-defined]
    assert adapter.name in PROVIDER_TYPES
    assert adapter.quirks.name == adapter.name


# --- Mistral --------------------------------------------------------------------------------


def test_mistral_whole_tool_call_in_the_finish_chunk() -> None:
    seen = fold(decode(mistral.ADAPTER, chat_events("mistral", "stream-tool-call.chunks.jsonl")))
    [only] = seen.calls
    assert (only.id, only.name, only.fragments) == (
        "gSIMJiOkT",
        "weather",
        ['{"location": "San Francisco"}'],
    )
    assert (seen.finish, seen.failures) == ([FinishReason.TOOL_CALLS], [])
    assert seen.usage == Usage(input_tokens=124, output_tokens=22)


def test_mistral_incremental_tool_call_and_cached_tokens() -> None:
    events = chat_events("mistral", "stream-incremental-tool-call.chunks.jsonl")
    seen = fold(decode(mistral.ADAPTER, events))
    [only] = seen.calls
    assert json.loads(only.arguments) == {"query": "current Berlin weather"}
    assert seen.usage == Usage(input_tokens=171, cached_input_tokens=128, output_tokens=14)


def test_mistral_bodies_with_a_call_and_with_thinking_chunks() -> None:
    seen = fold(
        mistral.ADAPTER.parse_reply(fixture_bytes("mistral", "nonstream-tool-call.response.json"))
    )
    assert [(c.id, c.name, c.arguments) for c in seen.calls] == [
        ("gSIMJiOkT", "weather", '{"location": "San Francisco"}')
    ]
    reasoning = fixture_bytes("mistral", "nonstream-reasoning.response.json")
    seen = fold(mistral.ADAPTER.parse_reply(reasoning))
    assert seen.reasoning_text == "The user is asking for 2+2. This is basic arithmetic. 2+2=4."
    assert [d.reasoning.provider for d in seen.reasoning_done] == ["mistral"]
    assert (seen.text, seen.finish) == ("2 + 2 = 4", [FinishReason.STOP])


def test_mistral_call_ids_are_rewritten_the_same_way_every_turn() -> None:
    turn_one = codex_like_conversation()
    turn_two = request(
        *turn_one.messages,
        Message(role=Role.ASSISTANT, content=(TextPart(text="Listed."),)),
        user("again"),
        tools=turn_one.tools,
    )
    first, second = body_of(mistral.ADAPTER, turn_one), body_of(mistral.ADAPTER, turn_two)
    ids = [c["id"] for c in first["messages"][2]["tool_calls"]]
    assert all(NINE.fullmatch(i) for i in ids) and len(set(ids)) == 2
    assert [m["tool_call_id"] for m in first["messages"][3:5]] == ids  # pairs still match
    assert [c["id"] for c in second["messages"][2]["tool_calls"]] == ids  # same ids next turn
    assert rejection(first) is None and rejection(second) is None  # the fake's Mistral check


def test_mistral_ids_that_fit_are_kept() -> None:
    assert mistral_call_id("gSIMJiOkT") == "gSIMJiOkT"
    assert mistral_call_id("call_1") == mistral_call_id("call_1") != mistral_call_id("call_2")
    assert NINE.fullmatch(mistral_call_id("toolu_01NRLabsLyVHZPKxbKvkfSMn"))
    assert NINE.fullmatch(mistral_call_id(""))


def test_mistral_bridges_a_tool_result_followed_by_a_user_message() -> None:
    conversation = request(
        user("run it"),
        Message(role=Role.ASSISTANT, tool_calls=(call("call_1", "{}"),)),
        tool_result("call_1", "done"),
        user("and now?"),
    )
    body = body_of(mistral.ADAPTER, conversation)
    assert [m["role"] for m in body["messages"]] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
    ]
    assert rejection(body) is None
    plain = body_of(openai_compatible.ADAPTER, conversation)
    assert [m["role"] for m in plain["messages"]] == ["user", "assistant", "tool", "user"]


def test_mistral_request_fields() -> None:
    conversation = request(
        user("x"),
        tools=(WEATHER,),
        tool_choice=ToolChoice(mode=ToolChoiceMode.REQUIRED),
        max_output_tokens=100,
        reasoning_effort="medium",
    )
    body = body_of(mistral.ADAPTER, conversation, "mistral-small-latest", stream=True)
    assert (body["tool_choice"], body["max_tokens"], body["reasoning_effort"]) == (
        "any",
        100,
        "high",
    )
    assert "stream_options" not in body and "max_completion_tokens" not in body
    assert "reasoning_effort" not in body_of(
        mistral.ADAPTER, conversation, "magistral-medium-latest"
    )
    minimal = request(user("x"), reasoning_effort="minimal")
    assert body_of(mistral.ADAPTER, minimal, "mistral-medium-latest")["reasoning_effort"] == "none"


def test_mistral_gets_its_own_reasoning_back_and_no_one_elses() -> None:
    assistant = Message(
        role=Role.ASSISTANT,
        content=(TextPart(text="4"),),
        reasoning=(
            Reasoning(provider="mistral", text="2+2=4"),
            Reasoning(provider="anthropic", text="hmm", signature="sig"),
        ),
    )
    body = body_of(mistral.ADAPTER, request(user("2+2?"), assistant, user("and 3+3?")))
    assert body["messages"][1]["content"] == [
        {"type": "thinking", "thinking": [{"type": "text", "text": "2+2=4"}]},
        {"type": "text", "text": "4"},
    ]
    assert body_of(groq.ADAPTER, request(user("2+2?"), assistant))["messages"][1]["content"] == "4"


# --- Groq -----------------------------------------------------------------------------------


def test_groq_usage_from_x_groq_and_a_whole_call() -> None:
    seen = fold(decode(groq.ADAPTER, chat_events("groq", "stream-tool-call.chunks.jsonl")))
    [only] = seen.calls
    assert (only.name, only.fragments) == ("weather", ["{}"])
    assert seen.usage == Usage(input_tokens=210, output_tokens=15)
    x_groq_only = {"choices": [], "x_groq": {"usage": {"prompt_tokens": 5, "completion_tokens": 2}}}
    events = [
        chunk_event({"choices": [{"delta": {"content": "hi"}, "finish_reason": "stop"}]}),
        chunk_event(x_groq_only),
        chunk_event("[DONE]"),
    ]
    assert fold(decode(groq.ADAPTER, events)).usage == Usage(input_tokens=5, output_tokens=2)


def test_groq_reasoning_and_its_token_arithmetic() -> None:
    seen = fold(
        groq.ADAPTER.parse_reply(fixture_bytes("groq", "nonstream-reasoning.response.json"))
    )
    assert seen.reasoning_text.startswith("Okay, so the user is asking how many times")
    assert [d.reasoning.provider for d in seen.reasoning_done] == ["groq"]
    assert seen.text.startswith('The word "strawberry" contains **3**')
    assert seen.usage == Usage(input_tokens=17, output_tokens=649, reasoning_tokens=570)
    whole = fold(
        groq.ADAPTER.parse_reply(fixture_bytes("groq", "nonstream-tool-call.response.json"))
    )
    assert [(c.id, c.arguments) for c in whole.calls] == [("ax9fskhev", "{}")]


def test_groq_request_fields() -> None:
    conversation = request(user("x"), reasoning_effort="high", max_output_tokens=10)
    body = body_of(groq.ADAPTER, conversation, "openai/gpt-oss-120b", stream=True)
    assert (body["reasoning_effort"], body["max_completion_tokens"]) == ("high", 10)
    assert body["stream_options"] == {"include_usage": True}
    assert "reasoning_effort" not in body_of(groq.ADAPTER, conversation, "llama-3.3-70b-versatile")


# --- Perplexity -----------------------------------------------------------------------------


def test_perplexity_stream_ends_without_done_and_the_last_usage_wins() -> None:
    events = chat_events("perplexity", "stream-text.chunks.jsonl", done=False)
    deltas = decode(perplexity.ADAPTER, events)
    seen = fold(deltas)
    assert seen.text.startswith("**EcoVista Day**")
    assert (seen.finish, seen.failures) == ([FinishReason.STOP], [])
    assert seen.usage == Usage(input_tokens=11, output_tokens=434)
    assert sum(type(d).__name__ == "UsageReport" for d in deltas) == 1


def test_perplexity_stream_cut_before_its_finish_is_a_failure() -> None:
    events = chat_events("perplexity", "stream-text.chunks.jsonl", done=False)[:3]
    deltas = decode(perplexity.ADAPTER, events)
    assert isinstance(deltas[-1], StreamFailure)
    assert deltas[-1].error.kind is ErrorKind.PROTOCOL


def test_perplexity_body_with_citations() -> None:
    body = fixture_bytes("perplexity", "nonstream-citations.response.json")
    seen = fold(perplexity.ADAPTER.parse_reply(body))
    assert seen.text.startswith("The most recent estimates for San Francisco")
    assert seen.usage == Usage(input_tokens=10, output_tokens=251)


def test_perplexity_gets_no_tools_and_alternating_roles() -> None:
    conversation = codex_like_conversation(
        tool_choice=ToolChoice(mode=ToolChoiceMode.REQUIRED), parallel_tool_calls=True
    )
    conversation = request(
        Message(role=Role.SYSTEM, content=(TextPart(text="Be brief."),)),
        *conversation.messages,
        tools=conversation.tools,
        tool_choice=conversation.tool_choice,
        parallel_tool_calls=True,
        max_output_tokens=50,
    )
    body = body_of(perplexity.ADAPTER, conversation, "sonar", stream=True)
    assert not {"tools", "tool_choice", "parallel_tool_calls", "stream_options"} & set(body)
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["system", "system", "user", "assistant", "user"]
    assistant, results = body["messages"][3]["content"], body["messages"][4]["content"]
    assert assistant.startswith("Running both.\n[called tool exec_command with")
    assert "a.txt" in results and "b.txt" in results
    assert body["max_tokens"] == 50


def test_perplexity_conversation_opening_with_the_assistant() -> None:
    opening = Message(role=Role.ASSISTANT, content=(TextPart(text="Hi, ask me."),))
    body = body_of(perplexity.ADAPTER, request(opening, user("why?")))
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]


# --- Cerebras and any OpenAI-compatible server -------------------------------------------------


def test_cerebras_is_plain_openai() -> None:
    conversation = request(user("x"), reasoning_effort="medium", max_output_tokens=10)
    body = body_of(cerebras.ADAPTER, conversation, "gpt-oss-120b", stream=True)
    assert (body["max_completion_tokens"], body["reasoning_effort"]) == (10, "medium")
    assert body["stream_options"] == {"include_usage": True}
    assert "reasoning_effort" not in body_of(cerebras.ADAPTER, conversation, "llama-3.3-70b")


def test_openai_compatible_uses_max_tokens_and_no_effort() -> None:
    conversation = request(user("x"), reasoning_effort="high", max_output_tokens=10)
    body = body_of(openai_compatible.ADAPTER, conversation, "llama3", stream=True)
    assert (body["max_tokens"], body["stream_options"]) == (10, {"include_usage": True})
    assert "reasoning_effort" not in body and "max_completion_tokens" not in body
    call = openai_compatible.ADAPTER.build_call(
        conversation, CallTarget(model="llama3", api_key="", stream=False)
    )
    assert "authorization" not in dict(call.headers)  # a local server without a key


def test_openai_compatible_reasoning_content() -> None:
    events = [
        chunk_event({"choices": [{"delta": {"reasoning": "hmm"}}]}),
        chunk_event({"choices": [{"delta": {"content": "ok"}, "finish_reason": "stop"}]}),
        chunk_event("[DONE]"),
    ]
    seen = fold(decode(openai_compatible.ADAPTER, events))
    assert (seen.reasoning_text, seen.text) == ("hmm", "ok")
    assert seen.reasoning_done[0].reasoning.provider == "openai-compatible"


def test_mistral_error_bodies_are_read() -> None:
    body = json.dumps(
        {
            "object": "error",
            "message": "Tool call id was call_1 but must be a-z, A-Z, 0-9, with a length of 9.",
            "type": "invalid_function_call",
            "param": None,
            "code": "3280",
        }
    ).encode()
    error = mistral.ADAPTER.map_error(400, [], body)
    assert (error.kind, error.status) == (ErrorKind.BAD_REQUEST, 400)
    assert error.message.startswith("Tool call id was call_1")
    perplexity_body = (
        b'{"error":{"message":"roles should be alternating.","type":"invalid_message","code":400}}'
    )
    assert (
        perplexity.ADAPTER.map_error(400, [], perplexity_body).message
        == "roles should be alternating."
    )


def test_mistral_failures_during_the_stream() -> None:
    text = chunk_event({"choices": [{"delta": {"content": "Hel"}, "finish_reason": None}]})
    errored = chunk_event({"choices": [{"delta": {}, "finish_reason": "error"}]})
    seen = fold(decode(mistral.ADAPTER, [text, errored, chunk_event("[DONE]")]))
    [failure] = seen.failures
    assert (seen.text, seen.finish, failure.error.kind) == ("Hel", [], ErrorKind.UPSTREAM_ERROR)
    top_level = chunk_event({"object": "error", "message": "Service unavailable.", "type": "x"})
    seen = fold(decode(mistral.ADAPTER, [text, top_level]))
    [failure] = seen.failures
    assert failure.error.message == "Service unavailable."
