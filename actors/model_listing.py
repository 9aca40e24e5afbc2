"""``GET /models`` (and ``/v1/models``, ``/openai/v1/models``): the models of the caller's
account, in Codex's catalog shape when Codex asks, else OpenAI's list
(``providers.client_formats.model_catalog``). The virtual key is required."""

from __future__ import annotations

from actors.relay import JSON_HEADER, send_error
from config.model import GatewayConfig, VirtualKeyConfig
from http11.server import HttpRequest, ReplyWriter
from messages.errors import ErrorInfo, ErrorKind
from providers.client_formats.model_catalog import (
    listed_models,
    render_codex_catalog,
    render_openai_list,
    wants_codex_catalog,
)


async def serve_models(
    request: HttpRequest,
    writer: ReplyWriter,
    config: GatewayConfig,
    key: VirtualKeyConfig | None,
) -> None:
    if key is None:
        given = "an unknown key" if request.header("authorization") else "no key"
        message = f"invalid API key: the request carried {given}"
        error = ErrorInfo(kind=ErrorKind.UNAUTHENTICATED, status=401, message=message)
        await send_error(writer, error)
        return
    models = listed_models(config.account(key.account), key)
    codex = wants_codex_catalog(request.target)
    body = render_codex_catalog(models) if codex else render_openai_list(models)
    await writer.send_response(200, [JSON_HEADER], body)


__all__ = ["serve_models"]
