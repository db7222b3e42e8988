"""Which recorder classes make the library's store Dripline's store (``domain.store``): the
composition root names them in the event-store environment (the library resolves a topic, so
nothing below imports them)."""

from __future__ import annotations

SQLITE_STORE = "projections.storage.sqlite_store:SqliteEventStore"
POSTGRES_STORE = "projections.storage.pg_store:PgEventStore"


def memory_env() -> dict[str, str]:
    """An in-memory SQLite store (tests, demos): gone when the application closes."""
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:",
            "PROCESS_RECORDER_TOPIC": SQLITE_STORE}
