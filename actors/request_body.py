"""A request body sent with ``Content-Encoding`` (zstd from Codex with a ChatGPT login,
gzip, deflate), decoded before it is parsed or recorded; the trail keeps the decoded
JSON. Decoding is bounded by ``server.max_body_bytes`` (``http11.sansio.content_coding``):
a bomb is a 413, a corrupt body a 400, an unknown coding a 415, each this request's own
rejection."""

from __future__ import annotations

import dataclasses

from config.model import ServerConfig, VirtualKeyConfig
from http11.sansio.content_coding import ContentCodingError, decode_body
from http11.server import HttpRequest
from messages.errors import ErrorInfo, ErrorKind
from providers.client_formats.inbound import RequestRejected


def decoded_request(
    request: HttpRequest, server: ServerConfig, key: VirtualKeyConfig | None
) -> HttpRequest:
    """``request`` with its body decoded (itself when it has no ``Content-Encoding``),
    within ``server.max_body_bytes``."""
    header = request.header("content-encoding")
    if header is None:
        return request
    try:
        body = decode_body(request.body, header, max_bytes=server.max_body_bytes)
    except ContentCodingError as exc:
        kind = ErrorKind.PAYLOAD_TOO_LARGE if exc.status == 413 else ErrorKind.BAD_REQUEST
        error = ErrorInfo(kind=kind, status=exc.status, message=exc.message)
        key_id = key.id if key is not None else None
        raise RequestRejected(error, key_id=key_id, model=None, body_json=b"null") from None
    headers = tuple(item for item in request.headers if item[0] != "content-encoding")
    return dataclasses.replace(request, body=body, headers=headers)


__all__ = ["decoded_request"]
