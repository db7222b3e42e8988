"""The PostgreSQL store sends new events in binary; what it stores and returns is exactly
what the library's own recorder stores: any bytes, ids in order, conflicts refused."""

from __future__ import annotations

from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from domain.store import WriteBatch
from dripline.bootstrap import bootstrap
from dripline.settings import Settings
from projections.storage.pg_store import PgEventStore

AWKWARD = [b"", b"\x00\x01\xff", b'{"a": "\\"q\\"", "b": [1, 2]}', b"(x,y)\\'\"{}",
           bytes(range(256)) * 4]


def test_events_round_trip_byte_for_byte(postgres_url: str) -> None:
    runtime = bootstrap(Settings(database_url=postgres_url), catch_up_lookups=False)
    try:
        recorder = runtime.app.recorder
        assert isinstance(recorder, PgEventStore)
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
        # The unit of work's path writes the same bytes.
        again = [StoredEvent(originator_id=uuid4(), originator_version=1, topic=e.topic,
                             state=e.state) for e in stored]
        positions = recorder.write(WriteBatch(events=again))
        # After the refused insert's id (a sequence value is never given back), in order.
        assert positions == list(range(positions[0], positions[0] + len(AWKWARD)))
        assert positions[0] > ids[-1]
        # The positions are the events' own places in the log, event by event.
        notes = recorder.select_notifications(start=positions[0], limit=len(again))
        assert [(n.id, n.originator_id) for n in notes] == [
            (position, e.originator_id) for position, e in zip(positions, again, strict=True)]
        assert [recorder.select_events(e.originator_id)[0].state for e in again] == AWKWARD
        with pytest.raises(IntegrityError):
            recorder.write(WriteBatch(events=again[:1]))
    finally:
        runtime.close()
