"""The per-session cap's sliding window, its Retry-After, and its bounded memory."""

from __future__ import annotations

import pytest

from budgets.session_caps import SESSION_ID_CHARS, SessionCaps


def _admitted(
    caps: SessionCaps, session: str, times: list[float], *, cap: int, key: str = "k"
) -> list[bool]:
    return [caps.admit(key, session, cap=cap, now=t) is None for t in times]


def test_the_request_over_the_cap_is_refused_and_other_sessions_go_on() -> None:
    caps = SessionCaps()
    assert _admitted(caps, "runaway", [100.0, 100.1, 100.2], cap=3) == [True, True, True]
    refusal = caps.admit("k", "runaway", cap=3, now=100.3)
    assert refusal is not None
    assert (refusal.sent, refusal.cap) == (3, 3)
    assert refusal.retry_after_s == pytest.approx(59.7)
    assert "this session sent 3 requests in the last minute" in refusal.message()
    assert refusal.message().endswith("Please try again in 60s.")  # Codex waits that long
    assert caps.admit("k", "calm", cap=3, now=100.3) is None
    # the same session id under another virtual key is another session
    assert caps.admit("other-key", "runaway", cap=3, now=100.3) is None
    statistics = caps.statistics()
    assert (statistics.sessions, statistics.refused) == (3, 1)


def test_the_window_slides_second_by_second() -> None:
    caps = SessionCaps()
    assert _admitted(caps, "s", [0.5, 30.0, 30.5], cap=3) == [True, True, True]
    refusal = caps.admit("k", "s", cap=3, now=45.0)
    assert refusal is not None and refusal.retry_after_s == pytest.approx(15.0)
    assert caps.admit("k", "s", cap=3, now=60.0) is None  # second 0 left the window
    refusal = caps.admit("k", "s", cap=3, now=61.0)
    assert refusal is not None and refusal.retry_after_s == pytest.approx(29.0)
    assert caps.admit("k", "s", cap=3, now=500.0) is None  # a long pause forgets all


def test_refused_requests_do_not_count() -> None:
    caps = SessionCaps()
    assert _admitted(caps, "s", [10.0, 10.0], cap=2) == [True, True]
    assert _admitted(caps, "s", [10.0 + i / 10 for i in range(100)], cap=2) == [False] * 100
    assert caps.admit("k", "s", cap=2, now=70.0) is None


@pytest.mark.parametrize("cap", [0, -1])
def test_no_cap_admits_everything(cap: int) -> None:
    caps = SessionCaps()
    assert all(_admitted(caps, "s", [1.0] * 10_000, cap=cap))
    assert len(caps) == 0


def test_an_absurd_cap_is_simply_never_reached() -> None:
    caps = SessionCaps()
    assert all(_admitted(caps, "s", [1.0] * 1000, cap=10**12))


def test_memory_is_bounded_by_live_sessions() -> None:
    caps = SessionCaps(max_sessions=100)
    for index in range(1000):
        caps.admit("k", f"s{index}", cap=5, now=1.0)
    assert len(caps) == 100
    # sessions idle for a whole window are swept when the next one arrives
    caps.admit("k", "late", cap=5, now=200.0)
    assert len(caps) == 1


def test_a_huge_session_id_is_cut() -> None:
    caps = SessionCaps()
    prefix = "x" * SESSION_ID_CHARS
    assert caps.admit("k", prefix + "a" * 100_000, cap=1, now=1.0) is None
    assert caps.admit("k", prefix + "b", cap=1, now=1.0) is not None
