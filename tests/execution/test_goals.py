"""Goals and conversion tracking (CAPABILITIES §3), on the application itself: a goal event
converts the contact's enrollments whose revision has that goal, credits the last message
before it, exits at once where the goal says so, counts within the window after an
enrollment ended, once per enrollment, and exclusively for one enrollment per event."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from consumers.integration import integration_event
from domain import ids
from domain.application import DriplineApp
from domain.clock import ManualClock
from domain.contact import Contact
from domain.crm import CrmEvent
from domain.enrollment import Enrollment
from domain.errors import InvalidInputError
from domain.ids import contact_id
from projections.storage.urls import eventsourcing_env
from tests.execution.support import (
    TENANT,
    active_sequence,
    crm,
    enrollment,
    events_of,
    requests,
    run_out,
    settle,
    step,
)
from tests.execution.test_exits import Interleaved, two_processes  # noqa: F401 (a fixture)

WON = {"event_type": "pipeline_status_changed",
       "match": {"pipeline_id": "p-1", "status": "won"}}
PURCHASE = {"event_type": "custom_event",
            "match": {"name": "purchase", "properties.plan": "pro"}}


def reached(app: DriplineApp, enrollment_id: UUID) -> list[Enrollment.GoalReached]:
    return events_of(app, enrollment_id, Enrollment.GoalReached)


def won(app: DriplineApp, contact: str, **extra: Any) -> Any:
    return crm(app, "pipeline_status_changed", contact, pipeline_id="p-1", status="won",
               **extra)


def two_steps(app: DriplineApp, goal: dict[str, Any], **settings: Any) -> UUID:
    """Step 0 at once, step 1 three days later."""
    return active_sequence(app, [step(0, "hello"), step(1, "later", amount=3, unit="days")],
                           goal=goal, exit_on_reply=False, **settings)


def test_the_goal_exits_at_once_mid_delay_and_nothing_more_is_sent(
        app: DriplineApp, clock: ManualClock) -> None:
    """Acceptance 1."""
    sequence_id = two_steps(app, WON)
    enrolled = app.enroll(TENANT, sequence_id, "c-1").id
    [sent] = requests(app, enrolled)
    clock.advance(timedelta(hours=5))
    outcome = won(app, "c-1")
    assert outcome.converted == [enrolled]
    assert outcome.exited == [enrolled]
    e = enrollment(app, enrolled)
    assert (e.status, e.exit_reason, e.converted_at) == ("exited", "goal_reached", clock())
    [goal] = reached(app, enrolled)
    assert (goal.message_id, goal.step_order, goal.step_id) == (
        sent["message_id"], 0, sent["step_id"])
    assert (goal.variant, goal.holdout, goal.exclusive) == (None, False, True)
    assert (goal.event_type, goal.occurred_at) == ("pipeline_status_changed", clock())
    run_out(app, clock, [enrolled], timedelta(days=4))
    assert len(requests(app, enrolled)) == 1


def test_a_paused_enrollment_with_a_retry_pending_exits_too(app: DriplineApp,
                                                            clock: ManualClock) -> None:
    sequence_id = two_steps(app, WON)
    enrolled = app.enroll(TENANT, sequence_id, "c-1").id
    [sent] = requests(app, enrolled)
    crm(app, "message_failed", "c-1", message_id=sent["message_id"], error="busy")
    assert enrollment(app, enrolled).pending_retry is not None
    app.pause_enrollment(TENANT, enrolled)
    won(app, "c-1")
    e = enrollment(app, enrolled)
    assert (e.status, e.exit_reason, e.pending_retry, e.next_scheduled_at) == (
        "exited", "goal_reached", None, None)


def test_exit_on_goal_false_converts_and_goes_on(app: DriplineApp, clock: ManualClock) -> None:
    sequence_id = two_steps(app, {**WON, "exit_on_goal": False})
    enrolled = app.enroll(TENANT, sequence_id, "c-1").id
    outcome = won(app, "c-1")
    assert outcome.converted == [enrolled]
    assert outcome.exited == []
    assert enrollment(app, enrolled).status == "active"
    run_out(app, clock, [enrolled], timedelta(days=4))
    assert [r["content"] for r in requests(app, enrolled)] == ["hello", "later"]
    assert len(reached(app, enrolled)) == 1


def test_one_conversion_per_enrollment_and_duplicates_do_nothing(
        app: DriplineApp, clock: ManualClock) -> None:
    sequence_id = two_steps(app, {**WON, "exit_on_goal": False})
    enrolled = app.enroll(TENANT, sequence_id, "c-1").id
    event = CrmEvent(event_id="deal-1", type="pipeline_status_changed", tenant_id=TENANT,
                     contact_id="c-1", occurred_at=clock(),
                     data={"pipeline_id": "p-1", "status": "won"})
    app.record_crm_event(event)
    assert app.record_crm_event(event).status == "duplicate"
    clock.advance(timedelta(hours=1))
    assert won(app, "c-1").converted == []  # a later goal event: converted already
    assert [g.event_id for g in reached(app, enrolled)] == ["deal-1"]


def test_within_the_window_after_completion_counts_and_past_it_does_not(
        app: DriplineApp, clock: ManualClock) -> None:
    """Acceptance 3: a window of 168 hours."""
    sequence_id = active_sequence(app, [step(0, "only")], goal=WON)
    first = app.enroll(TENANT, sequence_id, "c-1").id
    second = app.enroll(TENANT, sequence_id, "c-2").id
    assert settle(app, clock, first).status == "completed"
    app.execute_due([second])
    ended = enrollment(app, first).completed_at
    assert ended is not None
    assert enrollment(app, second).completed_at == ended
    clock.set(ended + timedelta(hours=167))
    assert won(app, "c-1").converted == [first]
    clock.set(ended + timedelta(hours=169))
    assert won(app, "c-2").converted == []
    e = enrollment(app, first)
    assert (e.status, e.converted_at) == ("completed", ended + timedelta(hours=167))
    assert reached(app, second) == []


def test_a_goal_before_the_contact_entered_does_not_count(app: DriplineApp,
                                                          clock: ManualClock) -> None:
    sequence_id = two_steps(app, WON)
    enrolled = app.enroll(TENANT, sequence_id, "c-1").id
    early = clock() - timedelta(seconds=2)
    app.record_crm_event(CrmEvent(event_id="old-deal", type="pipeline_status_changed",
                                  tenant_id=TENANT, contact_id="c-1", occurred_at=early,
                                  data={"pipeline_id": "p-1", "status": "won"}))
    assert reached(app, enrolled) == []
    assert enrollment(app, enrolled).status == "active"


def test_a_sequence_exited_otherwise_converts_but_not_after_deletion(
        app: DriplineApp, clock: ManualClock) -> None:
    sequence_id = two_steps(app, WON)
    manual = app.enroll(TENANT, sequence_id, "c-1").id
    deleted = app.enroll(TENANT, sequence_id, "c-2").id
    app.exit_enrollment(TENANT, manual)
    crm(app, "contact_deleted", "c-2")
    clock.advance(timedelta(hours=1))
    assert won(app, "c-1").converted == [manual]
    assert enrollment(app, manual).exit_reason == "manual_exit"  # an ended one stays so
    assert won(app, "c-2").status == "ignored"  # the CRM deleted the contact
    assert reached(app, deleted) == []


def test_the_match_must_hold_on_every_key(app: DriplineApp, clock: ManualClock) -> None:
    sequence_id = two_steps(app, PURCHASE)
    enrolled = app.enroll(TENANT, sequence_id, "c-1").id
    crm(app, "custom_event", "c-1", name="purchase", properties={"plan": "basic"})
    crm(app, "custom_event", "c-1", name="refund", properties={"plan": "pro"})
    crm(app, "pipeline_status_changed", "c-1", pipeline_id="p-1", status="won")
    assert reached(app, enrolled) == []
    outcome = crm(app, "custom_event", "c-1", name="purchase",
                  properties={"plan": "pro", "seats": 3})
    assert outcome.converted == [enrolled]
    assert enrollment(app, enrolled).exit_reason == "goal_reached"


def test_the_contact_keeps_a_custom_event_s_name_and_time_only(app: DriplineApp,
                                                               clock: ManualClock) -> None:
    crm(app, "custom_event", "c-1", name="purchase", properties={"card": "4242"})
    [fact] = [e for e in app.events.get(contact_id(TENANT, "c-1"))
              if isinstance(e, Contact.CustomEventHappened)]
    assert (fact.name, fact.occurred_at) == ("purchase", clock())
    assert "4242" not in repr(vars(fact))
    with pytest.raises(InvalidInputError) as refused:
        crm(app, "custom_event", "c-1", properties={"plan": "pro"})
    assert refused.value.field == "data.name"
    with pytest.raises(InvalidInputError) as refused:
        crm(app, "custom_event", "c-1", name="x", properties={f"k{i}": i for i in range(51)})
    assert refused.value.field == "data.properties"


def test_two_sequences_each_convert_and_one_is_exclusive(app: DriplineApp,
                                                         clock: ManualClock) -> None:
    """Acceptance 4: each sequence credits its own enrollment; exactly one of them is
    exclusive, the one with the latest message before the event."""
    first = two_steps(app, WON)
    second = two_steps(app, WON)
    earlier = app.enroll(TENANT, first, "c-1").id
    clock.advance(timedelta(hours=1))
    later = app.enroll(TENANT, second, "c-1").id
    clock.advance(timedelta(hours=1))
    outcome = won(app, "c-1")
    assert sorted(outcome.converted) == sorted([earlier, later])
    [a], [b] = reached(app, earlier), reached(app, later)
    assert (a.exclusive, b.exclusive) == (False, True)
    assert a.event_id == b.event_id


def test_without_messages_the_later_enrollment_is_exclusive(app: DriplineApp,
                                                            clock: ManualClock) -> None:
    delayed = [step(0, "in a day", amount=1, unit="days")]
    first = active_sequence(app, delayed, goal=WON)
    second = active_sequence(app, delayed, goal=WON)
    earlier = app.enroll(TENANT, first, "c-1").id
    clock.advance(timedelta(minutes=5))
    later = app.enroll(TENANT, second, "c-1").id
    won(app, "c-1")
    [a], [b] = reached(app, earlier), reached(app, later)
    assert (a.exclusive, a.message_id, a.step_order) == (False, None, None)
    assert b.exclusive


def test_the_event_that_enrolls_never_converts_that_enrollment(app: DriplineApp,
                                                               clock: ManualClock) -> None:
    """Acceptance 6: the trigger is also the goal."""
    goal = {"event_type": "tag_added", "match": {"tag_name": "vip"}}
    active_sequence(app, [step(0, "welcome"), step(1, "later", amount=1, unit="days")],
                    trigger_type="tag_added", trigger_data={"tag_name": "vip"}, goal=goal)
    outcome = crm(app, "tag_added", "c-1", tag_name="vip")
    [enrolled] = outcome.enrolled
    assert outcome.converted == []
    assert reached(app, enrolled) == []
    assert enrollment(app, enrolled).status == "active"
    clock.advance(timedelta(minutes=1))
    assert crm(app, "tag_added", "c-1", tag_name="vip").converted == [enrolled]


def test_an_enrollment_follows_the_goal_of_its_own_revision(app: DriplineApp,
                                                            clock: ManualClock) -> None:
    sequence_id = two_steps(app, WON)
    old = app.enroll(TENANT, sequence_id, "c-1").id
    app.revisions.create_revision(TENANT, sequence_id)
    app.revisions.update_revision(TENANT, sequence_id, 2, {"goal": PURCHASE})
    app.revisions.publish_revision(TENANT, sequence_id, 2)
    new = app.enroll(TENANT, sequence_id, "c-2").id
    assert app.get_sequence(TENANT, sequence_id).goal == {
        **PURCHASE, "attribution_window_hours": 168, "exit_on_goal": True}
    crm(app, "custom_event", "c-1", name="purchase", properties={"plan": "pro"})
    won(app, "c-2")
    assert reached(app, old) == []
    assert reached(app, new) == []
    won(app, "c-1")
    crm(app, "custom_event", "c-2", name="purchase", properties={"plan": "pro"})
    assert [len(reached(app, old)), len(reached(app, new))] == [1, 1]


@pytest.mark.parametrize("kind", ["message_opened", "contact_deleted", "contact_unsubscribed",
                                  "page_viewed"])
def test_a_goal_on_a_refused_event_type_names_the_field(app: DriplineApp, kind: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        app.create_sequence(TENANT, {"name": "s", "goal": {"event_type": kind,
                                                          "match": {"a": "b"}}})
    assert refused.value.field == "goal.event_type"


@pytest.mark.parametrize(("goal", "field"), [
    ({"event_type": "tag_added", "match": {}}, "goal.match"),
    ({"event_type": "tag_added", "match": {f"k{i}": "v" for i in range(11)}}, "goal.match"),
    ({"event_type": "tag_added", "match": {"tag_name": 5}}, "goal.match.tag_name"),
    ({"event_type": "tag_added", "match": {"a..b": "x"}}, "goal.match.a..b"),
    ({**WON, "attribution_window_hours": 2161}, "goal.attribution_window_hours"),
    ({**WON, "attribution_window_hours": 0}, "goal.attribution_window_hours"),
    ({**WON, "exit_on_goal": "yes"}, "goal.exit_on_goal"),
    ({**WON, "extra": 1}, "goal.extra"),
])
def test_a_bad_goal_names_its_field(app: DriplineApp, goal: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        app.create_sequence(TENANT, {"name": "s", "goal": goal})
    assert refused.value.field == field


def test_a_conversion_goes_out_as_an_integration_event_with_ids_only(
        app: DriplineApp, clock: ManualClock) -> None:
    sequence_id = two_steps(app, PURCHASE)
    enrolled = app.enroll(TENANT, sequence_id, "c-1").id
    crm(app, "custom_event", "c-1", name="purchase",
        properties={"plan": "pro", "card": "zephyr-4242"})
    created = events_of(app, enrolled, Enrollment.Created)[0]
    [goal] = reached(app, enrolled)
    published = integration_event(goal, created)
    assert published is not None
    body = published.body
    assert body["type"] == "enrollment.goal_reached"
    assert {k: body[k] for k in ("tenant_id", "contact_id", "sequence_id", "enrollment_id",
                                 "goal_event_type", "step_order", "exclusive", "holdout",
                                 "variant", "revision")} == {
        "tenant_id": TENANT, "contact_id": "c-1", "sequence_id": str(sequence_id),
        "enrollment_id": str(enrolled), "goal_event_type": "custom_event", "step_order": 0,
        "exclusive": True, "holdout": False, "variant": None, "revision": 1}
    assert body["goal_event_id"] == goal.event_id
    assert "zephyr" not in json.dumps(body)  # the event's data never goes out
    [exited] = events_of(app, enrolled, Enrollment.Exited)
    left = integration_event(exited, created)
    assert left is not None
    assert left.body["reason"] == "goal_reached"


def test_a_goal_met_while_the_scheduler_holds_the_enrollment_wins(
        two_processes: tuple[DriplineApp, DriplineApp, Interleaved],  # noqa: F811 (fixture)
        clock: ManualClock) -> None:
    """The scheduler loads the enrollment to send step 1; meanwhile the goal is met and it
    exits. The scheduler's write meets a newer version, decides again, and sends nothing."""
    intake, scheduler, window = two_processes
    enrolled = intake.enroll(TENANT, two_steps(intake, WON), "c-1").id
    clock.advance(timedelta(days=3))
    window.meanwhile = lambda: won(intake, "c-1")
    assert scheduler.execute_due([enrolled]) == []
    assert [r["content"] for r in requests(intake, enrolled)] == ["hello"]
    assert enrollment(intake, enrolled).exit_reason == "goal_reached"


