"""Agreement between an original turn's answer and its replay's, read from stored
responses in both client formats."""

from __future__ import annotations

import orjson
import pytest

from replay.agreement import Answer, compare, read_answer, text_similarity
from replay.report_model import Verdict


def _responses(*items: dict[str, object]) -> bytes:
    return orjson.dumps({"object": "response", "output": list(items)})


def _call(name: str, arguments: str) -> dict[str, object]:
    return {"type": "function_call", "name": name, "arguments": arguments, "call_id": "c"}


def _text(text: str) -> dict[str, object]:
    return {"type": "message", "content": [{"type": "output_text", "text": text}]}


def _anthropic(*blocks: dict[str, object]) -> bytes:
    return orjson.dumps({"type": "message", "role": "assistant", "content": list(blocks)})


def _chat(content: str | None, *calls: tuple[str, str]) -> bytes:
    tool_calls = [{"type": "function", "function": {"name": n, "arguments": a}} for n, a in calls]
    message = {"role": "assistant", "content": content, "tool_calls": tool_calls or None}
    return orjson.dumps({"object": "chat.completion", "choices": [{"message": message}]})


@pytest.mark.parametrize(
    ("original", "replay", "verdict"),
    [
        (
            _responses(_call("f", '{"a":1,"b":[1,2]}')),
            _responses(_call("f", '{"b": [1, 2], "a": 1}')),
            Verdict.SAME_TOOLS_SAME_ARGS,
        ),
        (
            _responses(_call("f", '{"a":1}')),
            _responses(_call("f", '{"a":2}')),
            Verdict.SAME_TOOLS_DIFFERENT_ARGS,
        ),
        (_responses(_call("f", "{}")), _responses(_call("g", "{}")), Verdict.DIFFERENT_TOOLS),
        (
            _responses(_call("f", "{}")),
            _responses(_call("f", "{}"), _call("f", "{}")),
            Verdict.DIFFERENT_TOOLS,
        ),
        (
            _responses(_call("f", "{}"), _call("g", "{}")),
            _responses(_call("g", "{}"), _call("f", "{}")),
            Verdict.SAME_TOOLS_SAME_ARGS,
        ),
        (_responses(_text("hi")), _responses(_call("f", "{}")), Verdict.TEXT_VS_TOOL),
        (
            _chat(None, ("f", '{"x": 1}')),
            _responses(_call("f", '{"x":1}')),
            Verdict.SAME_TOOLS_SAME_ARGS,
        ),
        (_chat("hello there"), _chat("hello there"), Verdict.BOTH_TEXT),
        (_responses(_text("hi")), b"not json", Verdict.NOT_COMPARED),
        (_responses(_text("hi")), b'{"output": 5}', Verdict.NOT_COMPARED),
        (b"[1]", _responses(_text("hi")), Verdict.NOT_COMPARED),
        (
            _anthropic({"type": "tool_use", "id": "t", "name": "f", "input": {"x": 1, "y": [2]}}),
            _responses(_call("f", '{"y":[2],"x":1}')),
            Verdict.SAME_TOOLS_SAME_ARGS,
        ),
        (
            _anthropic({"type": "thinking", "thinking": "hm"}, {"type": "text", "text": "a b"}),
            _chat("a b"),
            Verdict.BOTH_TEXT,
        ),
    ],
)
def test_verdicts(original: bytes, replay: bytes, verdict: Verdict) -> None:
    assert compare(read_answer(original), read_answer(replay))[0] is verdict


def test_arguments_that_are_not_json_compare_as_text() -> None:
    same = compare(
        Answer(tool_calls=(("f", "not {json"),)), Answer(tool_calls=(("f", "not {json"),))
    )
    other = compare(
        Answer(tool_calls=(("f", "not {json"),)), Answer(tool_calls=(("f", "not json"),))
    )
    assert (same[0], other[0]) == (Verdict.SAME_TOOLS_SAME_ARGS, Verdict.SAME_TOOLS_DIFFERENT_ARGS)


def test_text_similarity() -> None:
    assert text_similarity("a b c d", "a b c d") == 1.0
    assert text_similarity("a b c d", "w x y z") == 0.0
    assert text_similarity("the answer is 42", "the answer is 43") == pytest.approx(0.75)
    verdict, similarity = compare(read_answer(_chat("a b")), read_answer(_chat("a c")))
    assert verdict is Verdict.BOTH_TEXT and similarity == pytest.approx(0.5)


def test_hostile_response_shapes_are_not_compared_never_raised() -> None:
    for body in (b"", b"null", b'{"choices": [5]}', b'{"choices": [{"message": 3}]}'):
        assert read_answer(body) is None
    odd = read_answer(orjson.dumps({"output": [5, {"type": "message", "content": "x"}]}))
    assert odd == Answer()
