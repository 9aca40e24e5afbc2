"""structlog, configured once, at the entry point: JSON lines when stderr is not a
terminal (production, CI), a readable console when it is. Nothing below the entry point
configures logging; actors bind request ids explicitly on each line."""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog


def _orjson_dumps(event: Any, **_: Any) -> str:
    return orjson.dumps(event, default=str).decode()


class _UtcStamp:
    """structlog's ``TimeStamper(fmt="iso", utc=True)``, the same text
    (``2026-01-02T03:04:05.678901Z``; no fraction at a whole second), with the date and
    time of the current second formatted once: every request logs a line."""

    __slots__ = ("_cached",)

    def __init__(self) -> None:
        self._cached = (-1, "")  # (unix second, its text): one tuple, safe across threads

    def __call__(self, _logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        second, nanos = divmod(time.time_ns(), 1_000_000_000)
        cached_second, text = self._cached
        if second != cached_second:
            moment = datetime.fromtimestamp(second, UTC)
            text = moment.replace(tzinfo=None).isoformat()
            self._cached = (second, text)
        micros = nanos // 1000  # datetime.now() floors to the microsecond too
        event_dict["timestamp"] = f"{text}.{micros:06d}Z" if micros else text + "Z"
        return event_dict


def configure_logging(*, json: bool | None = None, level: str = "info") -> None:
    if json is None:
        json = not sys.stderr.isatty()
    numeric = logging.getLevelNamesMapping()[level.upper()]
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        _UtcStamp(),
    ]
    if json:
        processors += [
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=_orjson_dumps),
        ]
    else:
        # plain tracebacks: rich's (structlog's default when rich is installed) print
        # every frame's local variables, and a local may hold a key
        processors.append(
            structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
        )
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


__all__ = ["configure_logging"]
