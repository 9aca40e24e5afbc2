"""The JSON value type used wherever a wire document crosses into the message layer.

Request bodies are parsed exactly once, at the ingress, and travel as these values.
They are treated as read-only from then on: no actor mutates a body it received,
it builds a new one (see ``providers``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

Json: TypeAlias = "Mapping[str, Json] | Sequence[Json] | str | int | float | bool | None"
JsonObject: TypeAlias = "Mapping[str, Json]"

__all__ = ["Json", "JsonObject"]
