"""The fake Anthropic's prompt cache: marked prefixes are written, then read back."""

from __future__ import annotations

import json
from typing import Any

import httpx

from fakes import FakeProviderServer, Reply, Text
from fakes.prompt_cache import TTL_S, PromptCache, minimum_tokens, prompt_blocks
from tests.fakes.recorded import sse_events

MARK = {"type": "ephemeral"}
LONG = "You are a careful coding agent. " * 300  # ~9.6 kB: ~2,400 tokens as a prefix
MODEL = "claude-sonnet-4-5"


def _body(*turns: str, mark_last: bool = True, system: str = LONG) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    for n, text in enumerate(turns):
        if messages:
            messages.append({"role": "assistant", "content": f"answer {n}"})
        messages.append({"role": "user", "content": [{"type": "text", "text": text}]})
    if mark_last:
        messages[-1]["content"][-1]["cache_control"] = MARK
    return {
        "model": MODEL,
        "max_tokens": 100,
        "system": [{"type": "text", "text": system, "cache_control": MARK}],
        "messages": messages,
    }


def _prefix_tokens(body: dict[str, Any], through: int) -> int:
    """The fake's token count of the first ``through`` blocks (bytes of their JSON // 4)."""
    blocks = prompt_blocks(body)[:through]
    return sum(len(payload) - payload.index(b"\n") - 1 for payload, _ in blocks) // 4


def test_first_request_writes_then_the_same_prefix_is_read() -> None:
    cache = PromptCache()
    body = _body("question one")
    first = cache.charge(body, scope="k", model=MODEL, now=0.0, limit=10**6)
    whole = _prefix_tokens(body, 2)
    assert (first.read, first.written) == (0, whole)
    again = cache.charge(body, scope="k", model=MODEL, now=1.0, limit=10**6)
    assert (again.read, again.written) == (whole, 0)


def test_a_longer_conversation_reads_the_previous_prefix_and_writes_the_rest() -> None:
    cache = PromptCache()
    turn1 = _body("question one")
    cache.charge(turn1, scope="k", model=MODEL, now=0.0, limit=10**6)
    turn2 = _body("question one", "question two")
    charge = cache.charge(turn2, scope="k", model=MODEL, now=1.0, limit=10**6)
    assert charge.read == _prefix_tokens(turn2, 2)  # system + turn 1's user block
    assert charge.read + charge.written == _prefix_tokens(turn2, 4)


def test_a_changed_system_prompt_or_another_key_or_model_misses() -> None:
    cache = PromptCache()
    cache.charge(_body("q"), scope="k", model=MODEL, now=0.0, limit=10**6)
    changed = cache.charge(
        _body("q", system=LONG + "!"), scope="k", model=MODEL, now=1, limit=10**6
    )
    other_key = cache.charge(_body("q"), scope="other", model=MODEL, now=1.0, limit=10**6)
    other_model = cache.charge(_body("q"), scope="k", model="claude-opus-4-1", now=1, limit=10**6)
    assert [c.read for c in (changed, other_key, other_model)] == [0, 0, 0]


def test_moving_a_mark_keeps_the_content_key() -> None:
    cache = PromptCache()
    cache.charge(_body("q"), scope="k", model=MODEL, now=0.0, limit=10**6)
    unmarked_tail = _body("q", mark_last=False)  # only the system prompt is marked now
    charge = cache.charge(unmarked_tail, scope="k", model=MODEL, now=1.0, limit=10**6)
    assert charge.read == _prefix_tokens(unmarked_tail, 1)


def test_short_prefixes_unmarked_requests_and_expired_entries_are_not_cached() -> None:
    cache = PromptCache()
    short = _body("q", system="Be brief.")
    assert cache.charge(short, scope="k", model=MODEL, now=0.0, limit=10**6).written == 0
    assert cache.charge(short, scope="k", model=MODEL, now=1.0, limit=10**6).read == 0
    plain = {"system": LONG, "messages": [{"role": "user", "content": "q"}]}
    assert cache.charge(plain, scope="k", model=MODEL, now=0.0, limit=10**6).written == 0
    cache.charge(_body("q"), scope="k", model=MODEL, now=0.0, limit=10**6)
    late = cache.charge(_body("q"), scope="k", model=MODEL, now=TTL_S + 1, limit=10**6)
    assert (late.read, late.written > 0) == (0, True)


def test_the_lookback_is_twenty_blocks() -> None:
    cache = PromptCache()
    base = _body("q")
    cache.charge(base, scope="k", model=MODEL, now=0.0, limit=10**6)
    grown = json.loads(json.dumps(base))
    del grown["messages"][0]["content"][0]["cache_control"]
    grown["messages"][0]["content"] += [{"type": "text", "text": f"more {n}"} for n in range(21)]
    grown["messages"][0]["content"][-1]["cache_control"] = MARK
    # 21 blocks after the entry: beyond the lookback of the last mark, but the system
    # prompt's own mark still finds its entry
    charge = cache.charge(grown, scope="k", model=MODEL, now=1.0, limit=10**6)
    assert charge.read == _prefix_tokens(grown, 1)


def test_read_and_written_never_exceed_the_input() -> None:
    cache = PromptCache()
    charge = cache.charge(_body("q"), scope="k", model=MODEL, now=0.0, limit=500)
    assert charge.read + charge.written <= 500


def test_minimums_per_model() -> None:
    assert [minimum_tokens(m) for m in (MODEL, "claude-haiku-4-5", "claude-3-haiku")] == [
        1024,
        4096,
        1024,
    ]
    assert minimum_tokens("claude-haiku-3-5") == 2048


async def test_the_fake_reports_cache_usage_as_anthropic_does(fake: FakeProviderServer) -> None:
    headers = {"x-api-key": "sk-ant-1", "anthropic-version": "2023-06-01"}
    body = _body("question one")
    fake.enqueue(Reply(items=(Text(text="one"),)), Reply(items=(Text(text="two"),)))
    async with httpx.AsyncClient(base_url=fake.origin, headers=headers, timeout=10) as http:
        first = (await http.post("/v1/messages", json=body)).json()["usage"]
        streamed = await http.post("/v1/messages", json={**body, "stream": True})
    start = next(data for name, data in sse_events(streamed.content) if name == "message_start")
    second = json.loads(start)["message"]["usage"]
    whole = _prefix_tokens(body, 2)
    assert (first["cache_creation_input_tokens"], first["cache_read_input_tokens"]) == (whole, 0)
    assert first["cache_creation"] == {
        "ephemeral_5m_input_tokens": whole,
        "ephemeral_1h_input_tokens": 0,
    }
    assert (second["cache_creation_input_tokens"], second["cache_read_input_tokens"]) == (0, whole)
    # input_tokens is the rest of the prompt: (request bytes // 4) minus the cached part
    sent = len(fake.requests[0].raw_body) // 4
    assert first["input_tokens"] == sent - whole
