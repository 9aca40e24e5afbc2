"""The one check every admin endpoint makes: ``Authorization: Bearer <server.admin_key>``.

``/healthz`` uses it to decide between liveness only (``{"status": "ok"}``, for load
balancers and anyone) and the details (virtual key ids, teams, customers, budgets and
spend, benched provider keys); the later admin endpoints (metrics, dashboard) refuse
without it. Without ``server.admin_key`` in the config no request is an admin's.
The comparison takes the same time whatever the guess (``hmac.compare_digest``).
"""

from __future__ import annotations

import hmac

from messages.errors import ErrorInfo, ErrorKind


def is_admin(authorization: str | None, admin_key: str | None) -> bool:
    """Whether ``authorization`` (the header's value) carries the admin key."""
    if admin_key is None or authorization is None:
        return False
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    given = token.strip().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(given, admin_key.encode("utf-8"))


def admin_refusal(authorization: str | None, admin_key: str | None) -> ErrorInfo | None:
    """``None`` when the request is an admin's, else the error to answer with."""
    if admin_key is None:
        message = "admin endpoints are off: set server.admin_key in the gateway's config"
        return ErrorInfo(kind=ErrorKind.FORBIDDEN, status=403, message=message)
    if is_admin(authorization, admin_key):
        return None
    given = "a wrong key" if authorization else "no key"
    return ErrorInfo(
        kind=ErrorKind.UNAUTHENTICATED,
        status=401,
        message=f"admin key required (Authorization: Bearer <server.admin_key>); got {given}",
        code="invalid_admin_key",
    )


__all__ = ["admin_refusal", "is_admin"]
