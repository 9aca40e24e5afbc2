"""Which fake wire format speaks each registered provider type's protocol."""

from __future__ import annotations

from fakes.anthropic_wire import ANTHROPIC
from fakes.gemini_wire import GEMINI
from fakes.wire import WireFormat

WIRE_FOR_TYPE: dict[str, WireFormat] = {
    "anthropic": ANTHROPIC,
    "gemini": GEMINI,
}
