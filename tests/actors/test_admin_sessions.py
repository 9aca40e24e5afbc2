"""The dashboard's session tokens: checkable by any gateway process, dead when the admin
key changes, when tampered with, when signed out or expired; garbage is never a session."""

from __future__ import annotations

import time

import pytest

from actors import admin_sessions
from actors.admin_sessions import AdminSessions, session_cookie, set_cookie

KEY = "sy-admin-0123456789abcdef01234567"


def test_a_token_from_one_process_is_good_in_another() -> None:
    token = AdminSessions().issue(KEY)
    assert AdminSessions().valid(token, KEY)
    assert KEY not in token


def test_a_new_admin_key_ends_every_session() -> None:
    token = AdminSessions().issue(KEY)
    assert not AdminSessions().valid(token, KEY + "-rotated")


def test_a_tampered_or_garbage_token_is_no_session() -> None:
    sessions = AdminSessions()
    token = sessions.issue(KEY)
    payload, mac = token.split(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    for bad in (f"{flipped}.{mac}", f"{payload}.{mac[::-1]}", payload, "", ".", "é.é", "x" * 500):
        assert not sessions.valid(bad, KEY), bad


def test_signing_out_and_expiry_end_a_session(monkeypatch: pytest.MonkeyPatch) -> None:
    sessions = AdminSessions()
    token = sessions.issue(KEY)
    sessions.revoke(token)
    assert not sessions.valid(token, KEY)
    later = sessions.issue(KEY)
    now = time.time()
    monkeypatch.setattr(admin_sessions.time, "time", lambda: now + admin_sessions.SESSION_TTL_S + 1)
    assert not sessions.valid(later, KEY)


def test_the_cookie_is_http_only_and_strict() -> None:
    name, value = set_cookie("tok")
    assert name == "set-cookie"
    assert "HttpOnly" in value and "SameSite=Strict" in value and "Path=/" in value
    assert session_cookie("a=1; switchyard_admin=tok; b=2") == "tok"
    assert session_cookie("switchyard_admin=") is None
    assert session_cookie(None) is None
