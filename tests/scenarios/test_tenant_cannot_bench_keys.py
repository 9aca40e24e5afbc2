"""One tenant cannot rest the provider keys every tenant shares: a 403 the client causes
(a model our project may not use, pinned with ``provider/model``; someone else's file)
fails that request alone, as a 403 in the client's format, and the next tenant is served
by the same keys. A refusal of *our* key still benches it, and the client reads only a
generic sentence about it, never the provider's words."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from fakes import FakeProviderServer, Fault, open_fake_provider
from tests.gateway_rig import PROVIDER_KEY, auth
from tests.scenarios.failover_rig import ENVIRON_TWO_KEYS, SECOND_KEY, gate
from tests.scenarios.translation_rig import MODELS, provider_for

OTHER_TENANT = "sk-sy-test-virtual-key-other-tenant-0009"
SECOND_TENANT = f"""  - id: "other-tenant"
    key: "{OTHER_TENANT}"
    account: "dev"
"""
MODELS_WITH_OPENAI = {**MODELS, "openai": "gpt-5.5"}

CLIENT_CAUSED = {
    "openai": Fault(
        status=403,
        error_code="model_not_found",
        error_message="Project `proj_QRf115YMnQwMUdTI9cu2sWQ8` does not have access to model "
        "`o3-pro`",
    ),
    "anthropic": Fault(status=403),  # permission_error: the resource is not ours to use
    "gemini": Fault(
        status=403,
        error_message="You do not have permission to access the File 2vjv0nq4m6ix or it may "
        "not exist.",
    ),
    "cohere": Fault(status=403, error_message="You are not allowed to use this model"),
    "mistral": Fault(status=403, error_message="Forbidden"),
}
OUR_KEY_REJECTED = {
    "openai": Fault(
        status=401,
        error_code="invalid_api_key",
        error_message="Incorrect API key provided: sk-prov****0002. You can find your API key "
        "at https://platform.openai.com/account/api-keys.",
    ),
    "anthropic": Fault(status=401, error_message="invalid x-api-key sk-ant-****0002"),
    "gemini": Fault(
        status=400,
        error_code="invalid_api_key",
        error_message="API key not valid for org-Zx81KkqP0aa. Please pass a valid API key.",
    ),
    "cohere": Fault(status=401, error_message="invalid api token for org-Zx81KkqP0aa"),
    "mistral": Fault(status=401, error_message="Unauthorized for org-Zx81KkqP0aa"),
}


@pytest.fixture
async def fake(nursery: trio.Nursery) -> FakeProviderServer:
    return await open_fake_provider(nursery)


def _provider(kind: str, fake: FakeProviderServer) -> dict[str, object]:
    retry = {"max_retries": 2, "key_bench_s": 300}
    if kind == "openai":
        provider = provider_for("openai-compatible", fake, retry=retry)
        provider.update(id="fake-openai", type="openai", model=MODELS_WITH_OPENAI["openai"])
    else:
        provider = provider_for(kind, fake, retry=retry)
    del provider["api_key"]
    provider["api_keys"] = ["${TEST_PROVIDER_KEY}", "${TEST_PROVIDER_KEY_2}"]
    return provider


def _key_used(fake: FakeProviderServer, index: int) -> str:
    request = fake.requests[index]
    for header in ("x-api-key", "x-goog-api-key", "authorization"):
        value = request.header(header)
        if value:
            return value.removeprefix("Bearer ")
    raise AssertionError("no key reached the fake")


def _pinned(kind: str) -> dict[str, object]:
    model = f"fake-{kind}/{MODELS_WITH_OPENAI[kind]}"
    return {"model": model, "messages": [{"role": "user", "content": "read my file"}]}


@pytest.mark.parametrize("kind", sorted(CLIENT_CAUSED))
async def test_a_client_caused_403_leaves_every_key_in_service_for_the_next_tenant(
    fake: FakeProviderServer, tmp_path: Path, kind: str
) -> None:
    fake.enqueue(CLIENT_CAUSED[kind])
    providers = [_provider(kind, fake)]
    async with gate(providers, tmp_path, environ=ENVIRON_TWO_KEYS, extra=SECOND_TENANT) as g:
        refused = await g.chat(_pinned(kind))
        attempts = await g.attempts(refused)
        served = [
            await g.client.post(
                "/v1/chat/completions", json=_pinned(kind), headers=auth(OTHER_TENANT)
            )
            for _ in range(2)
        ]
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["type"] == "permission_error"
    assert "proj_QRf115" not in error["message"]
    assert refused.headers["x-switchyard-attempts"] == "1"  # no next key, no failover
    assert len(attempts) == 1
    assert [response.status_code for response in served] == [200, 200]
    # both keys serve the other tenant: the one the 403 came back on was not benched
    assert sorted(_key_used(fake, i) for i in (1, 2)) == sorted([PROVIDER_KEY, SECOND_KEY])
    assert _key_used(fake, 0) in (_key_used(fake, 1), _key_used(fake, 2))


@pytest.mark.parametrize("kind", sorted(OUR_KEY_REJECTED))
async def test_a_rejected_key_is_benched_and_its_detail_never_reaches_the_client(
    fake: FakeProviderServer, tmp_path: Path, kind: str
) -> None:
    fault = OUR_KEY_REJECTED[kind]
    fake.enqueue(fault, fault)
    providers = [_provider(kind, fake)]
    async with gate(providers, tmp_path, environ=ENVIRON_TWO_KEYS) as g:
        refused = await g.chat(_pinned(kind))
        request_id = refused.headers["x-request-id"]
        await g.finished(request_id)
        later = await g.chat(_pinned(kind))
        trail = g.trail.rows(
            "SELECT payload FROM events WHERE request_id = ? AND kind = 'response.failed'",
            request_id,
        )
    assert refused.status_code == 502
    message = refused.json()["error"]["message"]
    assert message.startswith("the provider rejected the gateway's credentials")
    assert fault.error_message is not None
    assert fault.error_message not in refused.text
    assert "org-Zx81" not in refused.text and "****" not in refused.text
    # the provider's words are in the trail for the operator, the key itself never
    (row,) = trail
    assert "org-Zx81" in row["payload"] or "****" in row["payload"]
    assert PROVIDER_KEY not in row["payload"] and SECOND_KEY not in row["payload"]
    # both keys were rejected and benched: the next request finds none to use
    assert later.status_code == 502
    assert len(fake.requests) == 2
