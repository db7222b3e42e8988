"""Wakes a scheduler as soon as another process commits: on PostgreSQL the event store NOTIFYs
its channel in every transaction that inserts events, and any of them may have made a step
due (a new enrollment, a resumed one, a retry). Without it such a step would wait for the
scheduler's next idle scan. A lost notification costs only that wait."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg

log = logging.getLogger("dripline.scheduler")


class DueListener:
    def __init__(self, conninfo: str, channel: str, on_change: Callable[[], None]) -> None:
        self.conninfo, self.channel, self.on_change = conninfo, channel, on_change
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="due-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as conn:
                    self._listen(conn)
            except psycopg.Error:
                log.warning("due-list notifications lost; reconnecting", exc_info=True)
                self._stopping.wait(1.0)

    def _listen(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute(f'LISTEN "{self.channel}"')
        self.on_change()  # whatever changed before LISTEN took effect is seen by one scan
        while not self._stopping.is_set():
            # Short slices, so that ``stop`` is noticed promptly when all is quiet.
            for _ in conn.notifies(timeout=0.5):
                self.on_change()
                if self._stopping.is_set():
                    return
