"""Content-addressed storage of the large parts of bodies: what repeats is stored once.

A Codex turn sends its instructions and 20+ tool definitions again on every turn (and
the Responses object echoes them), and the whole conversation so far. Stored as they
come, a session's trail grows with the square of its turns. Here a JSON body is split
into a *skeleton* (the body with each large top-level member's value replaced by a
small ``{"$ref":N}``) and *blobs*, rows of the ``blobs`` table keyed by SHA-256:

- a large value that is not an array (``instructions``) is one blob;
- a large array (``input``, ``tools``, ``output``, ``messages``) is a *chain*: one
  node per element, each holding its element and its parent (the node of the elements
  before it). A node's key hashes its parent's key and its element, so a chain's key
  names the whole list, and a turn whose ``input`` extends the previous turn's reuses
  every node of it: the turn stores its new items and nothing else.

Pure: ``split_document`` and ``join_document`` are exact inverses, byte for byte,
whatever the body. A body is split only where its bytes are what orjson writes for
its value (compact JSON, as Codex and the OpenAI SDKs send it); this is checked on
the bytes, so any other body (whitespace, escapes, duplicate keys) is kept whole.

A blob's content, which its key hashes, is ``b"\\x00" + data`` for a value or a
chain's first node and ``b"\\x01" + parent_key + data`` for a later node: the two
never collide, so a key always means one content.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

BLOB_MIN_BYTES = 512
"""A top-level member whose value serialises to fewer bytes stays in the skeleton."""
SPLIT_MIN_BYTES = 2 * BLOB_MIN_BYTES
"""A body shorter than this is never split (most API calls; it saves the work)."""
CHAIN_MAX_ELEMENTS = 4096
CHAIN_MIN_AVERAGE_BYTES = 64
"""An array is a chain only if it has at most this many elements of at least this many
bytes on average: a client's array of a million tiny elements is one blob, not a
million rows (and a million-deep chain to read back)."""
VALUE = "value"
ARRAY = "array"

Part = list[Any]
"""``[start, end, "value", key_hex]`` or ``[start, end, "array", key_hex, count]``:
the skeleton's bytes ``start:end`` (its ``{"$ref":N}``) stand for that blob or chain."""


@dataclass(frozen=True, slots=True)
class Blob:
    """One row of ``blobs``: ``parent`` is the previous node's key for a chain's later
    nodes, else ``None``."""

    key: bytes
    parent: bytes | None
    data: bytes


@dataclass(frozen=True, slots=True)
class Split:
    skeleton: bytes
    parts: list[Part]
    blobs: list[Blob]


class BrokenTrail(Exception):
    """A stored body cannot be rebuilt: a blob it names is missing or wrong."""


def blob_key(parent: bytes | None, data: bytes) -> bytes:
    digest = hashlib.sha256(b"\x00" if parent is None else b"\x01" + parent)
    digest.update(data)
    return digest.digest()


def split_document(raw: bytes) -> Split | None:
    """The skeleton, parts and blobs of ``raw``, or ``None`` to keep it whole."""
    if len(raw) < SPLIT_MIN_BYTES or raw[:1] != b"{":
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return split_value(raw, value)


def split_value(raw: bytes, value: object) -> Split | None:
    """``split_document`` for a body already parsed: ``value`` is ``orjson.loads(raw)``."""
    if len(raw) < SPLIT_MIN_BYTES or not isinstance(value, dict):
        return None
    if not _may_have_large_member(value):
        return None
    return _split_object(raw, value)


_LONGEST_CHARACTER = 6
"""The most bytes one character of a string takes in JSON (``\\u001f``)."""


def _may_have_large_member(value: dict[str, Any]) -> bool:
    """False when no member can serialise to ``BLOB_MIN_BYTES`` (so nothing would be
    split): numbers, booleans and null never do, a string only when long enough, and only
    arrays and objects are measured. Most bodies over ``SPLIT_MIN_BYTES`` (a Responses
    object with a short answer) end here, at a fraction of a full split's cost."""
    for member in value.values():
        if isinstance(member, str):
            if len(member) * _LONGEST_CHARACTER + 2 >= BLOB_MIN_BYTES:
                return True
        elif isinstance(member, (dict, list)) and len(orjson.dumps(member)) >= BLOB_MIN_BYTES:
            return True
    return False


def _split_object(raw: bytes, value: dict[str, Any]) -> Split | None:
    rebuilt: list[bytes] = [b"{"]
    skeleton: list[bytes] = [b"{"]
    size = 1  # of the skeleton so far
    parts: list[Part] = []
    blobs: list[Blob] = []
    for index, (name, member) in enumerate(value.items()):
        head = (b"," if index else b"") + orjson.dumps(name) + b":"
        rebuilt.append(head)
        skeleton.append(head)
        size += len(head)
        body, stand_in = _member(member, len(parts), parts, blobs)
        rebuilt.append(body)
        skeleton.append(stand_in)
        if parts and parts[-1][0] == -1:  # the member became a part: place it
            parts[-1][0:2] = [size, size + len(stand_in)]
        size += len(stand_in)
    rebuilt.append(b"}")
    skeleton.append(b"}")
    if not parts or b"".join(rebuilt) != raw:
        return None  # nothing large, or not orjson's bytes: keep the body as it came
    return Split(skeleton=b"".join(skeleton), parts=parts, blobs=blobs)


