"""What Codex's built-in provider sends besides the Responses stream, against the real
gateway: compressed request bodies (zstd with a ChatGPT login; gzip and deflate too) and
``GET /models`` answered in Codex's catalog shape or OpenAI's list."""

from __future__ import annotations

import gzip
import zlib

import orjson
import zstandard

from fakes import Reply, Text
from tests.gateway_rig import auth
from tests.scenarios.conftest import Rig

BODY = {"model": "gpt-5.5", "input": [{"role": "user", "content": "compressed hello"}]}


async def _post(rig: Rig, data: bytes, encoding: str) -> tuple[int, dict[str, object], str]:
    headers = {**auth(), "content-type": "application/json", "content-encoding": encoding}
    response = await rig.client.post("/v1/responses", content=data, headers=headers)
    return response.status_code, response.json(), response.headers.get("x-request-id", "")


async def _recorded_body(rig: Rig, request_id: str) -> bytes | None:
    await rig.trail.wait_rows(
        "SELECT 1 FROM requests WHERE request_id = ? AND status != 'in_progress'", request_id
    )
    return rig.trail.body(request_id)


async def test_zstd_gzip_and_deflate_bodies_are_decoded_and_recorded_decoded(rig: Rig) -> None:
    raw = orjson.dumps(BODY)
    encoded = {
        "zstd": zstandard.ZstdCompressor().compress(raw),
        "gzip": gzip.compress(raw),
        "deflate": zlib.compress(raw),
    }
    for encoding, data in encoded.items():
        rig.fake.enqueue(Reply(items=(Text(text="ok"),)))
        status, document, request_id = await _post(rig, data, encoding)
        assert status == 200, (encoding, document)
        assert rig.fake.requests[-1].body["input"] == BODY["input"]  # type: ignore[index]
        assert rig.fake.requests[-1].header("content-encoding") is None
        assert await _recorded_body(rig, request_id) == raw


async def test_a_zstd_bomb_is_413_without_decoding_it_all(rig: Rig) -> None:
    # 6 KB on the wire, 200 MB once decoded: the gateway stops at max_body_bytes (1 MB)
    bomb = zstandard.ZstdCompressor(level=19).compress(b" " * (200 * 1024 * 1024))
    assert len(bomb) < 16_000
    status, document, request_id = await _post(rig, bomb, "zstd")
    assert status == 413
    assert "too large once decoded" in document["error"]["message"]  # type: ignore[index]
    gzip_bomb = gzip.compress(b" " * (50 * 1024 * 1024))
    status, _, _ = await _post(rig, gzip_bomb, "gzip")
    assert status == 413
    assert rig.fake.requests == []
    rows = await rig.trail.wait_rows(
        "SELECT http_status FROM requests WHERE request_id = ? AND status != 'in_progress'",
        request_id,
    )
    assert [row["http_status"] for row in rows] == [413]


async def test_corrupt_truncated_and_unknown_encodings_are_refused(rig: Rig) -> None:
    whole = zstandard.ZstdCompressor().compress(orjson.dumps(BODY) * 50)
    for data, encoding, expected in [
        (whole[: len(whole) // 2], "zstd", 400),
        (b"definitely not zstd", "zstd", 400),
        (gzip.compress(orjson.dumps(BODY))[:-4], "gzip", 400),
        (orjson.dumps(BODY), "br", 415),
        (orjson.dumps(BODY), "zstd, snappy", 415),
    ]:
        status, document, _ = await _post(rig, data, encoding)
        assert status == expected, (encoding, document)
        assert document["error"]["message"]  # type: ignore[index]
    assert rig.fake.requests == []


async def test_models_in_codexs_catalog_shape_when_codex_asks(rig: Rig) -> None:
    response = await rig.client.get("/v1/models?client_version=0.169.0", headers=auth())
    assert response.status_code == 200
    catalog = response.json()
    assert set(catalog) == {"models"}
    slugs = [model["slug"] for model in catalog["models"]]
    assert slugs == ["gpt-5.5", "fake-openai/gpt-5.5"]
    for model in catalog["models"]:
        # the fields Codex 0.169 requires to decode an entry, with their types
        assert isinstance(model["display_name"], str)
        assert isinstance(model["supported_reasoning_levels"], list)
        assert model["shell_type"] in ("shell_command", "unified_exec", "default", "local")
        assert model["visibility"] == "list" and model["supported_in_api"] is True
        assert isinstance(model["priority"], int) and isinstance(model["base_instructions"], str)
        assert model["truncation_policy"]["mode"] in ("tokens", "bytes")
        assert isinstance(model["experimental_supported_tools"], list)
        assert isinstance(model["supports_parallel_tool_calls"], bool)
    for path in ("/models?client_version=1.0.0", "/openai/v1/models?client_version=1.0.0"):
        again = await rig.client.get(path, headers=auth())
        assert [m["slug"] for m in again.json()["models"]] == slugs


async def test_models_as_openais_list_for_everyone_else_and_a_key_is_needed(rig: Rig) -> None:
    listing = (await rig.client.get("/v1/models", headers=auth())).json()
    assert listing["object"] == "list"
    assert [model["id"] for model in listing["data"]] == ["gpt-5.5", "fake-openai/gpt-5.5"]
    refused = await rig.client.get("/v1/models?client_version=0.169.0")
    assert refused.status_code == 401
    refused = await rig.client.get(
        "/v1/models?client_version=0.169.0", headers=auth("sk-unknown-key-000000000")
    )
    assert refused.status_code == 401
