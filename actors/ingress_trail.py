"""The trail events the ingress itself records: ``request.received`` for an admitted
request, the pair a request rejected before admission leaves (its summary and its
``response.failed``), and the ``response.failed`` of a request that ends at the ingress.
Built here, in one place each, so the ingress module keeps to the request's walk."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from actors.client_headers import session_id
from actors.trail_events import response_failed
from config.model import VirtualKeyConfig
from http11.server import HttpRequest
from messages.chat import ClientFormat
from messages.commands import ClientRequest
from messages.errors import ErrorInfo
from messages.events import RequestReceived, ResponseFailed
from providers.client_formats.inbound import RequestRejected


@dataclass(frozen=True, slots=True, kw_only=True)
class RejectedAt:
    """Where a rejected request stood: its id, format, endpoint and arrival time."""

    request_id: str
    fmt: ClientFormat
    path: str
    received_at: float


def received_event(
    message: ClientRequest, request: HttpRequest, key: VirtualKeyConfig
) -> RequestReceived:
    return RequestReceived(
        request_id=message.request_id,
        at=message.received_at,
        client_format=str(message.client_format),
        endpoint=message.endpoint,
        model_requested=message.model,
        stream=message.stream,
        virtual_key_id=message.virtual_key_id,
        account_id=message.account_id,
        session_id=_session(message.session_id, request),
        thread_id=request.header("thread-id"),
        user_agent=request.header("user-agent"),
        body=request.body,
        team=key.team,
        customer=key.customer,
    )


def _session(agents: str | None, request: HttpRequest) -> str | None:
    """The agent's session id (Codex's, Claude Code's); else ``x-switchyard-session``."""
    return agents if agents is not None else request.header("x-switchyard-session")


def rejected_events(
    request: HttpRequest, at: RejectedAt, started: float, rejected: RequestRejected
) -> tuple[RequestReceived, ResponseFailed]:
    received = RequestReceived(
        request_id=at.request_id,
        at=at.received_at,
        client_format=str(at.fmt),
        endpoint=at.path,
        model_requested=rejected.model or "",
        stream=False,
        virtual_key_id=rejected.key_id,
        account_id=None,
        session_id=_session(session_id(request.header, at.fmt), request),
        thread_id=request.header("thread-id"),
        user_agent=request.header("user-agent"),
        body=rejected.body_json,
    )
    return received, response_failed(at.request_id, started, rejected.error)


def failed_event(
    message: ClientRequest, error: ErrorInfo, *, after_first_byte: bool = False
) -> ResponseFailed:
    """The request ends at the ingress, before (or without) any provider attempt."""
    return response_failed(
        message.request_id, message.started, error, after_first_byte=after_first_byte
    )


TagReceived = Callable[[RequestReceived, HttpRequest], RequestReceived]
"""How an in-process replay tags the requests it sends (``actors.replay_system``)."""


def tagged(
    tag: TagReceived | None, event: RequestReceived, request: HttpRequest
) -> RequestReceived:
    return event if tag is None else tag(event, request)


__all__ = ["RejectedAt", "failed_event", "received_event", "rejected_events"]
