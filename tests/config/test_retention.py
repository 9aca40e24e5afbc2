"""The ``retention:`` section: windows, defaults, and every way it is refused."""

from __future__ import annotations

import pytest

from config import ConfigError, parse_config
from config.model import RetentionConfig

BASE = """\
accounts:
  - id: "a"
    providers:
      - id: "p"
        type: "openai"
        api_key: "sk-x"
        model: "gpt-5"
"""


def _retention(section: str) -> RetentionConfig:
    return parse_config(BASE + section, source="test.yaml").retention


def test_defaults_keep_bodies_30_days_and_events_a_year() -> None:
    assert _retention("") == RetentionConfig(bodies_s=30 * 86400, events_s=365 * 86400)


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("retention: {bodies: 7d, events: 90d}\n", (7 * 86400, 90 * 86400)),
        ("retention: {bodies: 36h}\n", (36 * 3600, 365 * 86400)),
        ("retention: {bodies: 30d, events: forever}\n", (30 * 86400, None)),
        ("retention: {bodies: forever, events: forever}\n", (None, None)),
    ],
)
def test_windows_are_read(section: str, expected: tuple[float | None, float | None]) -> None:
    retention = _retention(section)
    assert (retention.bodies_s, retention.events_s) == expected


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        ("retention: {bodies: 30}\n", "retention.bodies"),
        ("retention: {bodies: 30x}\n", "'30x' is not a retention window"),
        ("retention: {bodies: 0d}\n", "'0d' is not a retention window"),
        ("retention: {bodies: -1d}\n", "'-1d' is not a retention window"),
        ("retention: {bodies: 99999999999d}\n", "is not a retention window"),
        ("retention: {bodies: 10m}\n", "'10m' is not a retention window"),
        ("retention: {bodies: [1d]}\n", "retention.bodies"),
        ("retention: {bodies: 400d}\n", "bodies cannot be kept longer than their events"),
        ("retention: {bodies: forever, events: 30d}\n", "cannot be kept longer"),
        ("retention: {body: 30d}\n", "body"),
        ("retention: 30d\n", "retention"),
    ],
)
def test_bad_retention_is_refused_with_its_line(section: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _retention(section)
    assert fragment in str(raised.value)
    assert raised.value.line == BASE.count("\n") + 1
