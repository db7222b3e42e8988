"""Schedulers' heartbeats: an operational table, not domain state (nothing is decided on it
and a replay neither reads nor rebuilds it). Every scheduler writes the time of its latest
scan under its own name; the stuck detector reads the latest one to tell "no scheduler is
running" from other causes of an overdue enrollment."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from projections.db import ReadDb, as_datetime
from projections.sql_queries import _is_missing_table

TABLE = "dripline_scheduler_heartbeats"
_SCHEMA = (f"CREATE TABLE IF NOT EXISTS {TABLE} (scheduler TEXT PRIMARY KEY, "
           "beat_at TIMESTAMPTZ NOT NULL)")
EVERY = timedelta(seconds=5)  # a scheduler writes at most this often
SILENT_AFTER = timedelta(seconds=60)  # no beat for this long: no scheduler is running


def scheduler_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Heartbeats:
    def __init__(self, db: ReadDb, name: str | None = None) -> None:
        self.db = db
        self.name = name or scheduler_name()
        self._last: datetime | None = None
        self._ready = False

    def _setup(self) -> None:
        if not self._ready:
            with self.db.transaction() as tx:
                tx.execute(self.db.ddl(_SCHEMA))
            self._ready = True

    def beat(self, now: datetime) -> None:
        """Record a scan at ``now`` (the scheduler's clock); at most every ``EVERY``."""
        if self._last is not None and now - self._last < EVERY and now >= self._last:
            return
        self._setup()
        with self.db.transaction() as tx:
            tx.execute(f"INSERT INTO {TABLE} (scheduler, beat_at) VALUES (%s, %s) "
                       "ON CONFLICT (scheduler) DO UPDATE SET beat_at = excluded.beat_at",
                       [self.name, now])
        self._last = now

    def latest(self) -> datetime | None:
        """The latest beat of any scheduler (None: none ever beat here)."""
        try:
            found = self.db.read(f"SELECT MAX(beat_at) AS beat_at FROM {TABLE}")
        except Exception as error:
            if _is_missing_table(error):
                return None  # no scheduler ever ran on this database
            raise
        return as_datetime(found[0]["beat_at"]) if found else None

