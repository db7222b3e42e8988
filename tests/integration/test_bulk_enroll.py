"""Enrolling many contacts in one call: 10,000 at once, mixed lists, and a call killed
part-way (SQLite and PostgreSQL). Counts come from the event store."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from tests.integration import bulk_worker
from tests.integration.factories import TENANT, active_sequence, crm_event
from tests.integration.store import ENROLLED, census, max_notification_id, notifications

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_ten_thousand_contacts_enroll_in_one_call_and_a_second_call_skips_them_all(
        runtime: Runtime) -> None:
    app = runtime.app
    sequence_id = active_sequence(app)
    contacts = [f"contact-{n:05d}" for n in range(10_000)]

    first = app.enroll_many(TENANT, sequence_id, contacts)

    assert sorted(e.contact_id for e in first.enrolled) == contacts
    assert first.skipped == []
    counted = census(app, sequence_id)
    assert counted.orphans == []
    assert counted.per_contact() == {1: 10_000}
    before = max_notification_id(app)

    again = app.enroll_many(TENANT, sequence_id, contacts)

    assert again.enrolled == []
    assert sorted(c for c, _ in again.skipped) == contacts
    assert all("already enrolled" in why for _, why in again.skipped)
    assert max_notification_id(app) == before


def test_a_mixed_list_enrolls_the_new_and_skips_the_rest_with_reasons(
        runtime: Runtime, clock: ManualClock) -> None:
    app = runtime.app
    sequence_id = active_sequence(app)
    app.enroll_many(TENANT, sequence_id, [f"c-{n}" for n in range(100)])
    app.record_crm_event(crm_event("e-1", "contact_deleted", "c-150", clock()))
    app.record_crm_event(crm_event("e-2", "contact_unsubscribed", "c-151", clock()))
    asked = [f"c-{n}" for n in range(50, 600)]
    duplicates = [f"c-{n}" for n in range(200, 250)] + [" c-300 ", "c-60"]

    result = app.enroll_many(TENANT, sequence_id, asked + duplicates)

    new = {f"c-{n}" for n in range(100, 600)} - {"c-150", "c-151"}
    assert sorted(e.contact_id for e in result.enrolled) == sorted(new)
    reasons = dict(result.skipped)
    assert len(result.skipped) == len(reasons) == 52
    assert all("already enrolled" in reasons[f"c-{n}"] for n in range(50, 100))
    assert "deleted" in reasons["c-150"]
    assert "unsubscribed" in reasons["c-151"]
    counted = census(app, sequence_id)
    assert counted.orphans == []
    assert counted.per_contact() == {1: 598}
    assert "c-150" not in counted.enrollments
    assert "c-151" not in counted.enrollments


def test_a_bulk_enroll_killed_part_way_leaves_whole_enrollments_and_a_rerun_finishes_it(
        runtime: Runtime, database_url: str) -> None:
    app = runtime.app
    sequence_id = active_sequence(app)
    start = max_notification_id(app)
    total = 5_000
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.bulk_worker", database_url,
         str(sequence_id), str(total)], cwd=ROOT)
    try:
        while max_notification_id(app) == start and worker.poll() is None:
            time.sleep(0.005)  # poll the store until the first batch has committed
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(60)
    assert worker.returncode == -signal.SIGKILL, "the bulk enroll finished before the kill"

    interrupted = census(app, sequence_id)
    assert interrupted.orphans == []
    assert 0 < interrupted.total < total
    assert interrupted.per_contact() == {1: interrupted.total}

    contacts = bulk_worker.contacts(total)
    rerun = app.enroll_many(TENANT, sequence_id, contacts)

    assert len(rerun.enrolled) == total - interrupted.total
    assert sorted(c for c, _ in rerun.skipped) == sorted(interrupted.enrollments)
    finished = census(app, sequence_id)
    assert finished.orphans == []
    assert finished.per_contact() == {1: total}
    assert len(notifications(app, (ENROLLED,))) == total


@pytest.mark.parametrize(("policy", "again"), [("after_exit", 300), ("never", 0)])
def test_a_bulk_enroll_re_enrolls_ended_contacts_only_as_the_policy_allows(
        runtime: Runtime, clock: ManualClock, policy: str, again: int) -> None:
    app = runtime.app
    sequence_id = active_sequence(app, reenrollment=policy)
    contacts = [f"c-{n:03d}" for n in range(400)]
    first = app.enroll_many(TENANT, sequence_id, contacts)
    for enrollment in first.enrolled[:300]:
        app.exit_enrollment(TENANT, enrollment.id)
    clock.advance(timedelta(minutes=1))

    result = app.enroll_many(TENANT, sequence_id, contacts)

    assert sorted(e.contact_id for e in result.enrolled) == contacts[:again]
    assert all(e.number == 2 for e in result.enrolled)
    reasons = dict(result.skipped)
    assert sorted(reasons) == contacts[again:]
    assert all("already enrolled" in reasons[c] for c in contacts[300:])
    assert all("re-enter" in reasons[c] for c in contacts[again:300])
    counted = census(app, sequence_id)
    assert counted.orphans == []
    assert counted.per_contact() == ({2: 300, 1: 100} if again else {1: 400})
