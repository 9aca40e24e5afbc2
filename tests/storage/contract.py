"""One behavioural suite for every ``Recorder``: subclass it and provide ``recorder``."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from storage import Recorder, TrailIntegrityError, decode_event
from tests.storage.samples import T0, completed_request, failed_request, sequenced


class RecorderContract:
    @pytest.fixture
    def recorder(self) -> Recorder:
        raise NotImplementedError("a backend's test class provides this fixture")

    def test_read_returns_one_requests_events_in_seq_order(self, recorder: Recorder) -> None:
        a, b = completed_request("req-a"), failed_request("req-b", at=T0 + 5)
        # interleave the two requests in one batch, b's events first
        recorder.append(sequenced(b)[:3] + sequenced(a) + sequenced(b)[3:])
        stored = recorder.read("req-a")
        assert [event.seq for event in stored] == [1, 2, 3, 4, 5, 6]
        assert [event.kind for event in stored] == [event.kind for event in a]
        assert {event.request_id for event in stored} == {"req-a"}
        assert [event.kind for event in recorder.read("req-b")] == [event.kind for event in b]

    def test_read_of_an_unknown_request_is_empty(self, recorder: Recorder) -> None:
        recorder.append(sequenced(completed_request("req-a")))
        assert recorder.read("req-missing") == []

    def test_recorded_at_is_the_events_at_in_utc(self, recorder: Recorder) -> None:
        recorder.append(sequenced(completed_request("req-a")))
        first = recorder.read("req-a")[0]
        assert first.recorded_at == datetime(2026, 1, 1, 0, 0, 0, 250000, tzinfo=UTC)
        assert first.recorded_at.utcoffset() is not None

    def test_payload_embeds_bodies_as_json_documents(self, recorder: Recorder) -> None:
        recorder.append(sequenced(completed_request("req-a")))
        stored = recorder.read("req-a")
        received = orjson.loads(stored[0].payload)
        assert received["body"]["model"] == "gpt-5-codex"
        assert received["virtual_key_id"] == "vk-team-a"
        assert "request_id" not in received
        completed = orjson.loads(stored[-1].payload)
        assert completed["response"] == {"id": "resp_1", "status": "completed", "output": []}

    def test_payloads_decode_to_the_events(self, recorder: Recorder) -> None:
        events = failed_request("req-b") + completed_request("req-a")[1:]
        recorder.append(sequenced(events))
        decoded = [
            decode_event(stored.request_id, stored.kind, stored.payload)
            for stored in recorder.read_since(0)
        ]
        assert decoded == events  # the samples' bodies are compact JSON, as orjson writes

    def test_read_since_pages_through_everything_in_append_order(self, recorder: Recorder) -> None:
        recorder.append(sequenced(completed_request("req-a")))
        recorder.append(sequenced(failed_request("req-b")))
        seen, cursor = [], 0
        while page := recorder.read_since(cursor, limit=4):
            assert len(page) <= 4
            seen.extend(page)
            cursor = page[-1].id
        assert len(seen) == 13
        assert [event.id for event in seen] == sorted({event.id for event in seen})
        assert [event.request_id for event in seen] == ["req-a"] * 6 + ["req-b"] * 7
        assert recorder.read_since(cursor) == []

    def test_ids_keep_increasing_across_batches(self, recorder: Recorder) -> None:
        recorder.append(sequenced(completed_request("req-a")))
        last_of_first = recorder.read_since(0)[-1].id
        recorder.append(sequenced(completed_request("req-c")))
        assert all(event.id > last_of_first for event in recorder.read("req-c"))

    def test_an_empty_batch_writes_nothing(self, recorder: Recorder) -> None:
        recorder.append([])
        assert recorder.read_since(0) == []

    def test_a_request_split_across_batches_reads_as_one(self, recorder: Recorder) -> None:
        events = sequenced(completed_request("req-a"))
        for item in events:
            recorder.append([item])
        assert [event.seq for event in recorder.read("req-a")] == [1, 2, 3, 4, 5, 6]

    def test_a_replayed_batch_fails_loudly_and_writes_nothing(self, recorder: Recorder) -> None:
        batch = sequenced(completed_request("req-a"))
        recorder.append(batch)
        with pytest.raises(TrailIntegrityError):
            recorder.append(batch)
        assert len(recorder.read_since(0)) == 6

    def test_a_batch_repeating_one_event_writes_none_of_it(self, recorder: Recorder) -> None:
        recorder.append(sequenced(completed_request("req-a"))[:2])
        fresh = sequenced(failed_request("req-b"))
        replayed = sequenced(completed_request("req-a"))[1:2]
        with pytest.raises(TrailIntegrityError):
            recorder.append(fresh + replayed)
        assert recorder.read("req-b") == []
        assert len(recorder.read_since(0)) == 2

    def test_a_batch_with_a_duplicate_inside_writes_none_of_it(self, recorder: Recorder) -> None:
        batch = sequenced(completed_request("req-a"))
        with pytest.raises(TrailIntegrityError):
            recorder.append([*batch, batch[0]])
        assert recorder.read_since(0) == []

    def test_stored_keys_names_what_a_lost_commit_did_store(self, recorder: Recorder) -> None:
        first = sequenced(completed_request("req-a"))[:4]
        recorder.append(first)
        retry = sequenced(completed_request("req-a")) + sequenced(failed_request("req-b"))
        keys = [(item.event.request_id, item.seq) for item in retry]
        assert recorder.stored_keys(keys) == {("req-a", seq) for seq in (1, 2, 3, 4)}
        rest = [item for item in retry if (item.event.request_id, item.seq) not in set(keys[:4])]
        recorder.append(rest)  # the retry of what was not stored goes through
        assert [event.seq for event in recorder.read("req-a")] == [1, 2, 3, 4, 5, 6]
        assert recorder.stored_keys([]) == set()
