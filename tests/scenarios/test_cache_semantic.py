"""The semantic cache layer through the real gateway, with the real embedding model
(all-MiniLM-L6-v2 from its package, no mock): a paraphrase hits, a minimal pair does
not, and a hit never crosses a context, a scope, or a request that carries tool results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fakes import FakeProviderServer
from tests.scenarios.cache_rig import BOB, DAVE, CacheRig, cache_rig, fixed_answers, responses_body

SEMANTIC = """    - {level: account, id: dev, mode: semantic, ttl: 1h}
"""
ASKED = "How do I reverse a list in Python?"
PARAPHRASE = "How can I reverse a Python list?"  # similarity ≈ 0.979 with this model


async def _semantic_rig(fake: FakeProviderServer, tmp_path: Path) -> Any:
    fixed_answers(fake, "use reversed() or list.reverse()")
    return cache_rig(fake, tmp_path, policies=SEMANTIC)


async def _ask(rig: CacheRig, text: str, **options: Any) -> Any:
    extra = options.pop("body", {})
    response = await rig.post(responses_body(text, **extra), **options)
    assert response.status_code == 200, response.text
    return response


async def test_a_paraphrase_is_served_from_the_cache(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    async with await _semantic_rig(fake, tmp_path) as rig:
        await rig.wait_model()
        first = await _ask(rig, ASKED)
        hit = await _ask(rig, PARAPHRASE)
        assert hit.headers["x-switchyard-cache"] == "hit-semantic"
        similarity = float(hit.headers["x-switchyard-cache-similarity"])
        assert 0.9 <= similarity < 1.0
        assert hit.json()["output"][0]["content"][0]["text"] == "use reversed() or list.reverse()"
        assert len(fake.requests) == 1
        await rig.trail_flushed()
        [event] = rig.events(hit.headers["x-request-id"], "cache.hit")
        assert event["layer"] == "semantic"
        assert event["similarity"] == pytest.approx(similarity, abs=1e-4)
        assert event["origin_request_id"] == first.headers["x-request-id"]
        await rig.wait_entries(1)
        [row] = rig.trail.rows("SELECT user_text, length(embedding) AS size FROM cache_entries")
        assert (row["user_text"], row["size"]) == (ASKED, 384 * 4)


async def test_a_minimal_pair_is_not_served(fake: FakeProviderServer, tmp_path: Path) -> None:
    """0.996 similar, opposite meaning: the guard refuses what a threshold alone serves."""
    async with await _semantic_rig(fake, tmp_path) as rig:
        await rig.wait_model()
        await _ask(rig, "convert a string to an integer in Python")
        other = await _ask(rig, "convert an integer to a string in Python")
        assert other.headers["x-switchyard-cache"] == "miss"
        await rig.trail_flushed()
        [miss] = rig.events(other.headers["x-request-id"], "cache.miss")
        assert miss["mode"] == "semantic" and miss["reason"].startswith(
            "no match (best similarity 0.99"
        )
        assert len(fake.requests) == 2


@pytest.mark.parametrize(
    "different",
    [
        {"body": {"instructions": "Answer in French."}},
        {"body": {"model": "gpt-4o-mini"}},
        {
            "body": {
                "tools": [{"type": "function", "name": "run", "parameters": {"type": "object"}}]
            }
        },
        {"key": BOB},  # another team
    ],
    ids=["instructions", "model", "tools", "team"],
)
async def test_a_paraphrase_in_another_context_misses(
    fake: FakeProviderServer, tmp_path: Path, different: dict[str, Any]
) -> None:
    async with await _semantic_rig(fake, tmp_path) as rig:
        await rig.wait_model()
        await _ask(rig, ASKED)
        other = await _ask(rig, PARAPHRASE, **different)
        assert other.headers["x-switchyard-cache"] == "miss"
        same_scope = await _ask(rig, PARAPHRASE, key=DAVE)
        assert same_scope.headers["x-switchyard-cache"] == "hit-semantic"


async def test_a_request_with_tool_results_uses_the_exact_layer_only(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    def turn(text: str) -> dict[str, Any]:
        return {
            "model": "gpt-5.5",
            "input": [
                {
                    "type": "function_call",
                    "call_id": "c1",
                    "name": "exec_command",
                    "arguments": "{}",
                },
                {"type": "function_call_output", "call_id": "c1", "output": "a.txt b.txt"},
                {"role": "user", "content": text},
            ],
        }

    async with await _semantic_rig(fake, tmp_path) as rig:
        await rig.wait_model()
        await rig.post(turn(ASKED))
        paraphrase = await rig.post(turn(PARAPHRASE))
        assert paraphrase.headers["x-switchyard-cache"] == "miss"
        exact = await rig.post(turn(ASKED))
        assert exact.headers["x-switchyard-cache"] == "hit-exact"


async def test_the_threshold_header_asks_for_more_similarity(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    async with await _semantic_rig(fake, tmp_path) as rig:
        await rig.wait_model()
        await _ask(rig, ASKED)
        strict = await _ask(rig, PARAPHRASE, **{"x-switchyard-cache-threshold": "0.99"})
        assert strict.headers["x-switchyard-cache"] == "miss"


async def test_the_semantic_index_is_rebuilt_from_sql(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    async with await _semantic_rig(fake, tmp_path) as rig:
        await rig.wait_model()
        await _ask(rig, ASKED)
    async with await _semantic_rig(fake, tmp_path) as rig:
        assert (await rig.cache_statistics())["semantic_entries"] == 1  # before any embedding
        await rig.wait_model()
        hit = await _ask(rig, PARAPHRASE)
        assert hit.headers["x-switchyard-cache"] == "hit-semantic"
        assert len(fake.requests) == 1
