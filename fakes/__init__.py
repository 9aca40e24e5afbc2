"""Fake providers: real HTTP servers speaking each provider's wire format, scriptable per test.

The scripting model (``Reply``, its items, ``Fault``, ``Turn``) is provider-neutral;
each ``<name>_wire`` module encodes it in one format; ``FakeProviderServer`` serves
them all over HTTP/1.1 (optionally TLS) with faults and request recording.
``CannedProviderServer`` is the fast fixed-reply variant for benchmarks, and
``python -m fakes`` runs either from the command line.
"""

from fakes.canned import CannedAnswers, CannedProviderServer
from fakes.default_reply import Conversation, default_reply
from fakes.script import (
    CustomToolCall,
    FakeUsage,
    Fault,
    FunctionCall,
    Item,
    Reasoning,
    Reply,
    Scriptable,
    ScriptError,
    Text,
    Turn,
    computed_usage,
    turn_from_json,
    turn_to_json,
)
from fakes.server import FakeProviderServer, RecordedRequest, open_fake_provider

__all__ = [
    "CannedAnswers",
    "CannedProviderServer",
    "Conversation",
    "CustomToolCall",
    "FakeProviderServer",
    "FakeUsage",
    "Fault",
    "FunctionCall",
    "Item",
    "Reasoning",
    "RecordedRequest",
    "Reply",
    "ScriptError",
    "Scriptable",
    "Text",
    "Turn",
    "computed_usage",
    "default_reply",
    "open_fake_provider",
    "turn_from_json",
    "turn_to_json",
]
