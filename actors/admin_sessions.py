"""The dashboard's sign-in: the admin key typed once into the page's form buys a signed
session token, kept by the browser as an ``HttpOnly``, ``SameSite=Strict`` cookie. The
key itself never sits in the browser's storage, in a URL or in a cookie; a token dies
after ``SESSION_TTL_S``, on sign-out, or when the admin key changes (a reload).

Who may use the admin endpoints at all (``access``): with ``server.admin_key`` set, a
request carrying it (``Authorization: Bearer``) or a live session; without one, any
request — but only while the gateway listens on a loopback address.
"""

from __future__ import annotations

import base64
import binascii
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
MAX_REVOKED = 1024  # signed-out tokens remembered (they expire anyway)


class AdminSessions:
    """Session tokens any gateway process can check (``serve --workers N`` shares one
    port): ``<nonce and expiry>.<HMAC of them under the admin key>`` — nothing to share
    between processes, and every token dies when the admin key changes. Signing out
    forgets the token in this process and clears the browser's cookie."""

    def __init__(self) -> None:
        self._revoked: OrderedDict[str, None] = OrderedDict()

    def issue(self, admin_key: str) -> str:
        payload = secrets.token_bytes(16) + int(time.time() + SESSION_TTL_S).to_bytes(8, "big")
        return f"{_b64(payload)}.{_b64(_mac(admin_key, payload))}"

    def valid(self, token: str | None, admin_key: str) -> bool:
        if not token or token in self._revoked:
            return False
        encoded, _, mac = token.partition(".")
        try:
            payload, given = _unb64(encoded), _unb64(mac)
        except ValueError:
            return False
        if len(payload) != 24 or not hmac.compare_digest(given, _mac(admin_key, payload)):
            return False
        return int.from_bytes(payload[16:], "big") > time.time()

    def revoke(self, token: str | None) -> None:
        if token:
            self._revoked[token] = None
            while len(self._revoked) > MAX_REVOKED:
                self._revoked.popitem(last=False)


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


def _mac(admin_key: str, payload: bytes) -> bytes:
    key = hashlib.sha256(b"switchyard dashboard session\0" + admin_key.encode("utf-8")).digest()
    return hmac.new(key, payload, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text.isascii() or len(text) > 64:
        raise ValueError("not a token")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not a token") from exc


__all__ = ["COOKIE", "AdminSessions", "access", "is_loopback", "session_cookie", "set_cookie"]
