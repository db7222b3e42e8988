"""The read models' and the write-side index's idea of when an enrollment is next due is the
aggregate's own, through retries, pauses and resumes: the scheduler scans the index, the
store decides by the aggregate, and the API lists the read model."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from domain import ids
from domain.clock import ManualClock
from domain.crm import CrmEvent
from domain.enrollment import SETTLE
from dripline.bootstrap import Runtime

STEPS = [{"order": n, "name": f"s{n}", "delay_amount": 1, "delay_unit": "hours",
          "message_template": {"type": "text", "content": f"step {n}"}} for n in range(2)]


def _agree(runtime: Runtime, enrollment_id: UUID) -> None:
    runtime.catch_up()
    aggregate = runtime.app.get_enrollment("acme", enrollment_id)
    rows = [r for r in runtime.queries.contact_enrollments("acme", "c-1")
            if r["id"] == str(enrollment_id)]
    assert rows[0]["next_scheduled_at"] == aggregate.next_scheduled_at
    assert rows[0]["status"] == aggregate.status
    due = [d for d in runtime.queries.due_enrollments(aggregate.next_scheduled_at
                                                      or runtime.app.clock(), 10)
           if d.enrollment_id == enrollment_id]
    # The write-side index, which the scheduler scans, says the same (without a projector).
    indexed = [r for r in runtime.app.store.due_enrollments(
        aggregate.next_scheduled_at or runtime.app.clock(), 10)
        if r.enrollment_id == enrollment_id]
    if aggregate.status == "active" and aggregate.next_scheduled_at is not None:
        assert [d.due_at for d in due] == [aggregate.next_scheduled_at]
        assert [r.due_at for r in indexed] == [aggregate.next_scheduled_at]
    else:
        assert due == []
        assert indexed == []


def test_next_due_follows_the_aggregate(runtime: Runtime, clock: ManualClock) -> None:
    app = runtime.app
    sequence = app.create_sequence("acme", {"name": "s", "steps": STEPS})
    app.activate_sequence("acme", sequence.id)
    e = app.enroll("acme", sequence.id, "c-1")
    _agree(runtime, e.id)

    clock.advance(timedelta(hours=1))
    app.execute_due([e.id])  # step 0 requested, step 1 due in an hour
    _agree(runtime, e.id)

    app.record_crm_event(CrmEvent("f-1", "message_failed", "acme", "c-1", clock(),
                                  {"message_id": ids.message_id(e.id, 0, 1),
                                   "error": "timeout"}))
    _agree(runtime, e.id)  # the retry (a minute away) comes first
    assert app.get_enrollment("acme", e.id).next_scheduled_at == clock() + timedelta(minutes=1)

    clock.advance(timedelta(minutes=1))
    app.execute_due([e.id])  # attempt 2 requested: back to step 1's own time
    _agree(runtime, e.id)
    assert app.get_enrollment("acme", e.id).next_scheduled_at == (
        clock() - timedelta(minutes=1) + timedelta(hours=1))

    app.pause_enrollment("acme", e.id)
    _agree(runtime, e.id)
    clock.advance(timedelta(hours=2))
    app.resume_enrollment("acme", e.id)  # step 1's time passed: due at once
    _agree(runtime, e.id)
    app.execute_due([e.id])  # the last step: requested, settling
    _agree(runtime, e.id)
    clock.advance(SETTLE)
    app.execute_due([e.id])
    _agree(runtime, e.id)
    assert app.get_enrollment("acme", e.id).status == "completed"