def _member(member: Any, number: int, parts: list[Part], blobs: list[Blob]) -> tuple[bytes, bytes]:
    """The member's bytes, and what the skeleton holds in their place."""
    elements: list[bytes] = []
    if isinstance(member, list) and 0 < len(member) <= CHAIN_MAX_ELEMENTS:
        elements = [orjson.dumps(element) for element in member]
        body = b"[" + b",".join(elements) + b"]"
    else:
        body = orjson.dumps(member)
    if len(body) < BLOB_MIN_BYTES:
        return body, body
    if elements and len(body) >= CHAIN_MIN_AVERAGE_BYTES * len(elements):
        parts.append([-1, -1, ARRAY, _chain(elements, blobs).hex(), len(elements)])
    else:
        key = blob_key(None, body)
        blobs.append(Blob(key=key, parent=None, data=body))
        parts.append([-1, -1, VALUE, key.hex()])
    return body, b'{"$ref":%d}' % number


def _chain(elements: Sequence[bytes], blobs: list[Blob]) -> bytes:
    parent: bytes | None = None
    for element in elements:
        key = blob_key(parent, element)
        blobs.append(Blob(key=key, parent=parent, data=element))
        parent = key
    assert parent is not None
    return parent


# -- rebuilding ---------------------------------------------------------------------

FetchChain = Callable[[bytes, int], list[Blob]]
"""``(key, count)`` → the chain's nodes from ``key`` back to its first (at most
``count``; a value is a chain of one)."""


def join_document(skeleton: bytes, parts: Sequence[Part], fetch: FetchChain) -> bytes:
    """The body ``split_document`` split into ``skeleton`` and ``parts``, byte for byte."""
    pieces: list[bytes] = []
    at = 0
    for part in parts:
        start, end, kind, key_hex = part[0], part[1], part[2], part[3]
        if not (at <= start <= end <= len(skeleton)):
            raise BrokenTrail(f"part at {start}:{end} is outside the stored body")
        pieces.append(skeleton[at:start])
        if kind == VALUE:
            pieces.append(_value(bytes.fromhex(key_hex), fetch))
        elif kind == ARRAY:
            pieces.append(_array(bytes.fromhex(key_hex), int(part[4]), fetch))
        else:
            raise BrokenTrail(f"unknown part kind {kind!r}")
        at = end
    pieces.append(skeleton[at:])
    return b"".join(pieces)


def _value(key: bytes, fetch: FetchChain) -> bytes:
    nodes = fetch(key, 1)
    if len(nodes) != 1 or nodes[0].parent is not None:
        raise BrokenTrail(f"blob {key.hex()} is missing")
    return nodes[0].data


def _array(key: bytes, count: int, fetch: FetchChain) -> bytes:
    nodes = fetch(key, count)
    if len(nodes) != count or nodes[-1].parent is not None:
        raise BrokenTrail(f"chain {key.hex()} has {len(nodes)} of its {count} elements")
    return b"[" + b",".join(node.data for node in reversed(nodes)) + b"]"


def check_chain(key: bytes, nodes: Sequence[Blob]) -> Iterator[Blob]:
    """``nodes`` as fetched, each checked against the key that named it."""
    expected: bytes | None = key
    for node in nodes:
        if node.key != expected or blob_key(node.parent, node.data) != node.key:
            raise BrokenTrail(f"blob {node.key.hex()} does not match its key")
        yield node
        expected = node.parent


# -- the writer's memory ------------------------------------------------------------

TOUCH_S = 3600
"""A blob in use is marked (``used_at``) at most this often; retention collects blobs
unmarked for longer than the bodies' window plus this."""
KNOWN_BLOBS = 16384


class KnownBlobs:
    """Keys the writer stored (or re-marked) lately, with when: a bounded LRU.

    A key marked within ``TOUCH_S`` is not written again; older ones are, so their
    ``used_at`` moves on and retention keeps them while a body still names them.
    """

    def __init__(self, capacity: int = KNOWN_BLOBS) -> None:
        self._capacity = capacity
        self._marked: OrderedDict[bytes, int] = OrderedDict()

    def __len__(self) -> int:
        return len(self._marked)

    def fresh(self, key: bytes, now: int) -> bool:
        marked = self._marked.get(key)
        if marked is None or now - marked >= TOUCH_S:
            return False
        self._marked.move_to_end(key)
        return True

    def remember(self, keys: Sequence[bytes], now: int) -> None:
        for key in keys:
            self._marked[key] = now
            self._marked.move_to_end(key)
        while len(self._marked) > self._capacity:
            self._marked.popitem(last=False)


__all__ = [
    "ARRAY",
    "BLOB_MIN_BYTES",
    "CHAIN_MAX_ELEMENTS",
    "CHAIN_MIN_AVERAGE_BYTES",
    "SPLIT_MIN_BYTES",
    "TOUCH_S",
    "VALUE",
    "Blob",
    "BrokenTrail",
    "FetchChain",
    "KnownBlobs",
    "Part",
    "Split",
    "blob_key",
    "check_chain",
    "join_document",
    "split_document",
    "split_value",
]
