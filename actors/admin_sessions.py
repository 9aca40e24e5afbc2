"""The dashboard's sign-in: the admin key typed once into the page's form buys a random
session token, kept by the browser as an ``HttpOnly``, ``SameSite=Strict`` cookie. The
key itself never sits in the browser's storage, in a URL or in a cookie; a token dies
after ``SESSION_TTL_S``, on sign-out, or when the admin key changes (a reload).

Who may use the admin endpoints at all (``access``): with ``server.admin_key`` set, a
request carrying it (``Authorization: Bearer``) or a live session; without one, any
request — but only while the gateway listens on a loopback address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from collections import OrderedDict

from actors.admin import admin_refusal
from messages.errors import ErrorInfo, ErrorKind

COOKIE = "switchyard_admin"
SESSION_TTL_S = 12 * 3600
MAX_SESSIONS = 256  # beyond, the oldest is signed out


class AdminSessions:
    def __init__(self) -> None:
        # token -> (expiry, fingerprint of the admin key it was issued for)
        self._live: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def issue(self, admin_key: str) -> str:
        token = secrets.token_urlsafe(32)
        self._live[token] = (time.monotonic() + SESSION_TTL_S, _fingerprint(admin_key))
        while len(self._live) > MAX_SESSIONS:
            self._live.popitem(last=False)
        return token

    def valid(self, token: str | None, admin_key: str) -> bool:
        if not token:
            return False
        entry = self._live.get(token)
        if entry is None:
            return False
        expiry, fingerprint = entry
        if expiry < time.monotonic() or not hmac.compare_digest(
            fingerprint, _fingerprint(admin_key)
        ):
            del self._live[token]
            return False
        return True

    def revoke(self, token: str | None) -> None:
        if token:
            self._live.pop(token, None)


def session_cookie(header: str | None) -> str | None:
    """The session token from a ``Cookie`` header, if there is one."""
    for part in (header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value[:128]
    return None


def set_cookie(token: str, *, max_age: int = SESSION_TTL_S) -> tuple[str, str]:
    value = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}"
    return ("set-cookie", value)


def access(
    *,
    authorization: str | None,
    cookie: str | None,
    admin_key: str | None,
    bound_host: str,
    sessions: AdminSessions,
) -> ErrorInfo | None:
    """``None`` when the request may use the admin endpoints, else the error to answer."""
    if admin_key is None:
        if is_loopback(bound_host):
            return None
        message = (
            "admin endpoints are off: set server.admin_key in the gateway's config "
            "(without one they are open only on a loopback address)"
        )
        return ErrorInfo(kind=ErrorKind.FORBIDDEN, status=403, message=message)
    if authorization is None and sessions.valid(session_cookie(cookie), admin_key):
        return None
    return admin_refusal(authorization, admin_key)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _fingerprint(admin_key: str) -> bytes:
    return hashlib.sha256(admin_key.encode("utf-8")).digest()


__all__ = ["COOKIE", "AdminSessions", "access", "is_loopback", "session_cookie", "set_cookie"]
