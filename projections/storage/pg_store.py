"""The PostgreSQL event store: the library's process recorder (events, notification log,
tracking), with one unit of work's whole write in one transaction (``domain.store``).

Every writer first takes the library's EXCLUSIVE lock on the events table (it keeps the
notification log gap-free: ids are handed out in commit order). Taking it first, before any
index row, gives all writers one lock order, so they never deadlock; it also means that
expectations checked after it see every write committed before this one, and none can commit
in between. New events go in by COPY in binary; lists of ids travel as binary arrays
(psycopg's ``%b``, dumped in C, where text arrays are built in Python).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Composed, Identifier

from domain.store import (
    EnrollmentRow,
    GoalRow,
    GoalView,
    MessageRow,
    StaleDecisionError,
    TriggerRow,
    TriggerView,
    WriteBatch,
)
from projections.storage import tables as t

_RETRY = (InterfaceError, OperationalError)
NO_JIT = "-c jit=off"
# A probe of the (tenant, contact) index per contact, as LATERAL: with ``contact_id =
# ANY(...)`` and no statistics the planner read every open enrollment of the tenant.
OPEN_OF_CONTACTS = (
    f"SELECT i.* FROM unnest(%b::text[]) AS x(contact_id) CROSS JOIN LATERAL "
    f"(SELECT * FROM {t.ENROLLMENTS} WHERE tenant_id = %s AND contact_id = x.contact_id "
    "OFFSET 0) AS i ORDER BY i.enrollment_id")


class PgEventStore(PostgresProcessRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events",
                 tracking_table_name: str = "notification_tracking") -> None:
        # No JIT: every statement here is a short index lookup, and on a big table whose
        # statistics are stale (a young table; autovacuum late or off) the planner's cost
        # guess can pass the JIT threshold and spend 300 ms compiling a 10 ms query.
        if not isinstance(datastore.pool.kwargs, dict):
            raise TypeError("the datastore's pool must take its connection settings as a dict")
        datastore.pool.kwargs["options"] = NO_JIT
        super().__init__(datastore, events_table_name=events_table_name,
                         tracking_table_name=tracking_table_name)
        self.events = Identifier(self.datastore.schema, self.events_table_name)
        self.copy_events_statement = SQL(
            "COPY {events} (originator_id, originator_version, topic, state) "
            "FROM STDIN (FORMAT BINARY)").format(events=self.events)
        self.last_position_statement = SQL(
            "SELECT currval(pg_get_serial_sequence(%s, 'notification_id'))")
        self.qualified_events = f'"{self.datastore.schema}"."{self.events_table_name}"'
        # The two reads of the write path, (ids, versions) → events after each version. Both
        # LATERAL, so that each id is one index probe whatever the table's statistics say:
        # as plain joins they were planned, on a big table not yet analyzed, as a merge over
        # the whole table (seconds per batch). OFFSET 0 keeps the subquery from being
        # flattened back into a join; rows come per id in version order.
        self.streams_statement = SQL(
            "SELECT x.id AS originator_id, e.originator_version, e.topic, e.state "
            "FROM unnest(%b::uuid[], %b::bigint[]) AS x(id, v) CROSS JOIN LATERAL "
            "(SELECT originator_version, topic, state FROM {events} "
            "WHERE originator_id = x.id AND originator_version > x.v "
            "ORDER BY originator_version OFFSET 0) AS e").format(events=self.events)
        self.moved_statement = SQL(
            "SELECT x.id AS originator_id FROM unnest(%b::uuid[], %b::bigint[]) AS x(id, v) "
            "CROSS JOIN LATERAL (SELECT 1 FROM {events} e WHERE e.originator_id = x.id "
            "AND e.originator_version > x.v LIMIT 1) AS moved LIMIT 1").format(events=self.events)
        for statement in t.ddl("TIMESTAMPTZ", "BYTEA", "UUID"):
            self.sql_create_statements.append(SQL(statement))  # type: ignore[arg-type]

    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=True) as cur:
            cur.execute(t.mark_new_store(f'"{self.datastore.schema}".'
                                         f'"{self.events_table_name}"'))

    # --- writing --------------------------------------------------------------------------------

    @retry(_RETRY, max_attempts=10, wait=0.2)
    def write(self, batch: WriteBatch) -> list[int]:
        with self.datastore.get_connection() as conn, conn.transaction(), \
                conn.cursor() as cur:
            self._lock_table(cur)
            self._check(cur, batch)
            if batch.tracking is not None:
                self._insert_tracking(cur, batch.tracking)
            positions: list[int] = []
            if batch.events:
                self._notify_channel(cur)
                positions = self._copy_events(cur, batch.events)
            self._write_indexes(cur, batch)
            return positions

    def _copy_events(self, cur: Cursor[DictRow], events: Sequence[StoredEvent]) -> list[int]:
        """COPY the events (five times faster than an INSERT of arrays here) and give their
        positions: the rows take consecutive values of the table's sequence, in order, since
        the table lock keeps every other writer from drawing on it until this one commits."""
        with cur.copy(self.copy_events_statement) as copy:
            copy.set_types(["uuid", "int8", "text", "bytea"])
            for e in events:
                copy.write_row((e.originator_id, e.originator_version, e.topic, e.state))
        cur.execute(self.last_position_statement, [self.qualified_events])
        row = cur.fetchone()
        if row is None:
            raise InterfaceError("the events table has no sequence for its positions")
        last: int = next(iter(row.values()))
        return list(range(last - len(events) + 1, last + 1))

    def _check(self, cur: Cursor[DictRow], batch: WriteBatch) -> None:
        if batch.expect_versions:
            ids = list(batch.expect_versions)
            cur.execute(self.moved_statement,
                [ids, [batch.expect_versions[i] for i in ids]])
            moved = cur.fetchone()
            if moved is not None:
                raise StaleDecisionError(f"{moved['originator_id']} changed meanwhile")
        if batch.expect_epochs:
            tenants = list(batch.expect_epochs)
            cur.execute(f"SELECT tenant_id, epoch FROM {t.EPOCHS} "
                        "WHERE tenant_id = ANY(%b::text[])", [tenants])
            now = {row["tenant_id"]: row["epoch"] for row in cur.fetchall()}
            for tenant in tenants:
                if now.get(tenant, 0) != batch.expect_epochs[tenant]:
                    raise StaleDecisionError(f"the triggers of tenant {tenant} changed")

    def _write_indexes(self, cur: Cursor[DictRow], batch: WriteBatch) -> None:
        if batch.ended_enrollments:
            cur.execute(f"DELETE FROM {t.ENROLLMENTS} WHERE enrollment_id = ANY(%b::text[])",
                        [[str(i) for i in batch.ended_enrollments]])
        if batch.open_enrollments:
            rows = batch.open_enrollments
            cur.execute(
                f"INSERT INTO {t.ENROLLMENTS} SELECT * FROM unnest(%b::text[], %b::text[], "
                "%b::text[], %b::text[], %b::text[], %b::timestamptz[]) "
                "ON CONFLICT (enrollment_id) DO UPDATE SET status = excluded.status, "
                "due_at = excluded.due_at",
                [[str(r.enrollment_id) for r in rows], [r.tenant_id for r in rows],
                 [str(r.sequence_id) for r in rows], [r.contact_id for r in rows],
                 [r.status for r in rows], [r.due_at for r in rows]])
        if batch.untriggered:
            cur.execute(f"DELETE FROM {t.TRIGGERS} WHERE sequence_id = ANY(%b::text[])",
                        [[str(i) for i in batch.untriggered]])
        for row in batch.triggers:
            cur.execute(f"INSERT INTO {t.TRIGGERS} VALUES (%s, %s, %s) ON CONFLICT "
                        "(sequence_id) DO UPDATE SET trigger_type = excluded.trigger_type",
                        [str(row.sequence_id), row.tenant_id, row.trigger_type])
        if batch.regoaled:
            cur.execute(f"DELETE FROM {t.GOALS} WHERE sequence_id = ANY(%b::text[])",
                        [[str(i) for i in batch.regoaled]])
        if batch.goals:
            goals = batch.goals
            cur.execute(f"INSERT INTO {t.GOALS} SELECT * FROM unnest(%b::text[], %b::text[], "
                        "%b::text[]) ON CONFLICT DO NOTHING",
                        [[str(r.sequence_id) for r in goals], [r.tenant_id for r in goals],
                         [r.event_type for r in goals]])
        if batch.bump_epochs:
            cur.execute(f"INSERT INTO {t.EPOCHS} SELECT unnest(%b::text[]), 1 "
                        f"ON CONFLICT (tenant_id) DO UPDATE SET epoch = {t.EPOCHS}.epoch + 1",
                        [sorted(batch.bump_epochs)])
        if batch.seen:
            # No ON CONFLICT: an id applied by a concurrent writer is a conflict, and the
            # batch is decided again (it is then a duplicate).
            cur.execute(f"INSERT INTO {t.SEEN} SELECT * FROM unnest(%b::text[], %b::text[])",
                        [[str(c) for c, _ in batch.seen], [e for _, e in batch.seen]])
        for migration, sequence in batch.running_migrations:
            cur.execute(f"INSERT INTO {t.MIGRATIONS} VALUES (%s, %s) ON CONFLICT DO NOTHING",
                        [str(migration), str(sequence)])
        if batch.message_requests:
            sent = batch.message_requests
            cur.execute(
                f"INSERT INTO {t.MESSAGES} SELECT * FROM unnest(%b::text[], %b::text[], "
                "%b::text[], %b::timestamptz[], %b::text[]) ON CONFLICT DO NOTHING",
                [[r.tenant_id for r in sent], [r.contact_id for r in sent],
                 [r.channel for r in sent], [r.requested_at for r in sent],
                 [r.message_id for r in sent]])
        if batch.finished_migrations:
            cur.execute(f"DELETE FROM {t.MIGRATIONS} WHERE migration_id = ANY(%b::text[])",
                        [[str(m) for m in batch.finished_migrations]])

    @retry(_RETRY, max_attempts=10, wait=0.2)
    def write_snapshots(self, snapshots: Sequence[StoredEvent]) -> None:
        with self.datastore.get_connection() as conn, conn.cursor() as cur:
            cur.execute(
                f"INSERT INTO {t.SNAPSHOTS} SELECT * FROM unnest(%b::uuid[], %b::bigint[], "
                "%b::text[], %b::bytea[]) ON CONFLICT DO NOTHING",
                [[s.originator_id for s in snapshots],
                 [s.originator_version for s in snapshots], [s.topic for s in snapshots],
                 [s.state for s in snapshots]])

    # --- reading --------------------------------------------------------------------------------

    def _rows(self, statement: str | SQL | Composed, params: Sequence[Any]) -> list[DictRow]:
        with self.datastore.get_connection() as conn, conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall()

    @retry(_RETRY, max_attempts=10, wait=0.2)
    def read_streams(self, after: Mapping[UUID, int]) -> dict[UUID, list[StoredEvent]]:
        if not after:
            return {}
        ids = list(after)
        rows = self._rows(self.streams_statement, [ids, [after[i] for i in ids]])
        return _streams(rows)

    @retry(_RETRY, max_attempts=10, wait=0.2)
    def read_first(self, ids: Collection[UUID]) -> dict[UUID, StoredEvent]:
        if not ids:
            return {}
        rows = self._rows(SQL(
            "SELECT originator_id, originator_version, topic, state FROM {events} "
            "WHERE originator_id = ANY(%b::uuid[]) AND originator_version = 1"
        ).format(events=self.events), [list(ids)])
        return {key: events[0] for key, events in _streams(rows).items()}

    @retry(_RETRY, max_attempts=10, wait=0.2)
    def read_snapshots(self, ids: Collection[UUID]) -> dict[UUID, StoredEvent]:
        if not ids:
            return {}
        rows = self._rows(
            f"SELECT DISTINCT ON (originator_id) originator_id, originator_version, topic, "
            f"state FROM {t.SNAPSHOTS} WHERE originator_id = ANY(%b::uuid[]) "
            "ORDER BY originator_id, originator_version DESC", [list(ids)])
        return {key: events[-1] for key, events in _streams(rows).items()}

    def seen(self, keys: Collection[tuple[UUID, str]]) -> set[tuple[UUID, str]]:
        if not keys:
            return set()
        rows = self._rows(
            f"SELECT s.contact_stream, s.event_id FROM unnest(%b::text[], %b::text[]) "
            f"AS x(c, e) JOIN {t.SEEN} s ON s.contact_stream = x.c AND s.event_id = x.e",
            [[str(c) for c, _ in keys], [e for _, e in keys]])
        return {(UUID(r["contact_stream"]), r["event_id"]) for r in rows}

    def open_enrollments_of_contacts(self, tenant_id: str,
                                     contact_ids: Collection[str]) -> list[EnrollmentRow]:
        return _enrollments(self._rows(OPEN_OF_CONTACTS, [list(contact_ids), tenant_id]))

    def open_enrollments_of_sequence(self, sequence_id: UUID, after: str = "",
                                     limit: int | None = None) -> list[EnrollmentRow]:
        # The cursor is the last id of the previous page: compared and ordered alike.
        return _enrollments(self._rows(
            f"SELECT * FROM {t.ENROLLMENTS} WHERE sequence_id = %s AND enrollment_id > %s "
            "ORDER BY enrollment_id LIMIT %s", [str(sequence_id), after, limit]))

    def recent_messages(self, tenant_id: str, contact_ids: Collection[str],
                        since: datetime) -> list[MessageRow]:
        rows = self._rows(f"SELECT * FROM {t.MESSAGES} WHERE tenant_id = %s "
                          "AND contact_id = ANY(%b::text[]) AND requested_at >= %s",
                          [tenant_id, list(contact_ids), since])
        return [MessageRow(r["tenant_id"], r["contact_id"], r["channel"], r["requested_at"],
                           r["message_id"]) for r in rows]

    @retry(_RETRY, max_attempts=10, wait=0.2)
    def last_positions(self, ids: Collection[UUID]) -> dict[UUID, int]:
        if not ids:
            return {}
        rows = self._rows(SQL(
            "SELECT originator_id, MAX(notification_id) AS n FROM {events} "
            "WHERE originator_id = ANY(%b::uuid[]) GROUP BY originator_id"
        ).format(events=self.events), [list(ids)])
        return {UUID(str(r["originator_id"])): int(r["n"]) for r in rows}

    def running_migrations(self) -> list[UUID]:
        return [UUID(row["migration_id"]) for row in self._rows(
            f"SELECT migration_id FROM {t.MIGRATIONS} ORDER BY migration_id", [])]

    def due_enrollments(self, until: datetime, limit: int,
                        offset: int = 0) -> list[EnrollmentRow]:
        # Tuples, not the dict rows of the other reads: a scan reads a thousand rows a batch.
        with self.datastore.get_connection() as conn, \
                conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(t.due_scan("%s"), [until, limit, offset])
            return [EnrollmentRow(UUID(e), tenant, UUID(s), contact, status, due)
                    for e, tenant, s, contact, status, due in cur.fetchall()]

    def trigger_view(self, tenants: Collection[str]) -> TriggerView:
        wanted = sorted(set(tenants))
        rows = self._rows(f"SELECT * FROM {t.TRIGGERS} WHERE tenant_id = ANY(%b::text[]) "
                          "ORDER BY sequence_id", [wanted])
        epochs = self._rows(f"SELECT * FROM {t.EPOCHS} WHERE tenant_id = ANY(%b::text[])", [wanted])
        return _trigger_view(wanted, rows, epochs)

    def goal_view(self, tenants: Collection[str]) -> GoalView:
        wanted = sorted(set(tenants))
        rows = self._rows(f"SELECT * FROM {t.GOALS} WHERE tenant_id = ANY(%b::text[]) "
                          "ORDER BY sequence_id, event_type", [wanted])
        epochs = self._rows(f"SELECT * FROM {t.EPOCHS} WHERE tenant_id = ANY(%b::text[])",
                            [wanted])
        return _goal_view(wanted, rows, epochs)

    def meta(self, key: str) -> str | None:
        rows = self._rows(f"SELECT value FROM {t.META} WHERE key = %s", [key])
        return str(rows[0]["value"]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self.datastore.transaction(commit=True) as cur:
            cur.execute(f"INSERT INTO {t.META} VALUES (%s, %s) ON CONFLICT (key) "
                        "DO UPDATE SET value = excluded.value", [key, value])


def _streams(rows: Sequence[Any]) -> dict[UUID, list[StoredEvent]]:
    streams: dict[UUID, list[StoredEvent]] = {}
    for row in rows:
        key = row["originator_id"]
        key = key if isinstance(key, UUID) else UUID(str(key))
        streams.setdefault(key, []).append(StoredEvent(
            originator_id=key, originator_version=row["originator_version"],
            topic=row["topic"], state=bytes(row["state"])))
    for events in streams.values():  # in version order already; cheap to make sure
        events.sort(key=lambda e: e.originator_version)
    return streams


def _enrollments(rows: Sequence[Any]) -> list[EnrollmentRow]:
    return [EnrollmentRow(UUID(r["enrollment_id"]), r["tenant_id"], UUID(r["sequence_id"]),
                          r["contact_id"], r["status"], _moment(r["due_at"])) for r in rows]


def _moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _trigger_view(tenants: list[str], rows: Sequence[Any], epochs: Sequence[Any]) -> TriggerView:
    by_tenant: dict[str, list[TriggerRow]] = {tenant: [] for tenant in tenants}
    for r in rows:
        by_tenant[r["tenant_id"]].append(
            TriggerRow(UUID(r["sequence_id"]), r["tenant_id"], r["trigger_type"]))
    known = {r["tenant_id"]: int(r["epoch"]) for r in epochs}
    return TriggerView(by_tenant, {tenant: known.get(tenant, 0) for tenant in tenants})


def _goal_view(tenants: list[str], rows: Sequence[Any], epochs: Sequence[Any]) -> GoalView:
    by_tenant: dict[str, list[GoalRow]] = {tenant: [] for tenant in tenants}
    for r in rows:
        by_tenant[r["tenant_id"]].append(
            GoalRow(UUID(r["sequence_id"]), r["tenant_id"], r["event_type"]))
    known = {r["tenant_id"]: int(r["epoch"]) for r in epochs}
    return GoalView(by_tenant, {tenant: known.get(tenant, 0) for tenant in tenants})
