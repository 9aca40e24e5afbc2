"""Every wrong type and absurd value of every Messages-API field the gateway reads, sent
to the real gateway streaming and not: each is a 400 ``invalid_request_error`` in
Anthropic's shape whose message names the field, none reaches a provider, and the
gateway serves normally afterwards."""

from __future__ import annotations

import json

import trio

from fakes import Reply, Text
from tests.gateway_rig import VIRTUAL_KEY
from tests.scenarios.conftest import Rig
from tests.scenarios.hostile_bodies import ANTHROPIC, ANTHROPIC_BASE, anthropic_cases

KEY = {"x-api-key": VIRTUAL_KEY, "content-type": "application/json"}


async def test_every_bad_field_is_a_400_naming_it(rig: Rig) -> None:
    cases = list(anthropic_cases())
    assert len(cases) > 150
    failures: list[str] = []

    async def send(index: int) -> None:
        case = cases[index]
        # stdlib json: it writes integers beyond 64 bits, which a client may send
        response = await rig.client.post(
            ANTHROPIC, content=json.dumps(case.body).encode(), headers=KEY
        )
        try:
            document = response.json()
        except json.JSONDecodeError:
            document = {}
        error = document.get("error") or {}
        ok = (
            response.status_code == 400
            and document.get("type") == "error"
            and error.get("type") == "invalid_request_error"
            and case.param in error.get("message", "")
        )
        if not ok:
            failures.append(f"{case.field}={str(case.body)[:120]}: {response.text[:200]}")

    async with trio.open_nursery() as nursery:
        limit = trio.CapacityLimiter(8)

        async def limited(index: int) -> None:
            async with limit:
                await send(index)

        for index in range(len(cases)):
            nursery.start_soon(limited, index)
    assert not failures, "\n".join(failures)
    assert not rig.fake.requests

    rig.fake.enqueue(Reply(items=(Text(text="still here"),)))
    alive = await rig.client.post(ANTHROPIC, json=ANTHROPIC_BASE, headers=KEY)
    assert alive.status_code == 200
    assert alive.json()["content"][0]["text"] == "still here"
