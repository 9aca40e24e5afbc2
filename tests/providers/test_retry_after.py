"""``Retry-After`` from a provider: delay-seconds or an HTTP-date, and anything else read
as nothing, never as an exception, for every provider's error mapping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.anthropic._errors import map_http_error as map_anthropic_error
from providers.cohere._errors import map_cohere_error
from providers.gemini._errors import map_gemini_error
from providers.openai_errors import map_openai_error
from providers.retry_after import parse_retry_after

NOW = 1_796_452_400.0  # 2026-12-05T06:33:20Z
IN_90_S = "Sat, 05 Dec 2026 06:34:50 GMT"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30", 30.0),
        (" 1.5 ", 1.5),
        ("0", 0.0),
        (IN_90_S, 90.0),
        ("Sat, 05 Dec 2026 06:00:00 GMT", 0.0),  # already past: no wait
        ("Saturday, 05-Dec-26 06:34:50 GMT", 90.0),  # RFC 850
        ("-5", None),
        ("inf", None),
        ("nan", None),
        ("soon", None),
        ("Sat, 05 Dec 2026 06:34:50", None),  # no zone: not an HTTP-date
        ("Sat, 05 Dec 2026 06:34:50 GMT" * 10, None),
        ("", None),
        (None, None),
    ],
)
def test_seconds_or_an_http_date(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == (
        None if seconds is None else pytest.approx(seconds)
    )


@given(st.text(max_size=80))
def test_any_header_value_is_a_non_negative_finite_delay_or_nothing(value: str) -> None:
    seconds = parse_retry_after(value, now=NOW)
    assert seconds is None or 0.0 <= seconds < float("inf")


@pytest.mark.parametrize(
    "mapper", [map_openai_error, map_anthropic_error, map_gemini_error, map_cohere_error]
)
def test_every_provider_waits_until_an_http_date(mapper: object) -> None:
    in_90_s = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    headers = [("retry-after", in_90_s)]
    info = mapper(429, headers, b"{}")  # type: ignore[operator]
    assert info.retry_after is not None
    assert 0.0 < info.retry_after <= 90.0 + 1.0  # measured from the real clock now
