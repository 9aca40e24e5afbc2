"""Budget periods: calendar windows in UTC and rolling durations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from budgets.periods import parse_period


def _at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("period", "now", "start", "end"),
    [
        ("daily", "2026-11-25 17:30:00", "2026-11-25 00:00:00", "2026-11-26 00:00:00"),
        ("weekly", "2026-11-25 17:30:00", "2026-11-23 00:00:00", "2026-11-30 00:00:00"),
        ("weekly", "2026-11-23 00:00:00", "2026-11-23 00:00:00", "2026-11-30 00:00:00"),
        ("monthly", "2026-12-31 23:59:59", "2026-12-01 00:00:00", "2027-01-01 00:00:00"),
        ("monthly", "2028-02-29 12:00:00", "2028-02-01 00:00:00", "2028-03-01 00:00:00"),
    ],
)
def test_calendar_windows_are_utc_aligned(period: str, now: str, start: str, end: str) -> None:
    assert parse_period(period).bounds(_at(now)) == (_at(start), _at(end))


def test_total_never_ends_and_a_duration_rolls() -> None:
    assert parse_period("total").bounds(1e9) == (None, None)
    twelve_hours = parse_period("12h")
    assert twelve_hours.rolling and twelve_hours.rolling_s == 43_200
    assert twelve_hours.bounds(100_000.0) == (100_000.0 - 43_200, None)
    assert parse_period("30m").rolling_s == 1800 and parse_period("7d").rolling_s == 604_800


@pytest.mark.parametrize("text", ["hourly", "0h", "12", "1y", ""])
def test_unknown_periods_are_refused_with_the_choices(text: str) -> None:
    with pytest.raises(ValueError, match="daily, weekly, monthly, total"):
        parse_period(text)
