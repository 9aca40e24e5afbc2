"""Persistence of the request trail: SQL through SQLAlchemy Core, or memory.

Imports ``messages`` and SQLAlchemy, never ``actors``. The audit logger is the only
writer; everything here blocks and is called from a worker thread.
"""

from storage.blob_store import rebuild_body, rebuild_payload
from storage.blobs import BrokenTrail
from storage.codec import encode_payload
from storage.database import (
    DatabaseSchemaError,
    downgrade,
    ensure_migrated,
    make_engine,
    migrate,
)
from storage.event_decoding import decode_event
from storage.memory import InMemoryRecorder
from storage.recorder import Recorder, SequencedEvent, StoredEvent, TrailIntegrityError
from storage.sql import SqlRecorder

__all__ = [
    "BrokenTrail",
    "DatabaseSchemaError",
    "InMemoryRecorder",
    "Recorder",
    "SequencedEvent",
    "SqlRecorder",
    "StoredEvent",
    "TrailIntegrityError",
    "decode_event",
    "downgrade",
    "encode_payload",
    "ensure_migrated",
    "make_engine",
    "migrate",
    "rebuild_body",
    "rebuild_payload",
]
