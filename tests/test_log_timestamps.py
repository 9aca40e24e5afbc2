"""Log lines are stamped as structlog's ``TimeStamper(fmt="iso", utc=True)`` stamps
them (``cli.log_config`` formats each second once: every request logs a line)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cli.log_config import _UtcStamp


def _structlogs_text(nanos: int) -> str:
    second, rest = divmod(nanos, 1_000_000_000)
    moment = datetime.fromtimestamp(second, UTC).replace(microsecond=rest // 1000)
    return moment.isoformat().replace("+00:00", "Z")


def _stamped(stamp: _UtcStamp, nanos: int, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr("cli.log_config.time.time_ns", lambda: nanos)
    return stamp(None, "info", {"event": "x"})["timestamp"]


@given(st.integers(min_value=0, max_value=4_102_444_800 * 10**9))  # to 2100
def test_any_moment_is_written_as_structlog_writes_it(nanos: int) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert _stamped(_UtcStamp(), nanos, monkeypatch) == _structlogs_text(nanos)


def test_the_cached_second_moves_on(monkeypatch: pytest.MonkeyPatch) -> None:
    stamp = _UtcStamp()
    first = 1_796_452_094 * 10**9
    assert _stamped(stamp, first + 5_000, monkeypatch) == "2026-12-05T06:28:14.000005Z"
    assert _stamped(stamp, first + 999_999_999, monkeypatch) == "2026-12-05T06:28:14.999999Z"
    assert _stamped(stamp, first + 10**9, monkeypatch) == "2026-12-05T06:28:15Z"
    assert _stamped(stamp, first - 1, monkeypatch) == "2026-12-05T06:28:13.999999Z"
