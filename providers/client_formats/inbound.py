"""The first look at a client's body: parse it once, check what every route needs (and
every field the gateway reads, ``inbound_checks``), and resolve ``provider/model``
against the key's account. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from config.model import GatewayConfig, VirtualKeyConfig
from messages.chat import ClientFormat
from messages.errors import ErrorInfo, ErrorKind
from providers.client_formats.inbound_checks import check_fields
from providers.client_formats.request_fields import RequestInvalid


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedRequest:
    body: dict[str, Any]
    model: str
    stream: bool
    pinned_provider: str | None
    pinned_model: str | None


class RequestRejected(Exception):
    """The request cannot be served; ``error`` says why in the shared vocabulary."""

    def __init__(
        self, error: ErrorInfo, *, key_id: str | None, model: str | None, body_json: bytes
    ) -> None:
        super().__init__(error.message)
        self.error = error
        self.key_id = key_id
        self.model = model
        self.body_json = body_json


def _bad(message: str, param: str | None = None) -> ErrorInfo:
    return ErrorInfo(kind=ErrorKind.BAD_REQUEST, status=400, message=message, param=param)


def parse_request(
    raw: bytes, fmt: ClientFormat, config: GatewayConfig, key: VirtualKeyConfig | None
) -> ParsedRequest:
    if key is None:
        error = ErrorInfo(
            kind=ErrorKind.UNAUTHENTICATED,
            status=401,
            message="invalid API key: send a Switchyard virtual key as 'Authorization: Bearer …'",
            code="invalid_api_key",
        )
        raise RequestRejected(error, key_id=None, model=None, body_json=b"null")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        error = _bad(f"the body is not valid JSON: {exc}")
        raise RequestRejected(error, key_id=key.id, model=None, body_json=b"null") from exc
    if not isinstance(body, dict):
        error = _bad("the body must be a JSON object")
        raise RequestRejected(error, key_id=key.id, model=None, body_json=raw)
    problem = _shape_problem(body, fmt)
    model = body.get("model")
    if problem is None and key.allowed_models and model not in key.allowed_models:
        problem = ErrorInfo(
            kind=ErrorKind.NOT_FOUND,
            status=404,
            message=f"model {model!r} is not allowed for this key",
            param="model",
            code="model_not_found",
        )
    if problem is not None:
        raise RequestRejected(
            problem, key_id=key.id, model=model if isinstance(model, str) else None, body_json=raw
        )
    assert isinstance(model, str)
    pinned_provider, pinned_model = _pin(model, config, key, raw)
    return ParsedRequest(
        body=body,
        model=model,
        stream=bool(body.get("stream")),
        pinned_provider=pinned_provider,
        pinned_model=pinned_model,
    )


def _shape_problem(body: dict[str, Any], fmt: ClientFormat) -> ErrorInfo | None:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return _bad("'model' is required and must be a non-empty string", "model")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        return _bad("'stream' must be a boolean", "stream")
    if fmt is ClientFormat.RESPONSES:
        given = body.get("input")
        if not isinstance(given, str | list):
            return _bad("'input' is required and must be a string or a list of items", "input")
    else:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return _bad("'messages' is required and must be a non-empty list", "messages")
        if not all(isinstance(message, dict) for message in messages):
            return _bad("each message must be an object", "messages")
    try:
        check_fields(body, fmt)
    except RequestInvalid as invalid:
        return _bad(invalid.message, invalid.param)
    return None


def _pin(
    model: str, config: GatewayConfig, key: VirtualKeyConfig, raw: bytes
) -> tuple[str | None, str | None]:
    """``provider/model`` pins a provider of the key's account (by id, or by type)."""
    prefix, slash, rest = model.partition("/")
    if not slash:
        return None, None
    account = config.account(key.account)
    providers = account.providers if account else ()
    for provider in providers:
        if prefix == provider.id:
            return provider.id, rest
    for provider in providers:
        if prefix == provider.type:
            return provider.id, rest
    error = ErrorInfo(
        kind=ErrorKind.NOT_FOUND,
        status=404,
        message=f"no configured provider named {prefix!r} for this key's account",
        param="model",
        code="model_not_found",
    )
    raise RequestRejected(error, key_id=key.id, model=model, body_json=raw)


__all__ = ["ParsedRequest", "RequestRejected", "parse_request"]
