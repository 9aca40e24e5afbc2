"""``${NAME}`` references in config strings, filled from the environment.

Forms: ``${NAME}`` (the variable must be set), ``${NAME:-default}`` (the default
when the variable is unset or empty) and ``$${`` for a literal ``${``. Errors name
the variable but never a value: values are often secrets.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

_REFERENCE = re.compile(r"\$\$\{|\$\{(?P<body>[^{}]*)\}|\$\{")
_BODY = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>.*))?", re.DOTALL)


class InterpolationError(ValueError):
    """A reference that cannot be filled; the message is safe to show."""


def has_references(text: str) -> bool:
    """Whether ``text`` holds anything ``interpolate`` would change."""
    return "${" in text


def interpolate(text: str, environ: Mapping[str, str]) -> str:
    """Return ``text`` with every reference replaced from ``environ``."""
    if not has_references(text):
        return text
    return _REFERENCE.sub(lambda match: _fill(match, environ), text)


def _fill(match: re.Match[str], environ: Mapping[str, str]) -> str:
    if match.group(0) == "$${":
        return "${"
    body = match.group("body")
    if body is None:
        raise InterpolationError("unclosed '${' (write '$${' for a literal '${')")
    parsed = _BODY.fullmatch(body)
    if parsed is None:
        raise InterpolationError(
            "malformed environment reference: expected ${NAME} or ${NAME:-default}"
        )
    name, default = parsed.group("name"), parsed.group("default")
    value = environ.get(name)
    if default is not None and not value:
        return default
    if value is None:
        raise InterpolationError(f"environment variable {name} is not set")
    return value