def test_a_goal_met_while_the_contact_is_enrolled_again_converts_the_new_one(
        tmp_path: Path, clock: ManualClock) -> None:
    """The goal reads the contact's current enrollment of each sequence; a re-enrollment
    written meanwhile makes it decide again, so the open enrollment converts (and exits)."""
    env = eventsourcing_env(f"sqlite:///{tmp_path}/race.db")
    intake, other = DriplineApp(env=env, clock=clock), DriplineApp(env=env, clock=clock)
    window = Interleaved(intake.core.store)
    intake.core.store = window
    try:
        sid = active_sequence(other, [step(0, "hi"), step(1, "later", amount=3, unit="days")],
                              goal=WON, reenrollment={"policy": "always"})
        first = other.enroll(TENANT, sid, "c-1").id
        other.exit_enrollment(TENANT, first)  # ended, still within the window
        clock.advance(timedelta(minutes=5))
        made: dict[str, UUID] = {}
        window.after = ids.slot_id(sid, "c-1")
        window.meanwhile = lambda: made.setdefault("again", other.enroll(TENANT, sid, "c-1").id)
        crm(intake, "pipeline_status_changed", "c-1", pipeline_id="p-1", status="won")
        again = enrollment(other, made["again"])
        assert (again.status, again.exit_reason) == ("exited", "goal_reached")
        assert enrollment(other, first).converted_at is None
    finally:
        intake.close()
        other.close()
