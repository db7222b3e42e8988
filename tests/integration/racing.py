"""Real OS processes racing commands against one database.

Each worker is a fresh interpreter (``spawn``) with its own application and connection pool,
as two copies of ``dripline api`` would be. A shared barrier lines the workers up before each
task. With ``gated=True`` each worker also waits at a second barrier inside its first write
of the task: every worker has then loaded and decided on the same stored state before any of
them writes, so the store's version check, not luck in timing, has to pick the winner. The
loser then decides again on the winner's facts (as every command does after a conflict).
"""

from __future__ import annotations

import multiprocessing
import queue
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.synchronize import Barrier, Lock
from typing import Any
from uuid import UUID

from domain.application import DriplineApp
from domain.clock import ManualClock
from domain.errors import DomainError
from projections.storage.urls import eventsourcing_env
from tests.integration.factories import TENANT

WAIT = 120.0  # seconds a worker waits for its peers before giving up (a hang, not a race)


@dataclass(frozen=True)
class Task:
    op: str  # enroll | enroll_many | exit | pause | rename
    target: UUID  # the sequence (enroll, enroll_many, rename) or the enrollment (exit, pause)
    contacts: tuple[str, ...] = ()
    text: str = ""
    if_match: int | None = None  # the version the client read (rename only)


@dataclass
class Outcome:
    error: str = ""  # the exception's class name; empty when the command succeeded
    enrolled: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.error


class GatedStore:
    """The real store, except that its next write first waits for the peers."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.gate: Barrier | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def write(self, batch: Any) -> list[int]:
        gate, self.gate = self.gate, None
        if gate is not None:
            gate.wait(WAIT)
        written: list[int] = self.store.write(batch)
        return written


def _perform(app: DriplineApp, task: Task) -> Outcome:
    try:
        if task.op == "enroll":
            app.enroll(TENANT, task.target, task.contacts[0])
            return Outcome(enrolled=[task.contacts[0]])
        if task.op == "enroll_many":
            bulk = app.enroll_many(TENANT, task.target, list(task.contacts))
            return Outcome(enrolled=[e.contact_id for e in bulk.enrolled],
                           skipped=[contact for contact, _ in bulk.skipped])
        if task.op == "exit":
            app.exit_enrollment(TENANT, task.target)
        elif task.op == "pause":
            app.pause_enrollment(TENANT, task.target)
        elif task.op == "rename":
            app.update_sequence(TENANT, task.target, {"name": task.text}, task.if_match)
        else:
            raise ValueError(task.op)
        return Outcome()
    except DomainError as error:
        return Outcome(error=type(error).__name__)


def _worker(number: int, url: str, now: datetime, startup: Lock, start: Barrier,
            gate: Barrier | None, tasks: list[Task],
            results: multiprocessing.Queue[tuple[int, int, Outcome]]) -> None:
    # One worker at a time builds its application: the library runs its CREATE ... IF NOT
    # EXISTS / CREATE OR REPLACE FUNCTION statements on construction, and PostgreSQL fails
    # concurrent ones with "tuple concurrently updated". That start-up race is not the one
    # under test here.
    with startup:
        app = DriplineApp(env=eventsourcing_env(url), clock=ManualClock(now))
    store = GatedStore(app.core.store)
    app.core.store = store
    try:
        app.recorder.max_notification_id()  # connect before the first race, not during it
        for index, task in enumerate(tasks):
            start.wait(WAIT)
            store.gate = gate
            results.put((number, index, _perform(app, task)))
    finally:
        app.close()


def race(url: str, now: datetime, task_lists: list[list[Task]], *, gated: bool
         ) -> list[list[Outcome]]:
    """Run ``task_lists[i]`` in worker i, task by task in lock step; outcomes[i][task]."""
    ctx = multiprocessing.get_context("spawn")
    parties = len(task_lists)
    startup, start = ctx.Lock(), ctx.Barrier(parties)
    gate = ctx.Barrier(parties) if gated else None
    results: multiprocessing.Queue[tuple[int, int, Outcome]] = ctx.Queue()
    workers = [ctx.Process(target=_worker,
                           args=(n, url, now, startup, start, gate, tasks, results))
               for n, tasks in enumerate(task_lists)]
    for worker in workers:
        worker.start()
    outcomes: list[list[Outcome | None]] = [[None] * len(t) for t in task_lists]
    try:
        for _ in range(sum(len(t) for t in task_lists)):
            number, index, outcome = _next_result(results, workers)
            outcomes[number][index] = outcome
    except BaseException:
        for worker in workers:
            worker.kill()
        raise
    finally:
        for worker in workers:
            worker.join(WAIT)
    assert all(w.exitcode == 0 for w in workers), [w.exitcode for w in workers]
    return [[o for o in row if o is not None] for row in outcomes]


def _next_result(results: multiprocessing.Queue[tuple[int, int, Outcome]],
                 workers: list[Any]) -> tuple[int, int, Outcome]:
    for _ in range(int(WAIT)):
        try:
            return results.get(timeout=1.0)
        except queue.Empty:
            dead = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            assert not dead, f"a racing worker died (exit codes {dead})"
    raise AssertionError("the racing workers stopped answering")
