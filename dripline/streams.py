"""Reading many aggregates' event streams in one query: the batch read behind
``domain.lookups.StreamReader``. The library only reads one stream at a time; bulk enrollment
and the scheduler load hundreds of aggregates per transaction, so on PostgreSQL the round
trips dominated (most of a 10,000-contact bulk enroll's time, measured)."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import (
    AggregateRecorder,
    InterfaceError,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier


@retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
def read_streams(recorder: AggregateRecorder, aggregate_ids: list[UUID],
                 ) -> dict[UUID, list[StoredEvent]] | None:
    """The stored events of each of these aggregates that has any, oldest first; None when
    the recorder is of a kind this does not know (the caller then reads one by one)."""
    if not aggregate_ids:
        return {}
    if isinstance(recorder, PostgresAggregateRecorder):
        rows = _postgres_rows(recorder, aggregate_ids)
    elif isinstance(recorder, SQLiteAggregateRecorder):
        rows = _sqlite_rows(recorder, aggregate_ids)
    else:
        return None
    streams: dict[UUID, list[StoredEvent]] = {}
    for originator_id, version, topic, state in rows:
        key = originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))
        streams.setdefault(key, []).append(StoredEvent(
            originator_id=key, originator_version=version, topic=topic, state=state))
    return streams


def _postgres_rows(recorder: PostgresAggregateRecorder,
                   aggregate_ids: list[UUID]) -> list[tuple[object, int, str, bytes]]:
    statement = SQL(
        "SELECT originator_id, originator_version, topic, state FROM {}.{} "
        "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
    ).format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
    text_ids = recorder.datastore.originator_id_type == "text"
    keys = [str(i) for i in aggregate_ids] if text_ids else aggregate_ids
    with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(statement, [keys])
        return [(row["originator_id"], row["originator_version"], row["topic"],
                 bytes(row["state"])) for row in curs.fetchall()]


def _sqlite_rows(recorder: SQLiteAggregateRecorder,
                 aggregate_ids: list[UUID]) -> list[tuple[object, int, str, bytes]]:
    rows: list[tuple[object, int, str, bytes]] = []
    # SQLite caps the number of bound parameters; 500 per query stays well under it.
    for start in range(0, len(aggregate_ids), 500):
        chunk = aggregate_ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        statement = (
            "SELECT originator_id, originator_version, topic, state FROM "
            f"{recorder.events_table_name} WHERE originator_id IN ({marks}) "
            "ORDER BY originator_id, originator_version")
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(statement, [i.hex for i in chunk])
            rows += [(recorder.convert_originator_id(row["originator_id"]),
                      row["originator_version"], row["topic"], row["state"])
                     for row in c.fetchall()]
    return rows
