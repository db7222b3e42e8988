"""The Contact mirror and what CRM events imply: facts, deduplication, deletion,
auto-enrollment by trigger, exits on reply/unsubscribe/delete, and delivery feedback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain import ids
from domain.application import DriplineApp
from domain.clock import ManualClock
from domain.contact import Contact
from domain.crm import CrmEvent
from domain.enrollment import Enrollment
from domain.errors import InvalidInputError
from tests.domain.support import crm_event, request_step, stored_count
from tests.domain.test_sequence import new_sequence

T = "acme"


def contact(app: DriplineApp, contact_id: str = "c-1", tenant_id: str = T) -> Contact:
    found: Aggregate = app.repository.get(ids.contact_id(tenant_id, contact_id))
    assert isinstance(found, Contact)
    return found


def record(app: DriplineApp, type_: str, contact_id: str = "c-1", **data: Any) -> Any:
    return app.record_crm_event(crm_event(type_, contact_id, at=app.clock(), **data))


# --- facts ----------------------------------------------------------------------------------------


def test_tags_are_added_and_removed(app: DriplineApp, clock: ManualClock) -> None:
    outcome = record(app, "tag_added", tag_id="t-1", tag_name="cold-lead")
    assert outcome.status == "applied"
    record(app, "tag_added", tag_name="vip")
    c = contact(app)
    assert c.tags == {"t-1": "cold-lead", "vip": "vip"}
    assert c.has_tag("t-1")
    assert c.has_tag("cold-lead")
    assert c.has_tag("vip")
    assert c.last_activity_at == clock()

    record(app, "tag_removed", tag_name="cold-lead")
    record(app, "tag_removed", tag_id="vip")
    assert contact(app).tags == {}


def test_lists_pipelines_and_forms(app: DriplineApp) -> None:
    record(app, "list_joined", list_id="l-1", list_name="newsletter")
    record(app, "pipeline_entered", pipeline_id="p-1", status="new")
    record(app, "pipeline_status_changed", pipeline_id="p-1", status="qualified")
    record(app, "form_submit", form_id="f-1", form_name="trial", fields={"plan": "pro"})
    c = contact(app)
    assert c.lists == {"l-1": "newsletter"}
    assert c.pipelines == {"p-1": "qualified"}
    [form] = [e for e in app.events.get(c.id) if isinstance(e, Contact.FormSubmitted)]
    assert (form.form_id, form.fields) == ("f-1", {"plan": "pro"})


def test_profile_updates_change_only_what_they_carry(app: DriplineApp) -> None:
    record(app, "contact_updated", name="Ana", email="ana@example.com",
           custom_fields={"company_size": 80, "plan": "pro"})
    record(app, "contact_updated", phone="+351", timezone="Europe/Lisbon",
           custom_fields={"plan": "enterprise"})
    c = contact(app)
    assert (c.name, c.email, c.phone, c.timezone) == ("Ana", "ana@example.com", "+351",
                                                      "Europe/Lisbon")
    assert c.custom_fields == {"company_size": 80, "plan": "enterprise"}


def test_replies_and_out_of_office(app: DriplineApp, clock: ManualClock) -> None:
    record(app, "contact_replied", channel="whatsapp", message_id="m-1", out_of_office=True)
    assert (contact(app).last_reply_at, contact(app).last_activity_at) == (None, None)
    clock.advance(timedelta(minutes=5))
    record(app, "contact_replied", channel="whatsapp", message_id="m-1")
    assert contact(app).last_reply_at == contact(app).last_activity_at == clock()


def test_unsubscribe_suppresses_a_channel_or_all(app: DriplineApp) -> None:
    record(app, "contact_unsubscribed", channel="email")
    c = contact(app)
    assert c.is_suppressed("email")
    assert not c.is_suppressed("whatsapp")
    record(app, "contact_unsubscribed")
    assert contact(app).is_suppressed("whatsapp")


def test_a_deleted_contact_ignores_later_events(app: DriplineApp) -> None:
    record(app, "tag_added", tag_id="t-1")
    record(app, "contact_deleted")
    assert contact(app).deleted
    assert contact(app).is_suppressed("whatsapp")
    before = stored_count(app)
    outcome = record(app, "tag_added", tag_id="t-2")
    assert outcome.status == "ignored"
    assert outcome.enrolled == outcome.exited == []
    assert stored_count(app) == before
    assert contact(app).tags == {"t-1": "t-1"}


def test_a_duplicate_event_id_has_one_effect(app: DriplineApp, clock: ManualClock) -> None:
    event = crm_event("tag_added", at=clock(), event_id="evt-1", tag_id="t-1")
    assert app.record_crm_event(event).status == "applied"
    before = stored_count(app)
    again = app.record_crm_event(event)
    assert again.status == "duplicate"
    assert stored_count(app) == before
    assert contact(app).version == 2  # created, then the one fact


def test_unknown_event_types_are_ignored(app: DriplineApp, clock: ManualClock) -> None:
    outcome = app.record_crm_event(crm_event("deal_won", at=clock(), amount=5))
    assert outcome.status == "ignored"
    assert stored_count(app) == 0


@pytest.mark.parametrize(("type_", "data", "field"), [
    ("tag_added", {}, "data.tag_id"),
    ("list_joined", {"list_name": "x"}, "data.list_id"),
    ("form_submit", {"form_id": "f", "fields": ["a"]}, "data.fields"),
    ("pipeline_entered", {"status": "new"}, "data.pipeline_id"),
    ("contact_updated", {"timezone": "Mars/Olympus"}, "data.timezone"),
    ("contact_updated", {"age": 3}, "data.age"),
    ("contact_updated", {"custom_fields": {"x": [1]}}, "data.custom_fields.x"),
    ("message_delivered", {}, "data.message_id"),
])
def test_malformed_events_are_refused_and_store_nothing(
        app: DriplineApp, clock: ManualClock, type_: str, data: dict[str, Any],
        field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        app.record_crm_event(crm_event(type_, at=clock(), **data))
    assert caught.value.field == field
    assert stored_count(app) == 0


def test_an_event_needs_an_aware_time_and_ids() -> None:
    with pytest.raises(InvalidInputError, match="occurred_at"):
        CrmEvent(event_id="e", type="tag_added", tenant_id=T, contact_id="c",
                 occurred_at=datetime(2026, 1, 1))
    with pytest.raises(InvalidInputError, match="contact_id"):
        CrmEvent(event_id="e", type="tag_added", tenant_id=T, contact_id="",
                 occurred_at=datetime(2026, 1, 1, tzinfo=UTC))


# --- auto-enrollment ------------------------------------------------------------------------------


def open_enrollments(app: DriplineApp, contact_id: str = "c-1") -> list[Enrollment]:
    found = [app.get_enrollment(T, row.enrollment_id)
             for row in app.store.open_enrollments_of_contacts(T, [contact_id])]
    return sorted(found, key=lambda e: str(e.sequence_id))


@pytest.mark.parametrize(("trigger_type", "trigger_data", "event_data"), [
    ("tag_added", {"tag_id": "t-1"}, {"tag_id": "t-1", "tag_name": "cold-lead"}),
    ("tag_added", {"tag_name": "cold-lead"}, {"tag_id": "t-1", "tag_name": "cold-lead"}),
    ("list_joined", {"list_id": "l-1"}, {"list_id": "l-1", "list_name": "n"}),
    ("form_submit", {"form_id": "f-1"}, {"form_id": "f-1", "fields": {}}),
    ("pipeline_entered", {"pipeline_id": "p-1"}, {"pipeline_id": "p-1", "status": "new"}),
])
def test_a_matching_event_enrolls_the_contact(app: DriplineApp, trigger_type: str,
                                              trigger_data: dict[str, str],
                                              event_data: dict[str, Any]) -> None:
    sequence = new_sequence(app, "active", trigger_type=trigger_type, trigger_data=trigger_data)
    outcome = record(app, trigger_type, **event_data)
    assert outcome.enrolled == [ids.enrollment_id(sequence.id, "c-1", 1)]
    enrollment = app.get_enrollment(T, outcome.enrolled[0])
    assert (enrollment.source, enrollment.status) == ("trigger", "active")


def test_only_active_matching_sequences_of_the_tenant_enroll(app: DriplineApp) -> None:
    tag: dict[str, Any] = {"trigger_type": "tag_added", "trigger_data": {"tag_id": "t-1"}}
    wanted = new_sequence(app, "active", **tag)
    new_sequence(app, "draft", **tag)
    new_sequence(app, "paused", **tag)
    new_sequence(app, "active", trigger_type="tag_added", trigger_data={"tag_id": "t-2"})
    new_sequence(app, "active", trigger_type="list_joined", trigger_data={"list_id": "t-1"})
    globex = app.create_sequence("globex", {"name": "G", "steps": [{"order": 0, "name": "s",
        "message_template": {"content": "x"}}], **tag})
    app.activate_sequence("globex", globex.id)

    outcome = record(app, "tag_added", tag_id="t-1")
    assert [app.get_enrollment(T, i).sequence_id for i in outcome.enrolled] == [wanted.id]


def test_a_repeated_trigger_does_not_enroll_twice(app: DriplineApp) -> None:
    sequence = new_sequence(app, "active", trigger_type="tag_added",
                            trigger_data={"tag_id": "t-1"})
    record(app, "tag_added", tag_id="t-1")
    record(app, "tag_removed", tag_id="t-1")
    outcome = record(app, "tag_added", tag_id="t-1")
    assert outcome.status == "applied"
    assert outcome.enrolled == []
    assert outcome.skipped == [(str(sequence.id), outcome.skipped[0][1])]
    assert "already enrolled" in outcome.skipped[0][1]
    assert contact(app).has_tag("t-1")
    assert len(open_enrollments(app)) == 1


def test_activation_enrolls_existing_contacts_only_when_asked(app: DriplineApp) -> None:
    record(app, "tag_added", "c-1", tag_id="t-1")
    record(app, "tag_added", "c-2", tag_name="other")
    record(app, "tag_added", "c-3", tag_id="t-1")
    record(app, "contact_deleted", "c-3")
    trigger: dict[str, Any] = {"trigger_type": "tag_added",
                               "trigger_data": {"tag_id": "t-1"}}

    quiet = new_sequence(app, "active", **trigger)
    assert app.store.open_enrollments_of_sequence(quiet.id) == []

    eager = new_sequence(app, "draft", **trigger)
    activation = app.activate_sequence(T, eager.id, enroll_existing=True)
    assert activation.enrolled is not None
    assert [e.contact_id for e in activation.enrolled.enrolled] == ["c-1"]
    assert activation.enrolled.enrolled[0].source == "enroll_existing"


# --- exits ----------------------------------------------------------------------------------------


def _enroll_everywhere(app: DriplineApp, contact_id: str = "c-1") -> dict[str, UUID]:
    """c-1 in three sequences: one replying exits, one not, one that already completed."""
    exits = new_sequence(app, "active")
    stays = new_sequence(app, "active", exit_on_reply=False)
    done = new_sequence(app, "active")
    enrolled = {"exits": app.enroll(T, exits.id, contact_id).id,
                "stays": app.enroll(T, stays.id, contact_id).id,
                "done": app.enroll(T, done.id, contact_id).id}
    finished = app.get_enrollment(T, enrolled["done"])
    finished.complete(app.clock())
    app.save(finished)
    return enrolled


def test_a_reply_exits_only_where_exit_on_reply(app: DriplineApp, clock: ManualClock) -> None:
    enrolled = _enroll_everywhere(app)
    clock.advance(timedelta(minutes=1))
    outcome = record(app, "contact_replied", channel="whatsapp", message_id="m")
    assert outcome.exited == [enrolled["exits"]]
    replied = app.get_enrollment(T, enrolled["exits"])
    assert (replied.status, replied.exit_reason) == ("exited", "contact_replied")
    assert app.get_enrollment(T, enrolled["stays"]).status == "active"
    assert app.get_enrollment(T, enrolled["done"]).status == "completed"


def test_an_out_of_office_reply_exits_nothing(app: DriplineApp, clock: ManualClock) -> None:
    enrolled = _enroll_everywhere(app)
    clock.advance(timedelta(minutes=1))
    outcome = record(app, "contact_replied", channel="email", message_id="m",
                     out_of_office=True)
    assert outcome.exited == []
    assert app.get_enrollment(T, enrolled["exits"]).status == "active"


def test_a_reply_from_before_the_enrollment_exits_nothing(app: DriplineApp,
                                                          clock: ManualClock) -> None:
    enrolled = _enroll_everywhere(app)
    late = crm_event("contact_replied", at=clock() - timedelta(hours=1), channel="email")
    assert app.record_crm_event(late).exited == []
    assert app.get_enrollment(T, enrolled["exits"]).status == "active"


@pytest.mark.parametrize(("type_", "reason"), [("contact_unsubscribed", "contact_unsubscribed"),
                                              ("contact_deleted", "contact_deleted")])
def test_unsubscribe_and_delete_exit_every_open_enrollment(app: DriplineApp, type_: str,
                                                          reason: str) -> None:
    enrolled = _enroll_everywhere(app)
    app.pause_enrollment(T, enrolled["stays"])
    other_contact = app.enroll(T, app.get_enrollment(T, enrolled["exits"]).sequence_id, "c-2")

    outcome = record(app, type_)
    assert sorted(outcome.exited) == sorted([enrolled["exits"], enrolled["stays"]])
    for key in ("exits", "stays"):
        e = app.get_enrollment(T, enrolled[key])
        assert (e.status, e.exit_reason, e.next_scheduled_at) == ("exited", reason, None)
    assert app.get_enrollment(T, enrolled["done"]).status == "completed"
    assert app.get_enrollment(T, other_contact.id).status == "active"


# --- delivery feedback ----------------------------------------------------------------------------


def _sent(app: DriplineApp, enrollment_id: UUID, attempt: int) -> str:
    """What the scheduler does when a step (or its retry) falls due: record the request."""
    e = app.get_enrollment(T, enrollment_id)
    message_id = request_step(e, attempt=attempt, at=app.clock())
    app.save(e)
    return message_id


def _failed(app: DriplineApp, message_id: str, permanent: bool = False) -> Any:
    return record(app, "message_failed", message_id=message_id, error="smtp 451",
                  permanent=permanent)


def test_a_transient_failure_is_retried_up_to_three_attempts(app: DriplineApp,
                                                             clock: ManualClock) -> None:
    sequence = new_sequence(app, "active")
    e = app.enroll(T, sequence.id, "c-1")

    first = _sent(app, e.id, 1)
    _failed(app, first)
    after_one = app.get_enrollment(T, e.id)
    assert after_one.status == "active"
    assert after_one.pending_retry == {"step_order": 0, "attempt": 2,
                                       "due_at": clock() + timedelta(minutes=1)}
    assert after_one.next_scheduled_at == clock() + timedelta(minutes=1)

    clock.advance(timedelta(minutes=1))
    second = _sent(app, e.id, 2)
    assert app.get_enrollment(T, e.id).pending_retry is None
    _failed(app, second)
    assert app.get_enrollment(T, e.id).pending_retry == {
        "step_order": 0, "attempt": 3, "due_at": clock() + timedelta(minutes=10)}

    clock.advance(timedelta(minutes=10))
    third = _sent(app, e.id, 3)
    outcome = _failed(app, third)
    assert outcome.exited == [e.id]
    ended = app.get_enrollment(T, e.id)
    assert (ended.status, ended.exit_reason, ended.next_scheduled_at) == ("exited", "error",
                                                                          None)
    failures = [x for x in app.events.get(e.id) if isinstance(x, Enrollment.SendFailed)]
    assert [f.attempt for f in failures] == [1, 2, 3]
    assert [f.retry_at is not None for f in failures] == [True, True, False]
    exited = [x for x in app.events.get(e.id) if isinstance(x, Enrollment.Exited)]
    assert third in exited[0].detail


def test_a_permanent_failure_exits_at_once(app: DriplineApp) -> None:
    sequence = new_sequence(app, "active")
    e = app.enroll(T, sequence.id, "c-1")
    outcome = _failed(app, _sent(app, e.id, 1), permanent=True)
    assert outcome.exited == [e.id]
    assert app.get_enrollment(T, e.id).exit_reason == "error"


def test_failure_and_delivery_feedback_count_once(app: DriplineApp) -> None:
    sequence = new_sequence(app, "active")
    e = app.enroll(T, sequence.id, "c-1")
    failed, delivered = _sent(app, e.id, 1), None
    _failed(app, failed)
    before = stored_count(app)
    assert _failed(app, failed).status == "duplicate"
    assert stored_count(app) == before

    delivered = _sent(app, e.id, 2)
    assert record(app, "message_delivered", message_id=delivered).status == "applied"
    before = stored_count(app)
    assert record(app, "message_delivered", message_id=delivered).status == "duplicate"
    assert stored_count(app) == before
    assert app.get_enrollment(T, e.id).messages[delivered]["status"] == "delivered"


def test_feedback_for_another_tenants_or_unknown_message_is_refused(app: DriplineApp,
                                                                     clock: ManualClock) -> None:
    sequence = new_sequence(app, "active")
    e = app.enroll(T, sequence.id, "c-1")
    message_id = _sent(app, e.id, 1)
    before = stored_count(app)
    with pytest.raises(InvalidInputError, match="no message"):
        app.record_crm_event(crm_event("message_delivered", at=clock(), tenant_id="globex",
                                       message_id=message_id))
    with pytest.raises(InvalidInputError, match="no message"):
        record(app, "message_delivered", message_id=f"{e.id}:9:9")
    assert stored_count(app) == before


def test_a_failure_while_paused_is_retried_after_resume(app: DriplineApp,
                                                        clock: ManualClock) -> None:
    sequence = new_sequence(app, "active")
    record(app, "contact_updated", name="Ana")  # the template says {{contact.name}}
    e = app.enroll(T, sequence.id, "c-1")
    message_id = _sent(app, e.id, 1)
    app.pause_enrollment(T, e.id)
    outcome = _failed(app, message_id)
    assert outcome.exited == []
    paused = app.get_enrollment(T, e.id)
    assert paused.status == "paused"
    assert paused.next_scheduled_at is None
    # The failed send is neither lost nor sent during the pause: it waits for the resume.
    assert paused.pending_retry is not None
    assert paused.pending_retry["attempt"] == 2
    clock.advance(timedelta(hours=1))
    resumed = app.resume_enrollment(T, e.id)
    assert resumed.next_scheduled_at is not None
    assert resumed.next_scheduled_at <= clock()
    [outcome] = app.execute_due([e.id])
    assert (outcome.result, outcome.message_id) == ("requested", ids.message_id(e.id, 0, 2))


def test_a_contact_is_per_tenant(app: DriplineApp) -> None:
    record(app, "tag_added", tag_id="t-1")
    app.record_crm_event(crm_event("tag_added", at=app.clock(), tenant_id="globex",
                                   tag_id="t-2"))
    assert contact(app).tags == {"t-1": "t-1"}
    assert contact(app, tenant_id="globex").tags == {"t-2": "t-2"}


def test_what_one_event_causes_is_stored_together_or_not_at_all(app: DriplineApp) -> None:
    trigger: dict[str, Any] = {"trigger_type": "tag_added", "trigger_data": {"tag_id": "t-1"}}
    new_sequence(app, "active", **trigger)
    new_sequence(app, "active", **trigger)
    record(app, "contact_updated", name="Ana")
    uow, [planned] = app.crm.plan([crm_event("tag_added", at=app.clock(), tag_id="t-1")])
    assert len(planned.enrolled) == 2
    # Meanwhile another event for the same contact is recorded first...
    record(app, "contact_updated", email="ana@example.com")
    before = stored_count(app)
    # ...so the planned contact change conflicts, and neither enrollment is stored either.
    with pytest.raises(IntegrityError):
        uow.commit()
    assert stored_count(app) == before
    assert open_enrollments(app) == []
