"""Helpers of the scheduler tests: a 3-step sequence, counting what the store recorded, and
child processes (the test worker, ``dripline project``) stopped by their pid."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg

from domain.application import DriplineApp
from domain.enrollment import Enrollment
from projections.queries import Queries
from projections.storage.urls import is_postgres, sqlite_path
from tests.e2e.server import dripline_command, poll
from tests.integration.store import decoded

TENANT = "acme"
REQUESTED = "enrollment.step_executed"
ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT = 30.0


def three_steps(app: DriplineApp, delays_minutes: tuple[int, int, int] = (0, 0, 0)) -> UUID:
    """An active sequence of three text steps with the given delays."""
    steps = [{"order": order, "name": f"step {order}", "delay_amount": delay,
              "delay_unit": "minutes",
              "message_template": {"type": "text", "content": f"step {order}"}}
             for order, delay in enumerate(delays_minutes)]
    sequence = app.create_sequence(TENANT, {"name": "three steps", "steps": steps})
    app.activate_sequence(TENANT, sequence.id)
    return sequence.id


def enroll(app: DriplineApp, sequence_id: UUID, contacts: int) -> list[UUID]:
    result = app.enroll_many(TENANT, sequence_id, [f"c-{i:05d}" for i in range(contacts)])
    assert not result.skipped
    return [e.id for e in result.enrolled]


def requests_in_store(app: DriplineApp) -> list[Enrollment.StepExecuted]:
    """Every executed step (its message requested) in the notification log, oldest first."""
    found = decoded(app, (REQUESTED,))
    assert all(isinstance(e, Enrollment.StepExecuted) for e in found)
    return found


def per_step(events: list[Enrollment.StepExecuted]) -> Counter[tuple[UUID, int]]:
    return Counter((e.originator_id, e.step_order) for e in events)


def count_requested(url: str) -> int:
    """How many message requests the store holds: one cheap query, for polling."""
    # The library names the table after the application on PostgreSQL only.
    query = "SELECT count(*) FROM {} WHERE topic = %s"
    if is_postgres(url):
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute(query.format("dripline_events"), [REQUESTED]).fetchone()
    else:
        with sqlite3.connect(sqlite_path(url)) as conn:
            row = conn.execute(query.format("stored_events").replace("%s", "?"),
                               [REQUESTED]).fetchone()
    assert row is not None
    return int(row[0])


def wait_until_requested(url: str, total: int, timeout: float) -> None:
    poll(lambda: True if count_requested(url) >= total else None,
         f"{total} message requests", timeout=timeout, interval=0.1)


def child_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIPLINE_")}
    env.update(DRIPLINE_DATABASE_URL=url, PYTHONUNBUFFERED="1")
    return env


@dataclass
class Child:
    """A child process of the test, stopped (SIGTERM) or killed (SIGKILL) by its pid."""

    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, command: list[str], url: str, log: Path) -> Child:
        with log.open("ab") as out:
            process = subprocess.Popen(command, env=child_env(url), cwd=ROOT, stdout=out,
                                       stderr=subprocess.STDOUT)
        return cls(process, log)

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final commit, as in a crash."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(STOP_TIMEOUT)

    def stop(self) -> int:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                return self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"{self.process.args!r} ignored SIGTERM") from None
        return self.process.returncode


@dataclass
class Worker(Child):
    """``python -m tests.scheduler.worker``: a scheduler process (see worker.py)."""

    stats_path: Path = Path()

    @classmethod
    def launch(cls, url: str, tmp: Path, name: str, *options: str) -> Worker:
        stats = tmp / f"{name}.json"
        stats.unlink(missing_ok=True)
        child = Child.start([sys.executable, "-m", "tests.scheduler.worker", str(stats),
                             *options], url, tmp / f"{name}.log")
        return cls(child.process, child.log, stats)

    def stats(self) -> dict[str, Any] | None:
        if not self.stats_path.exists():
            return None
        body: dict[str, Any] = json.loads(self.stats_path.read_text())
        return body

    def wait_ready(self, timeout: float = 60.0) -> None:
        def ready() -> bool | None:
            assert self.alive(), f"worker died:\n{self.log.read_text(errors='replace')}"
            return True if self.stats() is not None else None
        poll(ready, f"{self.log.stem} to start", timeout=timeout)

    def outcomes(self) -> Counter[str]:
        """Stop the worker and return its outcome counts."""
        code = self.stop()
        stats = self.stats()
        log = self.log.read_text(errors="replace")
        assert code == 0, f"worker exit {code}:\n{log}"
        assert stats is not None, log
        assert stats.get("stopped"), log
        return Counter(stats["outcomes"])


def projector(url: str, tmp: Path) -> Child:
    """``dripline project``: keeps every read model up to date (LISTEN/NOTIFY on PG)."""
    return Child.start([*dripline_command(), "project", "--poll-interval", "0.2"], url,
                       tmp / "project.log")


def messages_read_model(queries: Queries, sequence_id: UUID) -> list[dict[str, Any]]:
    """Every row of the ``messages`` read model for the sequence (all pages)."""
    rows: list[dict[str, Any]] = []
    for number in range(1, 10_000):
        page = queries.list_messages(TENANT, sequence_id=sequence_id, page=number, limit=500)
        rows += page.items
        if len(rows) >= page.total or not page.items:
            return rows
    raise AssertionError("the messages read model never ran out of pages")


def assert_each_step_requested_once(app: DriplineApp, queries: Queries, sequence_id: UUID,
                                    enrolled: list[UUID], steps: int = 3) -> None:
    """The store holds exactly one request per (enrollment, step), each enrollment's in step
    order, none before its due time; the caught-up read models agree."""
    events = requests_in_store(app)
    counts = per_step(events)
    duplicates = {key: n for key, n in counts.items() if n > 1}
    assert duplicates == {}, f"{len(duplicates)} steps requested more than once"
    assert set(counts) == {(e, order) for e in enrolled for order in range(steps)}
    orders: dict[UUID, list[int]] = {}
    for event in events:
        orders.setdefault(event.originator_id, []).append(event.step_order)
        assert event.due_at <= event.at, f"requested early: {event}"
    assert set(map(tuple, orders.values())) == {tuple(range(steps))}
    rows = messages_read_model(queries, sequence_id)
    assert sorted((r["enrollment_id"], r["step_order"]) for r in rows) == sorted(
        (str(e), order) for e in enrolled for order in range(steps))
    assert {r["status"] for r in rows} == {"requested"}
    # Each has requested its last step: completed, or settling (its last message may still
    # fail and be retried) until that can no longer happen.
    finished = [app.get_enrollment(TENANT, e) for e in enrolled]
    assert all(e.status == "completed" or e.settling for e in finished)
