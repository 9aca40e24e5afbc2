"""``POST /v1/messages/count_tokens`` (and ``/anthropic/v1/…``): an *estimate*.

The providers behind a key count tokens each their own way, and most have no counting
endpoint, so the gateway answers from its own budget estimator (the request body's
size / ``BYTES_PER_TOKEN``: the same figure a budget reservation holds) without calling
any provider. The answer says so: ``x-switchyard-token-count: estimate``. A key is
required (401 otherwise, from the head); a body that is not a Messages request is a 400,
both in Anthropic's error shape. Nothing is recorded in the trail: nothing is spent.
"""

from __future__ import annotations

import orjson

from actors.client_headers import key_error
from actors.relay import JSON_HEADER, request_id_header, send_error
from budgets.estimate import estimated_input_tokens
from budgets.keys import KeyLookup
from http11.server import HttpRequest, ResponseWriter
from messages.chat import ClientFormat
from messages.errors import ErrorInfo, ErrorKind

COUNT_TOKENS_PATHS = frozenset({"/v1/messages/count_tokens", "/anthropic/v1/messages/count_tokens"})
ESTIMATE_HEADER = ("x-switchyard-token-count", "estimate")


async def count_tokens(
    request: HttpRequest, writer: ResponseWriter, lookup: KeyLookup, request_id: str
) -> None:
    headers = request_id_header(request_id)
    problem = _problem(request.body) if lookup.key else key_error(lookup, ClientFormat.ANTHROPIC)
    if problem is not None:
        await send_error(writer, problem, headers, ClientFormat.ANTHROPIC)
        return
    body = orjson.dumps({"input_tokens": estimated_input_tokens(len(request.body))})
    await writer.send_response(200, [JSON_HEADER, ESTIMATE_HEADER, *headers], body)


def _problem(raw: bytes) -> ErrorInfo | None:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _bad("the body is not valid JSON", None)
    if not isinstance(body, dict):
        return _bad("the body must be a JSON object", None)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return _bad("'model' is required and must be a non-empty string", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return _bad("'messages' is required and must be a non-empty list", "messages")
    return None


def _bad(message: str, param: str | None) -> ErrorInfo:
    return ErrorInfo(kind=ErrorKind.BAD_REQUEST, status=400, message=message, param=param)


__all__ = ["COUNT_TOKENS_PATHS", "ESTIMATE_HEADER", "count_tokens"]
