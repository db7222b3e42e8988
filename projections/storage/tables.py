"""The write-side tables beside the events: written only in the transaction of the events
that move them (``domain.store``), read by decisions.

- ``dripline_enrollment_index``: one row per open enrollment; ``due_at`` while it is active
  and something is due. The scheduler scans its partial index; exits find a contact's open
  enrollments, pause and resume a sequence's.
- ``dripline_trigger_index`` and ``dripline_trigger_epochs``: the active sequences a CRM event
  can start, and per tenant a counter moved by every sequence change, which an intake batch
  expects unchanged when it writes.
- ``dripline_goal_index``: per sequence, the CRM event types its published revisions' goals
  name (any status but deleted: ended enrollments of an archived sequence still convert),
  so that a CRM event finds the sequences it may convert in without a read model; it moves
  the same trigger epochs.
- ``dripline_seen_events``: the CRM event ids applied to each contact (duplicates are
  recognised without loading the contact's history).
- ``dripline_migrations``: the revision migrations still running (``domain.migration``),
  which a scheduler carries on.
- ``dripline_message_index``: every message request by tenant, contact, channel and time:
  a reply or unsubscribe that names no message is attributed to the contact's latest one.
- ``dripline_snapshots``: aggregate snapshots (a cache of the events).
- ``dripline_meta``: facts about the store itself: ``store_format`` (2: written with
  unambiguous ids and these tables; a store without it was written by Dripline 0.1 and is
  brought up to date by ``dripline upgrade``).

Timestamps are TIMESTAMPTZ on PostgreSQL and fixed-width UTC text on SQLite (text order is
time order).
"""

from __future__ import annotations

ENROLLMENTS = "dripline_enrollment_index"
TRIGGERS = "dripline_trigger_index"
EPOCHS = "dripline_trigger_epochs"
GOALS = "dripline_goal_index"
SEEN = "dripline_seen_events"
SNAPSHOTS = "dripline_snapshots"
MIGRATIONS = "dripline_migrations"
MESSAGES = "dripline_message_index"
META = "dripline_meta"
FORMAT_KEY, FORMAT = "store_format", "2"


def due_scan(mark: str) -> str:
    """The scheduler's scan: due now, oldest first, a page at a time (``mark``: the driver's
    parameter mark). It must use the partial index on ``due_at`` (tested with EXPLAIN)."""
    return (f"SELECT enrollment_id, tenant_id, sequence_id, contact_id, status, due_at "
            f"FROM {ENROLLMENTS} WHERE due_at IS NOT NULL AND due_at <= {mark} "
            f"ORDER BY due_at, enrollment_id LIMIT {mark} OFFSET {mark}")


def mark_new_store(events_table: str) -> str:
    """Set the format, if the store holds no events yet (a new store is born current)."""
    return (f"INSERT INTO {META} (key, value) SELECT '{FORMAT_KEY}', '{FORMAT}' "
            f"WHERE NOT EXISTS (SELECT 1 FROM {events_table}) ON CONFLICT DO NOTHING")


def ddl(timestamp: str, blob: str, id_type: str) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {ENROLLMENTS} (enrollment_id TEXT PRIMARY KEY, "
        "tenant_id TEXT NOT NULL, sequence_id TEXT NOT NULL, contact_id TEXT NOT NULL, "
        f"status TEXT NOT NULL, due_at {timestamp})",
        f"CREATE INDEX IF NOT EXISTS {ENROLLMENTS}_due ON {ENROLLMENTS} "
        "(due_at, enrollment_id) WHERE due_at IS NOT NULL",
        f"CREATE INDEX IF NOT EXISTS {ENROLLMENTS}_contact ON {ENROLLMENTS} "
        "(tenant_id, contact_id)",
        f"CREATE INDEX IF NOT EXISTS {ENROLLMENTS}_sequence ON {ENROLLMENTS} (sequence_id)",
        # A sequence's open enrollments a page at a time (migrations), in id order.
        f"CREATE INDEX IF NOT EXISTS {ENROLLMENTS}_sequence_page ON {ENROLLMENTS} "
        "(sequence_id, enrollment_id)",
        f"CREATE TABLE IF NOT EXISTS {TRIGGERS} (sequence_id TEXT PRIMARY KEY, "
        "tenant_id TEXT NOT NULL, trigger_type TEXT NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS {TRIGGERS}_tenant ON {TRIGGERS} (tenant_id)",
        f"CREATE TABLE IF NOT EXISTS {EPOCHS} (tenant_id TEXT PRIMARY KEY, "
        "epoch BIGINT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {GOALS} (sequence_id TEXT NOT NULL, "
        "tenant_id TEXT NOT NULL, event_type TEXT NOT NULL, "
        "PRIMARY KEY (sequence_id, event_type))",
        f"CREATE INDEX IF NOT EXISTS {GOALS}_tenant ON {GOALS} (tenant_id, event_type)",
        f"CREATE TABLE IF NOT EXISTS {SEEN} (contact_stream TEXT NOT NULL, "
        "event_id TEXT NOT NULL, PRIMARY KEY (contact_stream, event_id))",
        f"CREATE TABLE IF NOT EXISTS {SNAPSHOTS} (originator_id {id_type} NOT NULL, "
        f"originator_version BIGINT NOT NULL, topic TEXT, state {blob}, "
        "PRIMARY KEY (originator_id, originator_version))",
        f"CREATE TABLE IF NOT EXISTS {META} (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS} (migration_id TEXT PRIMARY KEY, "
        "sequence_id TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {MESSAGES} (tenant_id TEXT NOT NULL, "
        f"contact_id TEXT NOT NULL, channel TEXT NOT NULL, requested_at {timestamp} NOT NULL, "
        "message_id TEXT PRIMARY KEY)",
        f"CREATE INDEX IF NOT EXISTS {MESSAGES}_contact ON {MESSAGES} "
        "(tenant_id, contact_id, requested_at)",
    ]
