"""The PostgreSQL store sends new events in binary; what it stores and returns is exactly
what the library's own recorder stores: any bytes, ids in order, conflicts refused."""

from __future__ import annotations

from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from dripline.bootstrap import bootstrap
from dripline.pg_recorder import BinaryInsertRecorder
from dripline.settings import Settings

AWKWARD = [b"", b"\x00\x01\xff", b'{"a": "\\"q\\"", "b": [1, 2]}', b"(x,y)\\'\"{}",
           bytes(range(256)) * 4]


def test_events_round_trip_byte_for_byte(postgres_url: str) -> None:
    runtime = bootstrap(Settings(database_url=postgres_url), catch_up_lookups=False)
    try:
        recorder = runtime.app.recorder
        assert isinstance(recorder, BinaryInsertRecorder)
        originator = uuid4()
        stored = [StoredEvent(originator_id=originator, originator_version=n + 1,
                              topic=f"test.topic_{n}", state=state)
                  for n, state in enumerate(AWKWARD)]
        head = recorder.max_notification_id() or 0
        ids = recorder.insert_events(stored)
        assert ids == list(range(head + 1, head + 1 + len(AWKWARD)))
        assert [(e.originator_id, e.originator_version, e.topic, e.state)
                for e in recorder.select_events(originator)] == [
            (e.originator_id, e.originator_version, e.topic, e.state) for e in stored]
        with pytest.raises(IntegrityError):  # the same version twice: the race detector
            recorder.insert_events(stored[:1])
    finally:
        runtime.close()
