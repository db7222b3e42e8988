"""Schedulers on one PostgreSQL database claim disjoint batches; a scheduler sleeps until
the next due time it saw and wakes early when a commit may have made a step due (another
process's, through the event store's notification; its own process's, directly)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from uuid import uuid4

import psycopg
import pytest

from consumers.claims import Claims, claims_for
from consumers.due_signal import DueListener
from consumers.scheduler import Scheduler
from domain.clock import ManualClock
from dripline.bootstrap import Runtime, bootstrap
from dripline.settings import Settings
from tests.scheduler.support import count_requested, enroll, requests_in_store, three_steps


@pytest.fixture
def pg_runtime(postgres_url: str, clock: ManualClock) -> Iterator[Runtime]:
    runtime = bootstrap(Settings(database_url=postgres_url), clock=clock)
    try:
        yield runtime
    finally:
        runtime.close()


def test_claims_are_disjoint_until_released(postgres_url: str) -> None:
    ids = [uuid4() for _ in range(10)]
    first, second = Claims(postgres_url), Claims(postgres_url)
    try:
        mine = first.claim(ids, 4)
        assert mine == set(ids[:4])  # the oldest first, no more than asked
        assert second.claim(ids, 10) == set(ids[4:])  # everything the first did not hold
        first.release()
        second.release()
        assert second.claim(ids, 10) == set(ids)
        assert first.claim(ids, 10) == set()
    finally:
        first.close()
        second.close()


def test_sqlite_needs_no_claims(sqlite_url: str) -> None:
    assert claims_for(sqlite_url) is None


def test_a_scheduler_leaves_enrollments_another_has_claimed(pg_runtime: Runtime,
                                                            postgres_url: str,
                                                            clock: ManualClock) -> None:
    app = pg_runtime.app
    enrolled = enroll(app, three_steps(app, (1, 60, 60)), 6)
    clock.advance(timedelta(minutes=1))
    other = Claims(postgres_url)
    claims = Claims(postgres_url)
    try:
        held = other.claim(enrolled, 4)
        scheduler = Scheduler(app, batch_size=10, claims=claims)
        assert scheduler.run_once() == 2
        assert {e.originator_id for e in requests_in_store(app)} == set(enrolled) - held
        assert dict(scheduler.stats.outcomes) == {"requested": 2}
        other.release()  # the other scheduler gave up its batch without executing it
        assert scheduler.run_once() == 4
        assert count_requested(postgres_url) == 6
    finally:
        other.close()
        claims.close()


def test_sleeps_until_the_next_due_time_it_saw(runtime: Runtime, clock: ManualClock) -> None:
    app = runtime.app
    enroll(app, three_steps(app, (1, 1, 1)), 3)  # step 1 a minute after step 0
    clock.advance(timedelta(minutes=1))
    scheduler = Scheduler(app, idle_seconds=600)
    assert scheduler.run_once() == 3
    assert scheduler.run_once() == 0
    assert scheduler.next_due == clock() + timedelta(minutes=1)
    assert scheduler._pause() == 60.0
    clock.advance(timedelta(seconds=45))
    assert scheduler._pause() == 15.0
    short = Scheduler(app, idle_seconds=5)
    assert short.run_once() == 0
    assert short.next_due is None  # beyond its look-ahead
    assert short._pause() == 5


def test_stop_and_wake_end_the_sleep_at_once(runtime: Runtime) -> None:
    scheduler = Scheduler(runtime.app, idle_seconds=3600)
    scans = 0
    original = scheduler.run_once

    def counting() -> int:
        nonlocal scans
        scans += 1
        return original()

    scheduler.run_once = counting  # type: ignore[method-assign]
    thread = threading.Thread(target=scheduler.run_forever)
    thread.start()

    def until(count: int) -> None:  # an hour's idle sleep would never get here
        deadline = time.monotonic() + 30
        while scans < count:
            assert time.monotonic() < deadline, f"only {scans} scans"
            time.sleep(0.01)

    try:
        for expected in (2, 3):
            until(expected - 1)
            scheduler.wake()
            until(expected)
    finally:
        scheduler.stop()
        thread.join(30)
    assert not thread.is_alive()


def test_a_commit_by_another_process_wakes_a_listening_scheduler(
        pg_runtime: Runtime, postgres_url: str, clock: ManualClock) -> None:
    channel = getattr(pg_runtime.app.recorder, "channel_name", None)
    assert channel is not None
    woken = threading.Semaphore(0)
    listener = DueListener(pg_runtime.read_models.db.conninfo, channel, woken.release)
    listener.start()
    other = bootstrap(Settings(database_url=postgres_url), clock=clock)
    try:
        assert woken.acquire(timeout=30)  # once on listening: catch up on anything missed
        app = other.app  # another application: only the database can tell the listener
        enroll(app, three_steps(app), 2)
        assert woken.acquire(timeout=30)
    finally:
        other.close()
        listener.stop()


def test_a_commit_in_its_own_process_wakes_the_scheduler(runtime: Runtime) -> None:
    woken = threading.Event()
    runtime.app.core.on_commit.append(woken.set)
    app = runtime.app
    sequence_id = three_steps(app, (5, 5, 5))
    woken.clear()
    enroll(app, sequence_id, 1)
    assert woken.is_set()


def test_claims_survive_a_lost_connection(postgres_url: str) -> None:
    ids = [uuid4() for _ in range(3)]
    claims = Claims(postgres_url)
    try:
        assert claims.claim(ids, 3) == set(ids)
        claims.release()
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        with pytest.raises(psycopg.OperationalError):
            claims.claim(ids, 3)  # the batch that met the broken connection fails...
        claims.release()
        assert claims.claim(ids, 3) == set(ids)  # ...and the next one reconnects
    finally:
        claims.close()


def test_a_scan_reads_past_a_page_another_scheduler_holds(pg_runtime: Runtime,
                                                         postgres_url: str,
                                                         clock: ManualClock) -> None:
    app = pg_runtime.app
    enroll(app, three_steps(app, (1, 60, 60)), 6)
    clock.advance(timedelta(minutes=1))
    rows = app.store.due_enrollments(clock(), 10)
    other, claims = Claims(postgres_url), Claims(postgres_url)
    try:
        held = other.claim([row.enrollment_id for row in rows[:4]], 4)  # a whole page
        scheduler = Scheduler(app, batch_size=2, claims=claims)
        assert scheduler.run_once() == 2
        assert {e.originator_id for e in requests_in_store(app)} == (
            {row.enrollment_id for row in rows[4:]})
        assert not held & {e.originator_id for e in requests_in_store(app)}
    finally:
        other.close()
        claims.close()


def test_a_failed_scan_leaves_no_old_due_time_to_spin_on(runtime: Runtime,
                                                        clock: ManualClock) -> None:
    app = runtime.app
    enroll(app, three_steps(app, (1, 1, 1)), 1)
    clock.advance(timedelta(minutes=1))
    scheduler = Scheduler(app, idle_seconds=120)
    assert scheduler.run_once() == 1
    assert scheduler.run_once() == 0
    assert scheduler.next_due == clock() + timedelta(minutes=1)
    clock.advance(timedelta(minutes=2))  # that due time is now past...

    def unreachable(*_: object, **__: object) -> list[object]:
        raise RuntimeError("the database is unreachable")

    app.core.store.due_enrollments = unreachable  # type: ignore[method-assign,assignment]
    with pytest.raises(RuntimeError):
        scheduler.run_once()
    assert scheduler._pause() == 120  # ...and forgotten: a full idle wait, not zero
