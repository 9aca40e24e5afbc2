"""Gemini's thought signatures survive a Codex turn: Gemini reply → Responses output items →
the items Codex sends back → the next Gemini request, with the signature on its call."""

from __future__ import annotations

import json
from typing import Any

from messages.chat import ChatRequest
from providers.client_formats.responses_encoder import ResponsesStreamEncoder
from providers.client_formats.responses_format import decode_responses_request
from providers.gemini.adapter import ADAPTER
from tests.providers.gemini_support import body_of, chunk, codex_tools, decode_stream, sse


def responses_output(raw: bytes, request: ChatRequest) -> list[dict[str, Any]]:
    """What a Responses client receives for the Gemini stream ``raw``."""
    encoder = ResponsesStreamEncoder(response_id="resp_1", model="m", created_at=0, streaming=False)
    for delta in decode_stream(raw, request):
        encoder.feed(delta)
    encoder.finish()
    response = json.loads(encoder.response_json())
    output = response["output"]
    assert isinstance(output, list)
    return output


def test_signature_returns_on_its_call_after_streamed_thoughts() -> None:
    raw = sse(
        chunk({"text": "Let me look."}),
        chunk({"text": "Planning the listing.", "thought": True}),
        chunk({"functionCall": {"name": "exec_command", "args": {"cmd": "ls"}},
               "thoughtSignature": "SIG-CALL"}),
        chunk({"text": "", "thoughtSignature": "SIG-TEXT"}, finish="STOP"),
    )  # fmt: skip
    first = decode_responses_request({"model": "m", "input": "run: ls", "tools": codex_tools()})
    output = responses_output(raw, first)
    (call,) = [item for item in output if item["type"] == "function_call"]
    follow_up = {
        "model": "m",
        "tools": codex_tools(),
        "input": [
            {"type": "message", "role": "user", "content": "run: ls"},
            *output,
            {"type": "function_call_output", "call_id": call["call_id"], "output": "README.md"},
        ],
    }  # fmt: skip
    contents = body_of(decode_responses_request(follow_up))["contents"]
    model_parts = contents[1]["parts"]
    calls = [part for part in model_parts if "functionCall" in part]
    assert calls == [
        {
            "functionCall": {"name": "exec_command", "args": {"cmd": "ls"}},
            "thoughtSignature": "SIG-CALL",
        }
    ]
    texts = [part for part in model_parts if "text" in part]
    assert texts == [{"text": "Let me look.", "thoughtSignature": "SIG-TEXT"}]
    assert contents[2] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "exec_command", "response": {"result": "README.md"}}}
        ],
    }
    assert ADAPTER.name == "gemini"
