"""Bodies stored once per distinct part (``storage.blobs``), rebuilt byte for byte."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from messages.events import RequestReceived
from storage import SqlRecorder, decode_event, encode_payload, make_engine
from storage.blob_store import BlobWriter, rebuild_body, rebuild_payload
from storage.blobs import (
    BLOB_MIN_BYTES,
    CHAIN_MAX_ELEMENTS,
    TOUCH_S,
    Blob,
    BrokenTrail,
    KnownBlobs,
    join_document,
    split_document,
)
from storage.tables import blobs, events
from tests.storage.samples import received, sequenced

INSTRUCTIONS = "You are Codex, a coding agent. " * 400  # ~12 KB, the same every turn
TOOLS = [
    {"type": "function", "name": f"tool_{n}", "description": "does things " * 40} for n in range(20)
]


def codex_body(items: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(
        {
            "model": "gpt-5.5",
            "instructions": INSTRUCTIONS,
            "input": items,
            "tools": TOOLS,
            "tool_choice": "auto",
            "stream": True,
        }
    )


def item(n: int) -> dict[str, Any]:
    text = f"turn {n}: " + "please fix it " * 10
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


class Store:
    """A dict standing in for the ``blobs`` table."""

    def __init__(self) -> None:
        self.rows: dict[bytes, Blob] = {}

    def keep(self, found: list[Blob]) -> list[Blob]:
        new = [blob for blob in found if blob.key not in self.rows]
        self.rows.update((blob.key, blob) for blob in found)
        return new

    def fetch(self, key: bytes, count: int) -> list[Blob]:
        nodes: list[Blob] = []
        at: bytes | None = key
        while at is not None and at in self.rows and len(nodes) < count:
            nodes.append(self.rows[at])
            at = self.rows[at].parent
        return nodes


def test_a_codex_body_splits_into_a_small_skeleton_and_rebuilds_exactly() -> None:
    raw = codex_body([item(n) for n in range(3)])
    split = split_document(raw)
    assert split is not None
    assert len(split.skeleton) < 150
    skeleton = orjson.loads(split.skeleton)
    assert skeleton["model"] == "gpt-5.5"  # small members stay queryable
    assert skeleton["instructions"] == {"$ref": 0}
    assert [part[2] for part in split.parts] == ["value", "array", "array"]
    assert split.parts[1][4] == 3 and split.parts[2][4] == 20
    store = Store()
    store.keep(split.blobs)
    assert join_document(split.skeleton, split.parts, store.fetch) == raw


def test_a_later_turn_stores_only_its_new_items() -> None:
    store = Store()
    first = split_document(codex_body([item(n) for n in range(10)]))
    assert first is not None
    store.keep(first.blobs)
    later_raw = codex_body([item(n) for n in range(12)])
    later = split_document(later_raw)
    assert later is not None
    new = store.keep(later.blobs)
    assert sorted(blob.data for blob in new) == sorted(orjson.dumps(item(n)) for n in (10, 11))
    assert join_document(later.skeleton, later.parts, store.fetch) == later_raw


@pytest.mark.parametrize(
    "raw",
    [
        b'{"instructions": "' + b"x" * 2000 + b'"}',  # whitespace
        b'{"a":"\\u00e9' + b"x" * 2000 + b'"}',  # an escape orjson would not write
        b'{"a":"' + b"x" * 2000 + b'","a":1}',  # a duplicate key
        b'{"a":1.50,"b":"' + b"x" * 2000 + b'"}',  # a number spelled differently
        b"[" + b"1," * 1000 + b"1]",  # not an object
        b'{"a":"x"}',  # small
    ],
    ids=["whitespace", "escape", "duplicate", "number", "array", "small"],
)
def test_a_body_not_in_orjsons_own_spelling_is_kept_whole(raw: bytes) -> None:
    assert split_document(raw) is None


def test_a_missing_or_altered_blob_is_reported_not_guessed() -> None:
    raw = codex_body([item(n) for n in range(3)])
    split = split_document(raw)
    assert split is not None
    store = Store()
    store.keep(split.blobs)
    chain_key = bytes.fromhex(split.parts[1][3])
    del store.rows[store.rows[chain_key].parent]  # type: ignore[index]
    with pytest.raises(BrokenTrail, match="has 1 of its 3 elements"):
        join_document(split.skeleton, split.parts, store.fetch)


def test_known_blobs_are_skipped_for_an_hour_then_marked_again() -> None:
    known = KnownBlobs(capacity=2)
    known.remember([b"a", b"b"], now=1000)
    assert known.fresh(b"a", 1000 + TOUCH_S - 1)
    assert not known.fresh(b"a", 1000 + TOUCH_S)
    known.remember([b"c"], now=1000)  # over capacity: the least recent (b) goes
    assert len(known) == 2 and not known.fresh(b"b", 1001)


# -- arbitrary bodies ----------------------------------------------------------------

_int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
_scalars = st.none() | st.booleans() | _int64 | st.floats(allow_nan=False) | st.text()
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=30,
)
_big = st.text(min_size=BLOB_MIN_BYTES, max_size=BLOB_MIN_BYTES + 50)
_members = st.dictionaries(
    st.text(max_size=10),
    _json | _big | st.lists(_json | _big, min_size=1, max_size=8),
    max_size=6,
)


@settings(max_examples=120, deadline=None)
@given(_members)
def test_any_json_object_splits_and_joins_back_exactly(value: dict[str, Any]) -> None:
    raw = orjson.dumps(value)
    split = split_document(raw)
    if split is None:
        assert len(raw) < 2 * BLOB_MIN_BYTES or all(
            len(orjson.dumps(member)) < BLOB_MIN_BYTES for member in value.values()
        )
        return
    store = Store()
    store.keep(split.blobs)
    assert join_document(split.skeleton, split.parts, store.fetch) == raw


@settings(max_examples=120, deadline=None)
@given(_members)
def test_a_body_with_a_large_member_is_always_split(value: dict[str, Any]) -> None:
    raw = orjson.dumps(value)
    large = any(len(orjson.dumps(member)) >= BLOB_MIN_BYTES for member in value.values())
    assert (split_document(raw) is not None) == (large and len(raw) >= 2 * BLOB_MIN_BYTES)


_near_threshold = st.lists(st.text(alphabet="ab\x1f", min_size=20, max_size=40), max_size=16)
"""Arrays of about 0 to 700 bytes: on either side of ``BLOB_MIN_BYTES``."""
_many_members = st.dictionaries(
    st.text(max_size=12),
    _json | _near_threshold | st.dictionaries(st.text(max_size=5), _json, max_size=8),
    min_size=5,
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(_many_members)
def test_a_large_member_among_many_small_ones_is_never_missed(value: dict[str, Any]) -> None:
    """The quick look for a large member (``_may_have_large_member``) never misses one."""
    raw = orjson.dumps(value)
    large = any(len(orjson.dumps(member)) >= BLOB_MIN_BYTES for member in value.values())
    assert (split_document(raw) is not None) == (large and len(raw) >= 2 * BLOB_MIN_BYTES)


@pytest.mark.parametrize("array_bytes", [BLOB_MIN_BYTES - 1, BLOB_MIN_BYTES])
def test_an_array_is_large_from_exactly_the_threshold_beside_small_members(
    array_bytes: int,
) -> None:
    """A member is large from exactly ``BLOB_MIN_BYTES`` serialised bytes, beside many
    small members."""
    array = ["y" * (array_bytes - 4)]
    value: dict[str, Any] = {f"s{n}": "x" * 50 for n in range(12)}
    value |= {"none": None, "yes": True, "items": array}
    raw = orjson.dumps(value)
    assert len(orjson.dumps(array)) == array_bytes and len(raw) >= 2 * BLOB_MIN_BYTES
    assert (split_document(raw) is not None) == (array_bytes >= BLOB_MIN_BYTES)


@pytest.mark.parametrize(("count", "split"), [(84, False), (85, True)])
def test_a_string_of_escaped_characters_is_measured_by_its_json_bytes(
    count: int, split: bool
) -> None:
    value = {"a": "\x1f" * count, "b": "q" * 400, "c": "r" * 400}  # "\u001f": 6 bytes
    raw = orjson.dumps(value)
    assert len(orjson.dumps(value["a"])) == 6 * count + 2
    assert (split_document(raw) is not None) == split


def test_the_writer_hands_back_json_it_keeps_whole_without_parts() -> None:
    small_members = orjson.dumps({f"member_{n}": "x" * 40 for n in range(40)})
    assert len(small_members) >= 2 * BLOB_MIN_BYTES
    writer = BlobWriter()
    writer.begin()
    assert writer.split(small_members) == (small_members, [])
    assert writer.split(b'{"a":"' + b"x" * 2000) is None  # not JSON
    assert writer.split(b'{"a":1}') is None  # short
    event = received("req-a", body=small_members)
    assert encode_payload(event, writer.split) == encode_payload(event)


@settings(max_examples=120, deadline=None)
@given(
    st.one_of(
        _members.map(orjson.dumps),
        _members.map(lambda value: json.dumps(value, indent=1).encode()),  # not orjson's
        st.binary(),
        st.text().map(str.encode),
    )
)
def test_any_body_round_trips_through_the_codec_with_parts_stored(raw: bytes) -> None:
    store = Store()

    def split(body: bytes) -> tuple[bytes, list[Any]] | None:
        done = split_document(body)
        if done is None:
            return None
        store.keep(done.blobs)
        return done.skeleton, done.parts

    payload = encode_payload(received("req-a", body=raw), split)
    fields = orjson.loads(payload)
    if "body_parts" in fields:
        skeleton = payload[len(payload) - 1 - fields["body_size"] : -1]
        rebuilt = join_document(skeleton, fields["body_parts"], store.fetch)
        assert rebuilt == raw
    else:
        event = decode_event("req-a", "request.received", payload)
        assert isinstance(event, RequestReceived) and event.body == raw


# -- in SQL (SQLite, and PostgreSQL with SWITCHYARD_TEST_PG_URL) --------------------


def _turns(count: int) -> list[RequestReceived]:
    return [
        dataclasses.replace(
            received(f"req-{n}", at=1_767_225_600.0 + n),
            body=codex_body([item(i) for i in range(2 * n + 1)]),
        )
        for n in range(count)
    ]


def test_sql_trail_stores_each_part_once_and_reads_bodies_back_exactly(engine: Engine) -> None:
    recorder = SqlRecorder(engine)
    turns = _turns(6)
    for turn in turns[:3]:
        recorder.append(sequenced([turn]))
    recorder.append([s for turn in turns[3:] for s in sequenced([turn])])  # one batch
    with engine.connect() as connection:
        stored = connection.execute(sa.select(blobs.c.data)).scalars().all()
        payloads = connection.execute(sa.select(sa.cast(events.c.payload, sa.Text))).scalars()
        skeleton_sizes = [len(p) for p in payloads]
        for turn in turns:
            (read,) = recorder.read(turn.request_id)
            assert decode_event(read.request_id, read.kind, read.payload) == turn
            raw_payload = connection.execute(
                sa.select(sa.cast(events.c.payload, sa.Text)).where(
                    events.c.request_id == turn.request_id
                )
            ).scalar_one()
            assert rebuild_body(connection, raw_payload.encode()) == turn.body
    # one instructions blob, 20 tools, 11 distinct items (each turn extends the last)
    assert len(stored) == 1 + 20 + 11
    assert sorted(stored).count(orjson.dumps(INSTRUCTIONS)) == 1
    assert max(skeleton_sizes) < 1200  # a turn's event: metadata and a skeleton


def test_sql_reads_bodies_whose_bytes_could_be_mistaken_for_the_layout(engine: Engine) -> None:
    tricky = orjson.dumps(
        {
            "body_parts": [[0, 3, "value", "00" * 32]],
            "x": {"$ref": 0},
            "body": "y" * 600,
            "input": ['"body":' * 100, {"$ref": 1}],
        }
    )
    event = dataclasses.replace(received("req-t"), body=tricky)
    SqlRecorder(engine).append(sequenced([event]))
    (read,) = SqlRecorder(engine).read("req-t")
    assert decode_event(read.request_id, read.kind, read.payload) == event


def test_a_deleted_blob_makes_the_read_fail_loudly(engine: Engine) -> None:
    recorder = SqlRecorder(engine)
    recorder.append(sequenced(_turns(1)))
    with engine.begin() as connection:
        connection.execute(sa.delete(blobs).where(blobs.c.data == orjson.dumps(INSTRUCTIONS)))
    with pytest.raises(BrokenTrail, match="is missing"):
        recorder.read("req-0")


def test_an_altered_blob_makes_the_read_fail_loudly(engine: Engine) -> None:
    recorder = SqlRecorder(engine)
    recorder.append(sequenced(_turns(1)))
    with engine.begin() as connection:
        connection.execute(
            sa.update(blobs).where(blobs.c.data == orjson.dumps(INSTRUCTIONS)).values(data=b'"x"')
        )
    with pytest.raises(BrokenTrail, match="does not match its key"):
        recorder.read("req-0")


def test_the_writer_does_not_resend_blobs_it_wrote_lately(engine: Engine) -> None:
    writer = BlobWriter()
    writer.begin()
    assert writer.split(codex_body([item(n) for n in range(4)])) is not None
    with engine.begin() as connection:
        writer.write(connection)
    writer.committed()
    writer.begin()
    assert writer.split(codex_body([item(n) for n in range(5)])) is not None
    assert [blob.data for blob in writer._pending.values()] == [orjson.dumps(item(4))]


def test_payloads_without_parts_come_back_unchanged(engine: Engine) -> None:
    payload = encode_payload(received("req-a"))
    with engine.connect() as connection:
        assert rebuild_payload(connection, payload) is payload


def test_the_cli_prints_a_stored_body_byte_for_byte(
    database_url: str, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    from cli.main import main

    engine = make_engine(database_url)
    try:
        SqlRecorder(engine).append(sequenced(_turns(3)))
    finally:
        engine.dispose()
    try:
        assert main(["body", "req-2", "--db", database_url]) == 0
        assert capsysbinary.readouterr().out == _turns(3)[2].body
        assert main(["body", "req-9", "--db", database_url]) == 2
        assert b"no request.received event for request 'req-9'" in capsysbinary.readouterr().err
    finally:
        structlog.reset_defaults()  # the CLI logged to this test's captured stderr


@pytest.mark.parametrize(
    "array",
    [[0] * 100_000, ["x" * 70] * (CHAIN_MAX_ELEMENTS + 1)],
    ids=["tiny-elements", "too-many-elements"],
)
def test_an_array_that_would_make_a_huge_chain_is_one_blob(array: list[Any]) -> None:
    raw = orjson.dumps({"model": "m", "input": array})
    split = split_document(raw)
    assert split is not None
    assert [part[2] for part in split.parts] == ["value"]
    assert len(split.blobs) == 1
    store = Store()
    store.keep(split.blobs)
    assert join_document(split.skeleton, split.parts, store.fetch) == raw
