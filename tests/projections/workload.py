"""A realistic mix of events for rebuild and benchmark runs: CRM facts, bulk enrollments,
steps executed (requests, advances, completions), a new revision published with a migration
of the waiting enrollments, delivery feedback, pauses and exits, then opens and clicks (human,
machine and bot ones, repeated ones, and ones of undelivered messages, which deliver them),
also of ended enrollments' messages; and templates. Aggregates are saved in
batches, as the application and the scheduler do."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.application import DriplineApp
from domain.clock import ManualClock
from domain.enrollment import SETTLE, Enrollment
from tests.projections.support import STEP_ID, active_sequence, crm, step

BATCH = 250


def run_workload(app: DriplineApp, clock: ManualClock, contacts: int = 2000,
                 between: Callable[[], object] = lambda: None) -> int:
    """Record the workload; returns how many events the store then holds. ``between`` runs
    between its phases (to project incrementally while it happens)."""
    for n in range(min(contacts // 10, 300)):
        app.record_crm_event(crm("tag_added", f"c-{n}", at=clock(), tag_id="t-1",
                                 tag_name="vip"))
    main = active_sequence(app, steps=3, name="Main")
    side = active_sequence(app, tenant="beta", steps=2, name="Side")
    enrolled = app.enroll_many("acme", main.id, [f"c-{n}" for n in range(contacts)]).enrolled
    app.enroll_many("beta", side.id, [f"c-{n}" for n in range(contacts // 2)])
    everyone = [e.id for e in enrolled]
    between()
    for round_ in range(3):
        clock.advance(timedelta(hours=1))
        _each(app, everyone[: len(everyone) * (3 - round_) // 4],
              lambda e, i: _execute(e, i, clock(), last_order=2))
        between()
        if round_ == 0:
            _new_revision(app, main.id)
            between()
    clock.advance(timedelta(minutes=5))
    _each(app, everyone[::7], lambda e, i: _feedback(e, i, clock()))
    _each(app, everyone[1::11], lambda e, i: e.pause(clock()) if e.status == "active" else None)
    _each(app, everyone[1::22], lambda e, i: e.resume(clock(), clock())
          if e.status == "paused" else None)
    _each(app, everyone[2::13], lambda e, i: e.exit("manual_exit", clock())
          if e.is_open else None)
    clock.advance(timedelta(minutes=5))
    _each(app, everyone[::3], lambda e, i: _engage(e, i, clock()))
    _templates(app)
    return int(app.recorder.max_notification_id() or 0)


def _templates(app: DriplineApp) -> None:
    """Templates of two tenants: made, cloned from a built-in, changed, one deleted."""
    kept = app.templates.create_template("acme", {
        "kind": "step", "name": "Hello", "category": "nurture",
        "message_template": {"type": "text", "content": "Hello {{contact.name}}"}})
    app.templates.update_template("acme", kept["id"], {"delay_amount": 2}, None)
    gone = app.templates.clone_template("acme", "builtin:lead-nurture", "Mine")
    app.templates.delete_template("acme", gone["id"], None)
    app.templates.clone_template("beta", "builtin:win-back")


def _new_revision(app: DriplineApp, sequence_id: UUID) -> None:
    """Revision 2 of the main sequence: step 1 edited, step 2 replaced by a new one (same
    order); published with a migration that moves every waiting enrollment to it."""
    _, number = app.revisions.create_revision("acme", sequence_id)
    steps = app.get_sequence("acme", sequence_id).revision(number).steps
    app.update_step("acme", sequence_id, steps[1].id, {"message_template": {
        "type": "text", "content": "Hello again"}}, revision=number)
    app.remove_step("acme", sequence_id, steps[2].id, revision=number)
    _, added = app.add_step("acme", sequence_id, step(2), revision=number)
    app.revisions.publish_revision("acme", sequence_id, number, {
        "step_map": {str(steps[2].id): {"to": str(added.id)}}})
    while app.revisions.run_migrations():
        pass


def _each(app: DriplineApp, enrollment_ids: list[UUID],
          change: Callable[[Enrollment, int], object]) -> None:
    batch: list[Aggregate] = []
    for i, enrollment_id in enumerate(enrollment_ids):
        enrollment: object = app.repository.get(enrollment_id)
        assert isinstance(enrollment, Enrollment)
        change(enrollment, i)
        batch.append(enrollment)
        if len(batch) == BATCH:
            app.save(*batch)
            batch = []
    app.save(*batch)


def _execute(e: Enrollment, i: int, at: datetime, last_order: int) -> None:
    if e.status != "active":
        return
    order = e.current_step_order
    last = order >= last_order
    if i % 9 == 4:
        e.skip_step(order, "condition_not_met", at, step_id=STEP_ID)
        if last:
            e.complete(at)
        else:
            e.advance(order + 1, at + timedelta(hours=1), at)
        return
    e.execute_step(step_order=order, step_id=STEP_ID, attempt=e.attempt, due_at=at,
                   message={"channel": "whatsapp", "type": "text", "content": "Hello",
                            "template_id": None, "variables": {"name": e.contact_id},
                            "media_url": None},
                   advance_to=None if last else order + 1,
                   next_due_at=at + (SETTLE if last else timedelta(hours=1)), final=last,
                   at=at)
    if last:
        e.complete(at)


def _feedback(e: Enrollment, i: int, at: datetime) -> None:
    requested = [m for m, sent in e.messages.items() if sent["status"] == "requested"]
    if not requested:
        return
    if i % 3:
        e.record_delivery(requested[0], at)
    else:
        e.record_failure(message_id=requested[0], error="busy", permanent=False,
                         retry_at=at + timedelta(minutes=1), at=at)


def _engage(e: Enrollment, i: int, at: datetime) -> None:
    """Opens, clicks and attributed replies and unsubscribes of the enrollment's messages,
    each message its own mix; the CRM's time is before the recording time, and repeats record
    nothing."""
    occurred = at - timedelta(minutes=i % 40)
    for n, message_id in enumerate(list(e.messages)):
        mix = (i + n) % 7
        if mix == 0:
            continue
        e.record_open(message_id, machine=mix in (1, 5), occurred_at=occurred, at=at)
        if mix == 5:  # a machine open, then the human one
            e.record_open(message_id, machine=False, occurred_at=occurred, at=at)
        if mix < 3:
            continue
        e.record_click(message_id, url="https://example.com/a", bot=mix == 6,
                       occurred_at=occurred, at=at)
        e.record_click(message_id, url="https://example.com/a", bot=mix == 6,
                       occurred_at=occurred, at=at)  # the same link again: nothing
        if mix in (4, 6):  # another link: a human's first click after a bot's, or a second
            e.record_click(message_id, url="https://example.com/b", bot=False,
                           occurred_at=occurred + timedelta(minutes=1), at=at)
        if mix in (2, 4):  # a reply (or an unsubscribe) attributed to it, once
            kind = "replied" if mix == 2 else "unsubscribed"
            for by in ("message_id", "last_message"):
                e.attribute(kind, message_id, occurred_at=occurred + timedelta(minutes=2),
                            by=by, at=at)
