"""Which upstream refusals are about *our* provider key (bench it) and which are about the
request (fail that request only, never bench): per provider, from the error bodies the
providers really send (copied from their API references and public bug reports).

A client can pin ``provider/model`` or name a file; if a 403 it causes benched the key,
one tenant could rest every shared key in turn and leave all others with 502s."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from config.model import RetryPolicy
from messages.chat import ClientFormat
from messages.errors import ErrorInfo, ErrorKind, client_message, without_secret
from providers.anthropic._errors import map_error_object, map_http_error
from providers.client_formats.responses_items import codex_error
from providers.client_formats.stream_failure import stream_failure
from providers.cohere._errors import map_cohere_error
from providers.gemini._errors import map_gemini_error
from providers.openai_errors import map_openai_error, render_openai_error
from routing.breaker import Evidence, evidence_of
from routing.retry import Next, decide

Mapper = Callable[[int, Sequence[tuple[str, str]], bytes], ErrorInfo]
RECORDINGS = Path(__file__).parent.parent / "fakes" / "recordings"


def _openai(message: str, code: str | None, kind: str = "invalid_request_error") -> bytes:
    return json.dumps(
        {"error": {"message": message, "type": kind, "param": None, "code": code}}
    ).encode()


def _anthropic(kind: str, message: str) -> bytes:
    body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_011"}
    return json.dumps(body).encode()


def _gemini(code: int, status: str, message: str, reason: str | None = None) -> bytes:
    error: dict[str, object] = {"code": code, "message": message, "status": status}
    if reason is not None:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }
        ]
    return json.dumps({"error": error}).encode()


OUR_KEY = [
    # OpenAI and the OpenAI-shaped providers
    pytest.param(
        map_openai_error,
        401,
        _openai(
            "Incorrect API key provided: sk-proj-********************cd12. You can find your "
            "API key at https://platform.openai.com/account/api-keys.",
            "invalid_api_key",
        ),
        id="openai-401-invalid-key",
    ),
    pytest.param(
        map_openai_error,
        401,
        _openai(
            "This key is associated with a deactivated account. If you feel this is an "
            "error, contact us through our help center at help.openai.com.",
            "account_deactivated",
        ),
        id="openai-401-deactivated",
    ),
    pytest.param(
        map_openai_error,
        401,
        _openai(
            "You have insufficient permissions for this operation. Missing scopes: "
            "model.request. Check that you have the correct role in your organization.",
            None,
        ),
        id="openai-401-restricted-key-scopes",
    ),
    pytest.param(
        map_openai_error,
        403,
        _openai(
            "Country, region, or territory not supported",
            "unsupported_country_region_territory",
            "request_forbidden",
        ),
        id="openai-403-region",
    ),
    pytest.param(
        map_openai_error,
        401,
        _openai("Invalid API Key", "invalid_api_key"),
        id="groq-401",
    ),
    pytest.param(
        map_openai_error,
        401,
        b'{"message":"Unauthorized","request_id":"5e3cbd0c8b7e4f7f"}',
        id="mistral-401",
    ),
    pytest.param(
        map_openai_error,
        401,
        b'{"message":"Wrong API Key","type":"invalid_request_error","param":"api_key",'
        b'"code":"wrong_api_key"}',
        id="cerebras-401",
    ),
    pytest.param(
        map_openai_error,
        401,
        b"<html><head><title>401 Authorization Required</title></head></html>",
        id="perplexity-401-html",
    ),
    # Anthropic
    pytest.param(
        map_http_error,
        401,
        _anthropic("authentication_error", "invalid x-api-key"),
        id="anthropic-401",
    ),
    # Gemini
    pytest.param(
        map_gemini_error,
        400,
        _gemini(
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            "API_KEY_INVALID",
        ),
        id="gemini-400-key-invalid",
    ),
    pytest.param(
        map_gemini_error,
        403,
        _gemini(
            403,
            "PERMISSION_DENIED",
            "Permission denied: Consumer 'api_key:AIzaSyExampleExampleExample00' has been "
            "suspended.",
            "CONSUMER_SUSPENDED",
        ),
        id="gemini-403-consumer-suspended",
    ),
    pytest.param(
        map_gemini_error,
        403,
        _gemini(
            403,
            "PERMISSION_DENIED",
            "Generative Language API has not been used in project 578829824020 before or it "
            "is disabled.",
            "SERVICE_DISABLED",
        ),
        id="gemini-403-service-disabled",
    ),
    pytest.param(
        map_gemini_error,
        403,
        _gemini(
            403,
            "PERMISSION_DENIED",
            "Your API key was reported as leaked. Please use another API key.",
        ),
        id="gemini-403-leaked-key",
    ),
    pytest.param(
        map_gemini_error,
        401,
        _gemini(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."),
        id="gemini-401",
    ),
    # Cohere (no codes: the status decides)
    pytest.param(
        map_cohere_error,
        401,
        b'{"id":"6c2f7e1a-3c1b-4f0e-9d55-1b8a2f0f0e11","message":"invalid api token"}',
        id="cohere-401",
    ),
]

ABOUT_THE_REQUEST = [
    pytest.param(
        map_openai_error,
        403,
        _openai(
            "Project `proj_QRf115YMnQwMUdTI9cu2sWQ8` does not have access to model `gpt-4o-mini`",
            "model_not_found",
        ),
        id="openai-403-project-lacks-model",
    ),
    pytest.param(map_openai_error, 403, b"", id="openai-compatible-403-no-body"),
    pytest.param(
        map_openai_error,
        403,
        b'{"message":"Forbidden","request_id":"0f3c"}',
        id="mistral-403",
    ),
    pytest.param(
        map_http_error,
        403,
        _anthropic(
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
        ),
        id="anthropic-403-permission",
    ),
    pytest.param(
        map_gemini_error,
        403,
        _gemini(
            403,
            "PERMISSION_DENIED",
            "You do not have permission to access the File 2vjv0nq4m6ix or it may not exist.",
        ),
        id="gemini-403-someone-elses-file",
    ),
    pytest.param(
        map_gemini_error,
        403,
        _gemini(403, "PERMISSION_DENIED", "The caller does not have permission"),
        id="gemini-403-tuned-model",
    ),
    pytest.param(
        map_cohere_error,
        403,
        b'{"id":"0b4d","message":"You are not allowed to use this model"}',
        id="cohere-403",
    ),
]


@pytest.mark.parametrize(("mapper", "status", "body"), OUR_KEY)
def test_a_refusal_of_our_key_benches_it_and_fails_over(
    mapper: Mapper, status: int, body: bytes
) -> None:
    error = mapper(status, [], body)
    assert (error.kind, error.status) == (ErrorKind.PROVIDER_AUTH, 502)
    decision = decide(error, retries_done=0, policy=RetryPolicy(), rng=random.Random(1))
    assert decision.bench_key
    assert decision.next is Next.FAILOVER


@pytest.mark.parametrize(("mapper", "status", "body"), ABOUT_THE_REQUEST)
def test_a_refusal_of_the_request_fails_it_alone_without_benching(
    mapper: Mapper, status: int, body: bytes
) -> None:
    error = mapper(status, [], body)
    assert (error.kind, error.status) == (ErrorKind.FORBIDDEN, 403)
    decision = decide(
        error, retries_done=0, policy=RetryPolicy(), rng=random.Random(1), spare_key=True
    )
    assert not decision.bench_key
    assert decision.next is Next.GIVE_UP


@pytest.mark.parametrize(("mapper", "status", "body"), ABOUT_THE_REQUEST)
def test_a_refusal_of_the_request_does_not_count_against_the_providers_circuit(
    mapper: Mapper, status: int, body: bytes
) -> None:
    assert evidence_of(mapper(status, [], body)) is Evidence.SUCCESS


def test_gemini_failed_precondition_is_the_requests_fault_not_the_keys() -> None:
    body = _gemini(
        400,
        "FAILED_PRECONDITION",
        "The File 2vjv0nq4m6ix is not in an ACTIVE state and usage is not allowed.",
    )
    error = map_gemini_error(400, [], body)
    assert (error.kind, error.status) == (ErrorKind.BAD_REQUEST, 400)


def test_the_recorded_openai_quota_error_benches_the_key() -> None:
    body = (RECORDINGS / "openai-responses" / "error-429-insufficient-quota.json").read_bytes()
    error = map_openai_error(429, [], body)
    assert error.kind is ErrorKind.QUOTA_EXHAUSTED
    assert decide(error, retries_done=0, policy=RetryPolicy(), rng=random.Random(1)).bench_key


@pytest.mark.parametrize(("mapper", "status", "body"), OUR_KEY)
def test_the_client_never_reads_what_the_provider_said_about_our_key(
    mapper: Mapper, status: int, body: bytes
) -> None:
    error = mapper(status, [], body)
    rendered = json.loads(render_openai_error(error))["error"]
    assert rendered["message"].startswith("the provider rejected the gateway's credentials")
    assert error.message not in rendered["message"]
    assert error.message  # the provider's words are kept for the trail and the log


def test_a_forbidden_message_reaches_the_client_without_account_ids() -> None:
    body = _openai(
        "Project `proj_QRf115YMnQwMUdTI9cu2sWQ8` does not have access to model `gpt-4o-mini`",
        "model_not_found",
    )
    rendered = json.loads(render_openai_error(map_openai_error(403, [], body)))["error"]
    assert rendered["message"] == "Project `[redacted]` does not have access to model `gpt-4o-mini`"
    assert (rendered["type"], rendered["code"]) == ("permission_error", "model_not_found")


@pytest.mark.parametrize(
    "message",
    [
        "Incorrect API key provided: sk-proj-****cd12.",
        "Rate limit reached for gpt-4o in organization org-AbCdEf123456 on tokens per min.",
        "Consumer 'api_key:AIzaSyExampleExampleExample00' has been suspended.",
        "key ending in ****wxyz",
    ],
)
def test_keys_and_account_ids_are_masked_in_any_client_message(message: str) -> None:
    error = ErrorInfo(kind=ErrorKind.RATE_LIMITED, status=429, message=message)
    shown = client_message(error)
    assert "[redacted]" in shown
    for secret in ("sk-proj", "org-AbCdEf123456", "AIzaSy", "wxyz", "cd12"):
        assert secret not in shown


def test_an_echoed_provider_key_is_replaced_by_its_id_before_the_trail() -> None:
    secret = "AIzaSyRealSecretKeyValue0123456789"
    error = map_gemini_error(
        403,
        [],
        _gemini(
            403,
            "PERMISSION_DENIED",
            f"Permission denied: Consumer 'api_key:{secret}' has been suspended.",
            "CONSUMER_SUSPENDED",
        ),
    )
    cleaned = without_secret(error, secret, "k1a2b3")
    assert secret not in cleaned.message
    assert "<key k1a2b3>" in cleaned.message
    assert without_secret(cleaned, secret, "k1a2b3") is cleaned  # nothing left to replace


@pytest.mark.parametrize("client_format", list(ClientFormat))
def test_a_failure_about_our_key_inside_a_stream_is_generic_too(
    client_format: ClientFormat,
) -> None:
    # Anthropic can send an error event after its 200 (map_error_object)
    error = map_error_object(
        {"type": "authentication_error", "message": "invalid x-api-key sk-ant-api03-****abcd"}
    )
    assert error.kind is ErrorKind.PROVIDER_AUTH
    data = stream_failure(client_format, error, 3)
    assert b"the provider rejected the gateway's credentials" in data
    assert b"sk-ant" not in data and b"abcd" not in data
    code, message = codex_error(error)
    assert code == "server_error"  # Codex retries it (a failover may still serve)
    assert "sk-ant" not in message and message.startswith("the provider rejected")
