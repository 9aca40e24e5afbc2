"""Property: whatever body a client sends, on either endpoint, streaming or not, down any
route (the OpenAI passthrough or a translation to each provider type), the gateway
answers without a 5xx of its own and without a crash.

Hypothesis generates bodies shaped like real requests (known fields, items, messages,
tools) whose values are any JSON at all, against one gateway running in a background
thread with the fake providers. A 5xx is allowed only when the trail says it was the
provider's (upstream error, protocol, timeout, ...); an in-stream failure may never be
our internal error. Afterwards ``/healthz`` must show no internal error in any actor.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.gateway_rig import Trail, admin_auth
from tests.scenarios.hostile_bodies import CHAT, RESPONSES
from tests.scenarios.isolation_rig import HOSTILE_KEY, ROUTED_MODELS, isolation_rig

PROVIDER_KINDS = frozenset(
    {"upstream_error", "protocol", "timeout", "overloaded", "provider_auth", "quota_exhausted"}
)
OUR_BUG = b"internal error while serving request"

_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
ANY_JSON = st.recursive(
    _leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def _or_any(*choices: Any) -> st.SearchStrategy[Any]:
    """Mostly one of ``choices`` (so requests get deep into the routes), else any JSON."""
    known = st.sampled_from(choices)
    return st.integers(0, 7).flatmap(lambda roll: ANY_JSON if roll == 0 else known)


_PART = st.fixed_dictionaries(
    {"type": _or_any("input_text", "output_text", "text", "input_image", "image_url", "refusal")},
    optional={"text": ANY_JSON, "image_url": ANY_JSON, "refusal": ANY_JSON, "detail": ANY_JSON},
)
_CONTENT = st.text(max_size=10) | st.lists(_PART | ANY_JSON, max_size=3) | ANY_JSON
_ITEM = st.fixed_dictionaries(
    {},
    optional={
        "type": _or_any(
            "message",
            "function_call",
            "function_call_output",
            "reasoning",
            "custom_tool_call",
            "custom_tool_call_output",
        ),
        "role": _or_any("user", "assistant", "system", "developer"),
        "content": _CONTENT,
        "call_id": _or_any("call_1"),
        "name": _or_any("shell"),
        "arguments": _or_any("{}"),
        "input": ANY_JSON,
        "output": _CONTENT,
        "summary": ANY_JSON,
        "encrypted_content": ANY_JSON,
    },
)
_TOOL = st.fixed_dictionaries(
    {},
    optional={
        "type": _or_any("function", "custom", "namespace", "web_search"),
        "name": _or_any("shell"),
        "parameters": _or_any({"type": "object"}),
        "function": st.fixed_dictionaries({}, optional={"name": ANY_JSON, "parameters": ANY_JSON})
        | ANY_JSON,
        "custom": ANY_JSON,
        "tools": ANY_JSON,
        "strict": ANY_JSON,
        "format": ANY_JSON,
    },
)
_CALL = st.fixed_dictionaries(
    {},
    optional={
        "id": _or_any("call_1"),
        "type": _or_any("function", "custom"),
        "function": st.fixed_dictionaries({}, optional={"name": ANY_JSON, "arguments": ANY_JSON}),
        "custom": ANY_JSON,
    },
)
_MESSAGE = st.fixed_dictionaries(
    {"role": _or_any("user", "assistant", "system", "developer", "tool", "function")},
    optional={
        "content": _CONTENT,
        "tool_calls": st.lists(_CALL | ANY_JSON, max_size=2) | ANY_JSON,
        "tool_call_id": _or_any("call_1"),
        "reasoning_content": ANY_JSON,
    },
)
_COMMON = {
    "stream": st.booleans(),
    "tools": st.lists(_TOOL, max_size=3),
    "tool_choice": _or_any("auto", "none", "required", {"type": "function", "name": "shell"}),
    "parallel_tool_calls": st.booleans(),
    "temperature": st.floats(0, 2),
    "top_p": st.floats(0, 1),
}
_VALID_FIELDS = {
    RESPONSES: {
        **_COMMON,
        "instructions": st.text(max_size=8),
        "max_output_tokens": st.integers(1, 100_000),
        "reasoning": st.fixed_dictionaries(
            {}, optional={"effort": _or_any("low", "high"), "summary": _or_any("auto")}
        ),
        "text": st.just({"format": {"type": "text"}}),
    },
    CHAT: {
        **_COMMON,
        "max_tokens": st.integers(1, 100_000),
        "max_completion_tokens": st.integers(1, 100_000),
        "n": st.just(1),
        "stop": st.text(max_size=4) | st.lists(st.text(max_size=4), max_size=2),
        "stream_options": st.fixed_dictionaries({}, optional={"include_usage": st.booleans()}),
        "reasoning_effort": _or_any("low", "medium", "high"),
        "response_format": st.just({"type": "text"}),
    },
}
_REQUIRED = {
    RESPONSES: {"input": st.text(max_size=8) | st.lists(_ITEM, max_size=4)},
    CHAT: {"messages": st.lists(_MESSAGE, min_size=1, max_size=4)},
}
# a wrong value may land on any field read, or on one the gateway never reads
_MUTABLE = {
    endpoint: (*fields, "model", *_REQUIRED[endpoint], "stream_options", "metadata")
    for endpoint, fields in _VALID_FIELDS.items()
}


def _mutated(parts: tuple[dict[str, Any], list[tuple[str, Any]]]) -> dict[str, Any]:
    body, mutations = parts
    for name, value in mutations:
        body[name] = value
    return body


def bodies(endpoint: str) -> st.SearchStrategy[dict[str, Any]]:
    """A plausible request (every field valid, deep content anything), then up to two
    fields replaced by any JSON at all."""
    plausible = st.fixed_dictionaries(
        {"model": _or_any(*ROUTED_MODELS), **_REQUIRED[endpoint]},
        optional=_VALID_FIELDS[endpoint],
    )
    mutations = st.lists(st.tuples(st.sampled_from(_MUTABLE[endpoint]), ANY_JSON), max_size=2)
    return st.tuples(plausible, mutations).map(_mutated)


class _Live:
    def __init__(self, base_url: str, trail: Trail) -> None:
        self.base_url = base_url
        self.trail = trail


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Live]:
    """One gateway (and its fakes) for every example, on a trio loop in a thread."""
    tmp: Path = tmp_path_factory.mktemp("property")
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        async with isolation_rig(tmp, delay_s=0.0) as rig:
            box["live"] = _Live(rig.gateway.base_url, rig.trail)
            box["token"] = trio.lowlevel.current_trio_token()
            box["stop"] = trio.Event()
            ready.set()
            await box["stop"].wait()

    thread = threading.Thread(target=trio.run, args=(main,), daemon=True)
    thread.start()
    assert ready.wait(30)
    yield box["live"]
    trio.from_thread.run_sync(box["stop"].set, trio_token=box["token"])
    thread.join(30)


def _failed_kind(trail: Trail, request_id: str) -> str | None:
    for _ in range(200):
        rows = trail.rows(
            "SELECT error_kind FROM requests WHERE request_id = ? AND status = 'failed'",
            request_id,
        )
        if rows:
            return str(rows[0]["error_kind"])
        threading.Event().wait(0.02)
    return None


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(endpoint=st.sampled_from((RESPONSES, CHAT)), data=st.data())
def test_no_body_gets_a_5xx_of_ours(live: _Live, endpoint: str, data: st.DataObject) -> None:
    body = data.draw(bodies(endpoint))
    content = json.dumps(body).encode()
    headers = {"authorization": f"Bearer {HOSTILE_KEY}", "content-type": "application/json"}
    with httpx.Client(base_url=live.base_url, timeout=30) as client:
        response = client.post(endpoint, content=content, headers=headers)
    assert OUR_BUG not in response.content, (body, response.content[:300])
    if response.status_code >= 500:
        request_id = response.headers.get("x-request-id") or ""
        kind = _failed_kind(live.trail, request_id)
        assert kind in PROVIDER_KINDS, (body, response.status_code, kind, response.text[:300])


def test_no_actor_met_an_internal_error(live: _Live) -> None:
    """Runs after the property (file order): the gateway is alive and clean."""
    health = httpx.get(live.base_url + "/healthz", headers=admin_auth(), timeout=10).json()
    assert health["status"] == "ok"
    assert health["provider_worker"]["internal_errors"] == 0
    assert health["server"]["handler_errors"] == 0
