"""A long-running loop that keeps the read models at the head of the notification log.

PostgreSQL: LISTEN on the channel the event store NOTIFYs on every insert, so new events
are projected at once; SQLite has no notifications, so the loop polls. Either way a wake-up
only says "look again"; what to apply is decided by the locked positions (``projector``),
so several runner processes on one database never double count.

Why not the library's ``ProjectionRunner``: it commits one transaction per event and per
model (a full replay pays that for every event, six times over), needs a subscription the SQLite
recorder does not have, and runs one application, pool and four threads per projection; a
second runner process meets an ``IntegrityError`` on redelivery and stops. This loop keeps
its two promises, LISTEN/NOTIFY and writes committed with their tracking position, for all
read models in one thread, batch by batch.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import psycopg

from projections.projector import Projector

log = logging.getLogger(__name__)


class ReadModelRunner:
    def __init__(self, projector: Projector, *, conninfo: str | None = None,
                 channel: str | None = None, poll_interval: float = 0.5) -> None:
        self.projector = projector
        self.poll_interval = poll_interval
        self._conninfo, self._channel = conninfo, channel
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: BaseException | None = None

    def start(self) -> None:
        """Run in a background thread (``dripline serve``); ``stop`` ends it."""
        self._thread = threading.Thread(target=self.run_forever, name="projections",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_forever(self) -> None:
        """Project until ``stop``; an error is logged and retried, never fatal."""
        listener = self._listen()
        try:
            while not self._stopping.is_set():
                try:
                    self.projector.catch_up()
                    if self.projector.step_rebuilds():
                        continue  # a replay has more to do: no waiting between its batches
                    self.last_error = None
                except Exception as error:  # a runner must outlive a bad moment
                    self.last_error = error
                    log.exception("projection batch failed; retrying")
                    self._stopping.wait(min(5.0, self.poll_interval * 4))
                    continue
                self._wait(listener)
        finally:
            if listener is not None:
                listener.close()

    def _listen(self) -> psycopg.Connection[Any] | None:
        if self._conninfo is None or self._channel is None:
            return None
        conn = psycopg.connect(self._conninfo, autocommit=True)
        # LISTEN before the first catch-up: an insert committed after it is either seen by
        # that catch-up or queued as a notification on this connection, never missed.
        conn.execute(f'LISTEN "{self._channel}"')
        return conn

    def _wait(self, listener: psycopg.Connection[Any] | None) -> None:
        if listener is None:
            self._stopping.wait(self.poll_interval)
            return
        # Wait in short slices so that ``stop`` is noticed promptly even when all is quiet;
        # the poll interval stays a safety net should a notification ever be lost.
        deadline = time.monotonic() + self.poll_interval
        while not self._stopping.is_set() and time.monotonic() < deadline:
            slice_ = min(0.5, max(deadline - time.monotonic(), 0.0))
            for _ in listener.notifies(timeout=slice_, stop_after=1):
                return
