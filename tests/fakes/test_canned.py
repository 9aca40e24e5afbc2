"""The fast canned fake and ``python -m fakes``: correct bytes for both APIs and both modes."""

from __future__ import annotations

import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import trio
import trustme

from fakes.canned import CannedAnswers, CannedProviderServer, canned_text
from tests.fakes.conftest import chat_body, payloads, read_stream, responses_body

ROOT = Path(__file__).resolve().parents[2]


def test_canned_text_has_the_asked_size_and_word_count() -> None:
    text = canned_text(10, 200)
    assert len(text.split(" ")) == 10
    assert 190 <= len(text.encode()) <= 200


@pytest.mark.parametrize("write_per_event", [False, True])
async def test_canned_answers_parse_with_the_sdk(
    nursery: trio.Nursery, write_per_event: bool
) -> None:
    server = CannedProviderServer(
        CannedAnswers.build(events=5, reply_bytes=100), write_per_event=write_per_event
    )
    port = await nursery.start(server.serve)
    base_url = f"http://127.0.0.1:{port}/v1"
    messages: Any = [{"role": "user", "content": "hi"}]

    def consume() -> dict[str, Any]:
        with openai.OpenAI(base_url=base_url, api_key="k", max_retries=0, timeout=10) as client:
            with client.responses.stream(model="m-stream", input="hi") as stream:
                deltas = sum(1 for e in stream if e.type == "response.output_text.delta")
                streamed = stream.get_final_response()
            options: Any = {"include_usage": True}
            with client.chat.completions.stream(
                model="m-chat", messages=messages, stream_options=options
            ) as chat:
                chat_final = chat.get_final_completion()
            return {
                "deltas": deltas,
                "streamed": streamed,
                "whole": client.responses.create(model="m-whole", input="hi"),
                "chat": chat_final,
                "chat_whole": client.chat.completions.create(model="m-cw", messages=messages),
            }

    got = await trio.to_thread.run_sync(consume)
    text = canned_text(5, 100)
    assert got["deltas"] == 5
    assert (got["streamed"].output_text, got["streamed"].model) == (text, "m-stream")
    assert (got["whole"].output_text, got["whole"].model) == (text, "m-whole")
    assert (got["chat"].choices[0].message.content, got["chat"].model) == (text, "m-chat")
    assert got["chat"].usage is not None
    assert got["chat_whole"].choices[0].message.content == text


async def test_canned_chat_usage_only_when_asked_and_411_for_chunked_bodies(
    nursery: trio.Nursery,
) -> None:
    port = await nursery.start(
        CannedProviderServer(CannedAnswers.build(events=3, reply_bytes=30)).serve
    )
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        _, plain = await read_stream(http, "/v1/chat/completions", chat_body())
        assert all("usage" not in chunk for chunk in payloads(plain))
        options = {"include_usage": True}
        _, counted = await read_stream(
            http, "/v1/chat/completions", chat_body(stream_options=options)
        )
        assert "usage" in payloads(counted)[-1]

        async def chunked() -> AsyncIterator[bytes]:
            yield b"{}"

        refused = await http.post("/v1/responses", content=chunked())
        assert refused.status_code == 411


@asynccontextmanager
async def fake_process(*args: str) -> AsyncIterator[int]:
    """``python -m fakes ARGS`` as a child process; yields the port it printed."""
    command = [sys.executable, "-m", "fakes", "--port", "0", *args]
    process = await trio.lowlevel.open_process(command, cwd=ROOT, stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = b""
        with trio.fail_after(20):
            while not line.endswith(b"\n"):
                line += await process.stdout.receive_some(1)
        word, port = line.decode().split()
        assert word == "READY"
        yield int(port)
    finally:
        process.terminate()
        with trio.fail_after(10):
            await process.wait()


async def test_cli_canned_mode_over_tls(tmp_path: Path) -> None:
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")
    certificate.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    certificate.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    trust = ssl.create_default_context()
    authority.configure_trust(trust)
    tls = ("--tls-cert", str(tmp_path / "cert.pem"), "--tls-key", str(tmp_path / "key.pem"))
    async with (
        fake_process("--events", "4", "--reply-bytes", "40", *tls) as port,
        httpx.AsyncClient(verify=trust, timeout=10) as http,
    ):
        url = f"https://127.0.0.1:{port}/v1/responses"
        _, events = await read_stream(http, url, responses_body())
    deltas = [e for e in payloads(events) if e["type"] == "response.output_text.delta"]
    assert len(deltas) == 4
    assert payloads(events)[-1]["response"]["model"] == "gpt-5.5"


async def test_cli_scripted_mode_is_controlled_over_http() -> None:
    script = [{"reply": {"items": [{"type": "text", "text": "from the script"}]}}]
    async with fake_process("--scripted") as port, httpx.AsyncClient(timeout=10) as http:
        origin = f"http://127.0.0.1:{port}"
        assert (await http.post(f"{origin}/_fake/script", json=script)).json() == {"pending": 1}
        answer = await http.post(f"{origin}/v1/chat/completions", json=chat_body(stream=False))
        [recorded] = (await http.get(f"{origin}/_fake/requests")).json()
    assert answer.json()["choices"][0]["message"]["content"] == "from the script"
    assert recorded["body"] == chat_body(stream=False)
