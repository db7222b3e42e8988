"""The SQLite event store (the embedded default): the library's process recorder, with one
unit of work's whole write in one ``BEGIN IMMEDIATE`` transaction (``domain.store``).

IMMEDIATE takes the file's write lock before anything is read, so expectations are checked
against the latest commit and nothing can commit in between; writers of the same file queue
on the lock (the busy timeout) instead of failing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore, SQLiteProcessRecorder

from domain.store import (
    EnrollmentRow,
    GoalView,
    MessageRow,
    StaleDecisionError,
    TriggerView,
    WriteBatch,
)
from projections.storage import tables as t
from projections.storage.pg_store import _enrollments, _goal_view, _trigger_view

_CHUNK = 400  # rows per statement: SQLite caps bound parameters


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def _values(count: int, width: int) -> str:
    row = "(" + ", ".join(["?"] * width) + ")"
    return ", ".join([row] * count)


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


class SqliteEventStore(SQLiteProcessRecorder):
    def __init__(self, datastore: SQLiteDatastore, *,
                 events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(),
                *t.ddl("TEXT", "BLOB", "TEXT")]

    def create_table(self) -> None:
        super().create_table()
        with self._immediate() as c:
            c.execute(t.mark_new_store(self.events_table_name))

    # --- writing --------------------------------------------------------------------------------

    @contextmanager
    def _immediate(self) -> Iterator[SQLiteCursor]:
        with self.datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
            except BaseException:
                conn.rollback()
                raise
            try:
                conn.commit()
            except sqlite3.IntegrityError as error:
                raise IntegrityError(error) from error

    def write(self, batch: WriteBatch) -> list[int]:
        try:
            with self._immediate() as c:
                self._check(c, batch)
                positions: list[int] = []
                if batch.events:
                    positions = list(self._insert_events(c, batch.events) or [])
                if batch.tracking is not None:
                    self._insert_tracking(c, batch.tracking)
                self._write_indexes(c, batch)
                return positions
        except sqlite3.IntegrityError as error:
            raise IntegrityError(error) from error

    def _check(self, c: SQLiteCursor, batch: WriteBatch) -> None:
        items = list(batch.expect_versions.items())
        for chunk in _chunks(items):
            c.execute(
                f"WITH x(id, v) AS (VALUES {_values(len(chunk), 2)}) "
                f"SELECT e.originator_id FROM x JOIN {self.events_table_name} e "
                "ON e.originator_id = x.id AND e.originator_version > x.v LIMIT 1",
                [value for i, v in chunk for value in (i.hex, v)])
            if c.fetchall():
                raise StaleDecisionError("an aggregate the decision read changed meanwhile")
        if batch.expect_epochs:
            tenants = list(batch.expect_epochs)
            c.execute(f"SELECT tenant_id, epoch FROM {t.EPOCHS} WHERE tenant_id IN "
                      f"({', '.join('?' * len(tenants))})", tenants)
            now = {row["tenant_id"]: row["epoch"] for row in c.fetchall()}
            for tenant in tenants:
                if now.get(tenant, 0) != batch.expect_epochs[tenant]:
                    raise StaleDecisionError(f"the triggers of tenant {tenant} changed")

    def _write_indexes(self, c: SQLiteCursor, batch: WriteBatch) -> None:
        c.executemany(f"DELETE FROM {t.ENROLLMENTS} WHERE enrollment_id = ?",
                      [(str(i),) for i in batch.ended_enrollments])
        c.executemany(
            f"INSERT INTO {t.ENROLLMENTS} VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT "
            "(enrollment_id) DO UPDATE SET status = excluded.status, due_at = excluded.due_at",
            [(str(r.enrollment_id), r.tenant_id, str(r.sequence_id), r.contact_id, r.status,
              _time(r.due_at)) for r in batch.open_enrollments])
        c.executemany(f"DELETE FROM {t.TRIGGERS} WHERE sequence_id = ?",
                      [(str(i),) for i in batch.untriggered])
        c.executemany(f"INSERT INTO {t.TRIGGERS} VALUES (?, ?, ?) ON CONFLICT (sequence_id) "
                      "DO UPDATE SET trigger_type = excluded.trigger_type",
                      [(str(r.sequence_id), r.tenant_id, r.trigger_type)
                       for r in batch.triggers])
        c.executemany(f"DELETE FROM {t.GOALS} WHERE sequence_id = ?",
                      [(str(i),) for i in batch.regoaled])
        c.executemany(f"INSERT INTO {t.GOALS} VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                      [(str(r.sequence_id), r.tenant_id, r.event_type) for r in batch.goals])
        c.executemany(f"INSERT INTO {t.EPOCHS} VALUES (?, 1) ON CONFLICT (tenant_id) "
                      f"DO UPDATE SET epoch = {t.EPOCHS}.epoch + 1",
                      [(tenant,) for tenant in sorted(batch.bump_epochs)])
        c.executemany(f"INSERT INTO {t.SEEN} VALUES (?, ?)",
                      [(str(s), e) for s, e in batch.seen])
        c.executemany(f"INSERT INTO {t.MIGRATIONS} VALUES (?, ?) ON CONFLICT DO NOTHING",
                      [(str(m), str(s)) for m, s in batch.running_migrations])
        c.executemany(f"DELETE FROM {t.MIGRATIONS} WHERE migration_id = ?",
                      [(str(m),) for m in batch.finished_migrations])
        c.executemany(f"INSERT INTO {t.MESSAGES} VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                      [(r.tenant_id, r.contact_id, r.channel, _time(r.requested_at),
                        r.message_id) for r in batch.message_requests])

    def write_snapshots(self, snapshots: Sequence[StoredEvent]) -> None:
        with self._immediate() as c:
            c.executemany(f"INSERT INTO {t.SNAPSHOTS} VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                          [(UUID(str(s.originator_id)).hex, s.originator_version, s.topic,
                            s.state)
                           for s in snapshots])

    # --- reading --------------------------------------------------------------------------------

    def _rows(self, statement: str, params: Sequence[Any]) -> list[Any]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            return list(c.fetchall())

    def read_streams(self, after: Mapping[UUID, int]) -> dict[UUID, list[StoredEvent]]:
        streams: dict[UUID, list[StoredEvent]] = {}
        for chunk in _chunks(list(after.items())):
            rows = self._rows(
                f"WITH x(id, v) AS (VALUES {_values(len(chunk), 2)}) "
                "SELECT e.originator_id, e.originator_version, e.topic, e.state FROM x JOIN "
                f"{self.events_table_name} e ON e.originator_id = x.id "
                "AND e.originator_version > x.v ORDER BY e.originator_id, e.originator_version",
                [value for i, v in chunk for value in (i.hex, v)])
            for row in rows:
                key = UUID(row["originator_id"])
                streams.setdefault(key, []).append(StoredEvent(
                    originator_id=key, originator_version=row["originator_version"],
                    topic=row["topic"], state=row["state"]))
        return streams

    def read_first(self, ids: Collection[UUID]) -> dict[UUID, StoredEvent]:
        found: dict[UUID, StoredEvent] = {}
        for chunk in _chunks(list(ids)):
            rows = self._rows(
                "SELECT originator_id, originator_version, topic, state FROM "
                f"{self.events_table_name} WHERE originator_version = 1 AND originator_id IN "
                f"({', '.join('?' * len(chunk))})", [i.hex for i in chunk])
            for row in rows:
                key = UUID(row["originator_id"])
                found[key] = StoredEvent(originator_id=key, originator_version=1,
                                         topic=row["topic"], state=row["state"])
        return found

    def read_snapshots(self, ids: Collection[UUID]) -> dict[UUID, StoredEvent]:
        found: dict[UUID, StoredEvent] = {}
        for chunk in _chunks(list(ids)):
            marks = ", ".join("?" * len(chunk))
            rows = self._rows(
                f"SELECT s.* FROM {t.SNAPSHOTS} s JOIN (SELECT originator_id, "
                f"MAX(originator_version) AS v FROM {t.SNAPSHOTS} WHERE originator_id IN "
                f"({marks}) GROUP BY originator_id) m ON s.originator_id = m.originator_id "
                "AND s.originator_version = m.v", [i.hex for i in chunk])
            for row in rows:
                key = UUID(row["originator_id"])
                found[key] = StoredEvent(originator_id=key,
                                         originator_version=row["originator_version"],
                                         topic=row["topic"], state=row["state"])
        return found

    def seen(self, keys: Collection[tuple[UUID, str]]) -> set[tuple[UUID, str]]:
        found: set[tuple[UUID, str]] = set()
        for chunk in _chunks(list(keys)):
            rows = self._rows(
                f"WITH x(c, e) AS (VALUES {_values(len(chunk), 2)}) "
                f"SELECT s.contact_stream, s.event_id FROM x JOIN {t.SEEN} s "
                "ON s.contact_stream = x.c AND s.event_id = x.e",
                [value for c, e in chunk for value in (str(c), e)])
            found.update((UUID(r["contact_stream"]), r["event_id"]) for r in rows)
        return found

    def open_enrollments_of_contacts(self, tenant_id: str,
                                     contact_ids: Collection[str]) -> list[EnrollmentRow]:
        rows: list[Any] = []
        for chunk in _chunks(list(contact_ids)):
            rows += self._rows(
                f"SELECT * FROM {t.ENROLLMENTS} WHERE tenant_id = ? AND contact_id IN "
                f"({', '.join('?' * len(chunk))}) ORDER BY enrollment_id", [tenant_id, *chunk])
        return _enrollments(rows)

    def open_enrollments_of_sequence(self, sequence_id: UUID, after: str = "",
                                     limit: int | None = None) -> list[EnrollmentRow]:
        return _enrollments(self._rows(
            f"SELECT * FROM {t.ENROLLMENTS} WHERE sequence_id = ? AND enrollment_id > ? "
            "ORDER BY enrollment_id LIMIT ?", [str(sequence_id), after, limit or -1]))

    def recent_messages(self, tenant_id: str, contact_ids: Collection[str],
                        since: datetime) -> list[MessageRow]:
        rows: list[Any] = []
        for chunk in _chunks(list(contact_ids)):
            rows += self._rows(
                f"SELECT * FROM {t.MESSAGES} WHERE tenant_id = ? AND contact_id IN "
                f"({', '.join('?' * len(chunk))}) AND requested_at >= ?",
                [tenant_id, *chunk, _time(since)])
        return [MessageRow(r["tenant_id"], r["contact_id"], r["channel"],
                           datetime.fromisoformat(r["requested_at"]), r["message_id"])
                for r in rows]

    def last_positions(self, ids: Collection[UUID]) -> dict[UUID, int]:
        found: dict[UUID, int] = {}
        for chunk in _chunks(list(ids)):
            rows = self._rows(
                f"SELECT originator_id, MAX(rowid) AS n FROM {self.events_table_name} "
                f"WHERE originator_id IN ({', '.join('?' * len(chunk))}) "
                "GROUP BY originator_id", [i.hex for i in chunk])
            found.update({UUID(row["originator_id"]): int(row["n"]) for row in rows})
        return found

    def running_migrations(self) -> list[UUID]:
        return [UUID(row["migration_id"]) for row in self._rows(
            f"SELECT migration_id FROM {t.MIGRATIONS} ORDER BY migration_id", [])]

    def due_enrollments(self, until: datetime, limit: int,
                        offset: int = 0) -> list[EnrollmentRow]:
        return _enrollments(self._rows(t.due_scan("?"), [_time(until), limit, offset]))

    def trigger_view(self, tenants: Collection[str]) -> TriggerView:
        wanted = sorted(set(tenants))
        marks = ", ".join("?" * len(wanted))
        rows = self._rows(f"SELECT * FROM {t.TRIGGERS} WHERE tenant_id IN ({marks}) "
                          "ORDER BY sequence_id", wanted) if wanted else []
        epochs = self._rows(f"SELECT * FROM {t.EPOCHS} WHERE tenant_id IN ({marks})",
                            wanted) if wanted else []
        return _trigger_view(wanted, rows, epochs)

    def goal_view(self, tenants: Collection[str]) -> GoalView:
        wanted = sorted(set(tenants))
        if not wanted:
            return GoalView({}, {})
        marks = ", ".join("?" * len(wanted))
        rows = self._rows(f"SELECT * FROM {t.GOALS} WHERE tenant_id IN ({marks}) "
                          "ORDER BY sequence_id, event_type", wanted)
        epochs = self._rows(f"SELECT * FROM {t.EPOCHS} WHERE tenant_id IN ({marks})", wanted)
        return _goal_view(wanted, rows, epochs)

    def meta(self, key: str) -> str | None:
        rows = self._rows(f"SELECT value FROM {t.META} WHERE key = ?", [key])
        return str(rows[0]["value"]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self._immediate() as c:
            c.execute(f"INSERT INTO {t.META} VALUES (?, ?) ON CONFLICT (key) "
                      "DO UPDATE SET value = excluded.value", [key, value])
