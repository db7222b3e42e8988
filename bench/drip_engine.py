"""Dripline's side of the drip, pace and delayed workloads (``bench/peers/dripline_peer.py``
runs it beside the floors and the peers): one round on a fresh, empty database.

Configurations:
- ``sqlite``: read-model runner and scheduler threads in one process, wired as
  ``dripline serve`` wires them (the scheduler catches ``due_enrollments`` up before a scan);
- ``pg-1``: one ``dripline schedule`` process and one ``dripline project`` process;
- ``pg-2``: two ``dripline schedule`` processes and one ``dripline project``;
- ``pg-1+caps``, ``sqlite+caps``: the same with the tenant's frequency caps and throttle on
  (``CAPS_ON``: rules and a throttle that never bind, so the steps and their timing are the
  same and the difference is what counting costs: a ledger per contact and a throttle bucket
  per minute, read and written with every step).

How a round is timed: contacts are enrolled (and the read models caught up) with a clock
set a few seconds ahead, at T0, so every first step falls due at the same instant T0 (a
``harness.Plan`` with a rate: at T0 + i / rate, enrolled a group at a time with the clock at
each group's due time; with a gap, see ``prepare``), after all the setup is done and the
processes are up. The schedulers run on the system clock.
Wall time is T0 until the store holds every message request (polled every 20 ms); lateness
is when each request was first seen committed by that poll minus its ``due_at`` (zero delays:
a step falls due when the one before it was executed, so later steps' lateness is their own
queueing only; see ``analyse``). Duplicates count (enrollment, step) pairs with more than one
executed-step event (must be 0).

A first step due at once is executed with the enrollment itself; so that the steps are the
schedulers' work, each contact is enrolled with the clock one minute before its first due
time, and the first step waits that minute (``FIRST_DELAY``); the steps after it have no
delay.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg

from bench import harness
from domain.clock import ManualClock
from domain.enrollment import Enrollment
from dripline.bootstrap import bootstrap
from dripline.run import scheduling
from dripline.settings import Settings
from projections.storage.urls import is_postgres, sqlite_path

ROOT = Path(__file__).resolve().parents[1]
TENANT = "bench"
REQUESTED = "enrollment.step_executed"
STEPS = 3
ENROLL_CALL = 10_000  # contacts per enroll_many call at most
FIRST_DELAY = timedelta(minutes=1)


def sequence(steps: int = STEPS, name: str = "drip engine") -> dict[str, Any]:
    """A sequence of ``steps`` steps, one text message each: the first a minute after the
    contact enters, the others at once after the one before."""
    return {"name": f"bench: {name}", "steps": [
        {"order": n, "name": f"step {n}", "delay_amount": 1 if n == 0 else 0,
         "delay_unit": "minutes",
         "message_template": {"type": "text", "content": f"Hi {{{{contact.name}}}} #{n}"}}
        for n in range(steps)]}


CONFIGS = {"sqlite": "SQLite, serve-style: runner + scheduler threads in one process",
           "pg-1": "PostgreSQL: 1 `dripline schedule` + 1 `dripline project`",
           "pg-2": "PostgreSQL: 2 `dripline schedule` + 1 `dripline project`",
           "pg-1+caps": "PostgreSQL, 1 scheduler, frequency caps and throttle on",
           "sqlite+caps": "SQLite, serve-style, frequency caps and throttle on"}
# Two cap rules and a throttle on the steps' channel, none of which binds in a round.
CAPS_ON = {"frequency_cap": {"rules": [
    {"channel": None, "max_messages": 1000, "window": "rolling_24h"},
    {"channel": "whatsapp", "max_messages": 1000, "window": "calendar_day"}]},
    "throttle": {"whatsapp": {"per_minute": 100_000}}}
RUN_TIMEOUT = 600.0
Marks = list[tuple[int, datetime]]  # (highest notification id seen, when), oldest first


# --- databases ---------------------------------------------------------------------------

def postgres_database(admin_url: str) -> Callable[[], Any]:
    """A factory of fresh PostgreSQL databases, each dropped afterwards."""
    return lambda: harness.postgres_database(admin_url, "dripline_bench")


class RequestCounter:
    """Counts the store's message requests over one open connection, reading only the rows
    added since the last call (a full count every 20 ms, or a new connection each time,
    would load the database the schedulers are being timed on). Notification ids are
    committed in order: the store locks the events table for each insert transaction."""

    def __init__(self, url: str) -> None:
        self.pg = psycopg.connect(url, autocommit=True) if is_postgres(url) else None
        self.lite = None if self.pg else sqlite3.connect(sqlite_path(url), timeout=30)
        self.last, self.total = 0, 0
        # (highest notification id seen, when): when each request became visible, that is
        # committed, give or take one poll.
        self.marks: list[tuple[int, datetime]] = []

    def __call__(self) -> int:
        if self.pg is not None:
            row = self.pg.execute(
                "SELECT max(notification_id), count(*) FILTER (WHERE topic = %s) "
                "FROM dripline_events WHERE notification_id > %s",
                [REQUESTED, self.last]).fetchone()
        else:
            assert self.lite is not None
            row = self.lite.execute(
                "SELECT max(rowid), coalesce(sum(topic = ?), 0) FROM stored_events "
                "WHERE rowid > ?", [REQUESTED, self.last]).fetchone()
        if row is not None and row[0] is not None:
            self.last, self.total = int(row[0]), self.total + int(row[1])
            self.marks.append((self.last, datetime.now(UTC)))
        return self.total

    def close(self) -> None:
        if self.pg is not None:
            self.pg.close()
        if self.lite is not None:
            self.lite.close()


# --- one round -----------------------------------------------------------------------------

def prepare(url: str, plan: harness.Plan, lead: float, caps: bool = False,
            ) -> tuple[datetime, float]:
    """Enroll everyone, the clock at each contact's first due time (T0 = now + lead for
    all of them in a burst; T0 + i / rate, a group at a time, when paced); catch the read
    models up. Returns T0 and how long the setup took.

    With a ``gap`` between steps: a Dripline delay is whole minutes, so a contact's steps
    k = 0, 1, ... are ``plan.steps`` one-step sequences it is enrolled in with the clock at
    its first due time + k * gap. Each step executed is still one enrollment loaded,
    re-checked, rendered and recorded (it then completes instead of advancing: as many
    events), and no zero-delay chain executes two steps at once."""
    started = time.monotonic()
    t0 = datetime.now(UTC) + timedelta(seconds=lead)
    clock = ManualClock(t0)
    runtime = bootstrap(Settings(database_url=url), clock=clock)
    try:
        app = runtime.app
        if caps:
            app.update_tenant_settings(TENANT, CAPS_ON)
        chains = [sequence(1, f"step {k}") for k in range(plan.steps)] if plan.gap else [
            sequence(plan.steps)]
        created = [app.create_sequence(TENANT, body) for body in chains]
        for each in created:
            app.activate_sequence(TENANT, each.id)
        names = [f"contact-{i:05d}" for i in range(plan.contacts)]
        call = min(plan.group, ENROLL_CALL) if plan.paced else ENROLL_CALL
        for start in range(0, plan.contacts, call):
            for k, each in enumerate(created):
                clock.set(t0 + timedelta(seconds=plan.offset(start) + k * plan.gap)
                          - FIRST_DELAY)
                result = app.enroll_many(TENANT, each.id, names[start:start + call])
                if result.skipped:
                    raise SystemExit(f"{len(result.skipped)} contacts were not enrolled")
        runtime.catch_up()
    finally:
        runtime.close()
    return t0, time.monotonic() - started


def wait_for_all(url: str, total: int, alive: Callable[[], None],
                 until: datetime | None = None, marks: Marks | None = None) -> datetime:
    """Until the store holds ``total`` message requests; returns when it did. ``until``:
    give up then and return (a paced round's deadline); without it, give up after
    RUN_TIMEOUT seconds with SystemExit. ``marks`` receives the counter's observations."""
    deadline = time.monotonic() + RUN_TIMEOUT
    count = RequestCounter(url)
    try:
        while count() < total:
            alive()
            if until is not None and datetime.now(UTC) >= until:
                break
            if until is None and time.monotonic() > deadline:
                raise SystemExit(f"not all {total} steps requested after {RUN_TIMEOUT} s")
            time.sleep(0.02)
        return datetime.now(UTC)
    finally:
        if marks is not None:
            marks += count.marks
        count.close()


def run_in_process(url: str, total: int, until: datetime | None = None,
                   marks: Marks | None = None) -> tuple[datetime, dict[str, Any]]:
    """The ``dripline serve`` wiring without HTTP (``dripline.run.serve``): runner and
    scheduler threads, the scheduler made by ``dripline.run.scheduling`` as serve makes it."""
    runtime = bootstrap(Settings(database_url=url))
    runner = runtime.read_models.runner(poll_interval=0.1)
    try:
        with scheduling(runtime, idle_seconds=0.2) as scheduler:
            thread = threading.Thread(target=scheduler.run_forever, name="scheduler",
                                      daemon=True)
            runner.start()
            thread.start()
            try:
                def alive() -> None:
                    if not thread.is_alive():
                        raise SystemExit("the scheduler thread died")
                finished = wait_for_all(url, total, alive, until, marks)
            finally:
                scheduler.stop()
                thread.join(30)
                runner.stop()
    finally:
        runtime.close()
    return finished, {"batches": scheduler.stats.batches,
                      "outcomes": dict(scheduler.stats.outcomes)}


def dripline(role: str, url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIPLINE_")}
    env.update(DRIPLINE_DATABASE_URL=url, PYTHONUNBUFFERED="1")
    script = Path(sys.executable).with_name("dripline")
    command = [str(script)] if script.exists() else [
        sys.executable, "-c", "from dripline.cli import main; main()"]
    extra = ["--poll-interval", "0.2"] if role == "project" else []
    with log.open("ab") as out:
        return subprocess.Popen([*command, role, *extra], env=env, cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


def run_processes(url: str, total: int, schedulers: int, t0: datetime, logs: Path,
                  until: datetime | None = None, marks: Marks | None = None
                  ) -> tuple[datetime, dict[str, Any]]:
    log = logs / f"pg-{schedulers}-{uuid4().hex[:6]}.log"
    children = [dripline("project", url, log)]
    children += [dripline("schedule", url, log) for _ in range(schedulers)]
    try:
        def alive() -> None:
            if any(c.poll() is not None for c in children):
                raise SystemExit(f"a dripline process exited; see {log}")
        # Every scheduler up before T0, or the round measures start-up, not scheduling.
        while log.read_text(errors="replace").count("scheduler started") < schedulers:
            alive()
            time.sleep(0.02)
        ready_before_t0 = datetime.now(UTC) < t0
        finished = wait_for_all(url, total, alive, until, marks)
    finally:
        for child in children:
            stop(child)
    return finished, {"ready_before_t0": ready_before_t0, "log": str(log)}


def analyse(url: str, t0: datetime, finished: datetime, plan: harness.Plan,
            marks: Marks) -> dict[str, Any]:
    """Lateness, duplicates and throughput. A step counts as executed when its request was
    seen committed (``marks``: the first poll that saw its notification id; so up to a poll,
    20 ms, late), not at its ``created_at``: that is when its batch began, and the batch
    commits later (the peers' ``sent_at`` is their insert's, in transactions of one step, or
    of one batch in milliseconds for the floor). ``created_at`` lateness is kept too, as
    ``decided_*``. In a paced round that ran out of time, the missing steps count as at least
    ``finished`` minus the last due time late (the percentiles are then lower bounds)."""
    runtime = bootstrap(Settings(database_url=url), catch_up_lookups=False)
    try:
        notifications: list[Any] = []
        start = None
        while True:
            page = runtime.app.recorder.select_notifications(
                start, 5000, topics=[REQUESTED], inclusive_of_start=False)
            notifications += page
            if len(page) < 5000:
                break
            start = page[-1].id
        events: list[Any] = [runtime.app.mapper.to_domain_event(n) for n in notifications]
        seen_ids = [mark_id for mark_id, _ in marks]
        visible = [marks[i][1] if (i := bisect_left(seen_ids, n.id)) < len(marks) else finished
                   for n in notifications]
    finally:
        runtime.close()
    per_step = Counter((e.originator_id, e.step_order) for e in events
                       if isinstance(e, Enrollment.StepExecuted))
    due: list[datetime] = [e.due_at for e in events]
    created: list[datetime] = [e.at for e in events]
    lateness = [(at - d).total_seconds() for at, d in zip(visible, due, strict=True)]
    decided = [(at - d).total_seconds() for at, d in zip(created, due, strict=True)]
    last_due = t0 + timedelta(seconds=plan.span)
    missing = plan.total - len(per_step) if plan.paced else 0
    overdue = (finished - last_due).total_seconds()
    late = harness.lateness_summary(lateness, missing, overdue)
    late_decided = harness.lateness_summary(decided, missing, overdue)
    wall = (finished - t0).total_seconds()
    last = max(visible, default=t0)
    return {"wall_seconds": wall, "steps_per_second": len(per_step) / wall,
            **{f"lateness_{k}": v for k, v in late.items()},
            **{f"decided_lateness_{k}": v for k, v in late_decided.items()},
            "lateness_lower_bound": missing > 0,
            "last_request_seconds": (last - t0).total_seconds(),
            "last_after_due": (last - last_due).total_seconds(),
            "early": sum(1 for x in decided if x < 0), "requests": len(events),
            "steps_requested": len(per_step),
            "duplicates": sum(n - 1 for n in per_step.values() if n > 1)}


class LateStart(Exception):  # noqa: N818 - not an error: the round is run again
    """Setup or start-up went past T0: the round would measure them, not scheduling."""

    def __init__(self, setup: float) -> None:
        super().__init__(f"setup took {setup:.1f} s, past T0")
        self.setup = setup


def one_round(config: str, database: Callable[[], Any], plan: harness.Plan, logs: Path,
              last_setup: float | None, grace: float | None = None) -> dict[str, Any]:
    """``last_setup``: the previous round's setup seconds, to wait no longer than needed.
    ``grace`` (paced rounds): seconds past the last due time to wait for the last steps;
    then the round's numbers are for the steps done, and a wrong outcome is reported in
    them instead of raised."""
    total = plan.total
    # T0 must come after enrolling and catching up, and (PostgreSQL) after the processes
    # have started; checked below. Enrolling a few contacts per call (paced) costs more.
    caps, config = config.endswith("+caps"), config.removesuffix("+caps")
    start_up = 0.5 if config == "sqlite" else 4.0
    per_contact = (0.0006 + (0.004 / plan.group if plan.paced else 0.0)) * (
        plan.steps if plan.gap else 1)
    lead = (start_up + 1.3 * last_setup if last_setup is not None
            else start_up + 1.0 + plan.contacts * per_contact)
    with database() as url:
        t0, setup = prepare(url, plan, lead, caps)
        marks: Marks = []
        until = (None if grace is None
                 else t0 + timedelta(seconds=plan.span + grace))
        if config == "sqlite":
            if datetime.now(UTC) >= t0:
                raise LateStart(setup)
            finished, extra = run_in_process(url, total, until, marks)
        else:
            finished, extra = run_processes(url, total, int(config[-1]), t0, logs, until,
                                            marks)
            if not extra["ready_before_t0"]:
                raise LateStart(setup)
        result = analyse(url, t0, finished, plan, marks)
    wrong = result["duplicates"] or result["steps_requested"] != total or result["early"]
    if wrong and grace is None:
        raise SystemExit(f"{config}: wrong outcome {result}")
    return {**result, "setup_seconds": setup, **extra}
