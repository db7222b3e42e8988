"""Every event of the seed (12) exists with a stable, explicit topic, is what the matching
command emits, and is what the store records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.utils import resolve_topic

from domain.application import DriplineApp
from domain.contact import Contact
from domain.enrollment import Enrollment
from domain.sequence import DripSequence
from domain.slot import EnrollmentSlot
from domain.steps import Step
from tests.domain.support import step_body

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)

# The seed's twelve events, by the seed's name, and the class that records each.
SEED_EVENTS: dict[str, type[Aggregate.Event]] = {
    "sequence.created": DripSequence.Created,
    "sequence.activated": DripSequence.Activated,
    "sequence.paused": DripSequence.Paused,
    "sequence.resumed": DripSequence.Resumed,
    "sequence.archived": DripSequence.Archived,
    "sequence.step_added": DripSequence.StepAdded,
    "sequence.contact_enrolled": Enrollment.Created,
    "sequence.enrollment_advanced": Enrollment.Advanced,
    "sequence.enrollment_completed": Enrollment.Completed,
    "sequence.enrollment_exited": Enrollment.Exited,
    "sequence.enrollment_paused": Enrollment.Paused,
    "sequence.enrollment_resumed": Enrollment.Resumed,
}

AGGREGATE_TOPICS = {DripSequence: "dripline.DripSequence", Enrollment: "dripline.Enrollment",
                    Contact: "dripline.Contact", EnrollmentSlot: "dripline.EnrollmentSlot"}


@pytest.mark.parametrize(("topic", "event_class"), SEED_EVENTS.items())
def test_each_seed_event_has_its_stable_topic(topic: str,
                                              event_class: type[Aggregate.Event]) -> None:
    assert topic == event_class.TOPIC  # type: ignore[attr-defined]
    assert resolve_topic(topic) is event_class


def test_aggregate_topics_are_explicit_and_stable() -> None:
    for aggregate, topic in AGGREGATE_TOPICS.items():
        assert topic == aggregate.TOPIC  # type: ignore[attr-defined]
        assert resolve_topic(topic) is aggregate


def test_every_event_class_has_its_own_topic() -> None:
    topics: list[str] = []
    for aggregate in AGGREGATE_TOPICS:
        for name, member in vars(aggregate).items():
            if (isinstance(member, type) and issubclass(member, Aggregate.Event)
                    and name not in ("Event", "Fact")):
                topic = member.TOPIC  # type: ignore[attr-defined]
                assert ":" not in topic, f"{member} would store a module path"
                topics.append(topic)
    assert len(topics) == len(set(topics))
    assert set(SEED_EVENTS) <= set(topics)


def _emitted(aggregate: Aggregate) -> list[str]:
    return [type(e).TOPIC for e in aggregate.collect_events()]  # type: ignore[attr-defined]


def test_sequence_commands_emit_the_seed_events() -> None:
    sequence = DripSequence.start(id=uuid4(), tenant_id="acme", name="S", description="",
                            trigger_type="manual", trigger_data={}, exit_on_reply=True,
                            reenrollment={"policy": "never", "cooldown_seconds": 0}, at=NOW,
                            cloned_from=None)
    sequence.add_step(Step.from_dict(uuid4(), step_body(0)), NOW)
    sequence.activate(NOW)
    sequence.pause(NOW)
    sequence.resume(NOW)
    sequence.archive(NOW)
    assert _emitted(sequence) == ["sequence.created", "sequence.step_added",
                                  "sequence.activated", "sequence.paused", "sequence.resumed",
                                  "sequence.archived"]


def test_enrollment_commands_emit_the_seed_events() -> None:
    def fresh() -> Enrollment:
        return Enrollment.start(id=uuid4(), tenant_id="acme", sequence_id=uuid4(), contact_id="c",
                          number=1, step_order=0, due_at=NOW, source="manual", at=NOW)
    e = fresh()
    e.advance(1, NOW + timedelta(days=1), NOW)
    e.pause(NOW)
    e.resume(NOW, NOW)
    e.complete(NOW)
    assert _emitted(e) == ["sequence.contact_enrolled", "sequence.enrollment_advanced",
                           "sequence.enrollment_paused", "sequence.enrollment_resumed",
                           "sequence.enrollment_completed"]
    other = fresh()
    other.exit("manual_exit", NOW)
    assert _emitted(other) == ["sequence.contact_enrolled", "sequence.enrollment_exited"]


def test_the_store_records_the_explicit_topics(app: DriplineApp) -> None:
    sequence = app.create_sequence("acme", {"name": "S", "steps": [step_body(0)]})
    app.activate_sequence("acme", sequence.id)
    app.enroll("acme", sequence.id, "c-1")
    stored = app.recorder.select_notifications(start=1, limit=100)
    assert sorted(n.topic for n in stored) == sorted([
        "sequence.created", "sequence.step_added", "sequence.activated",
        "enrollment_slot.created", "sequence.contact_enrolled"])
    # The created events name their aggregate by its explicit topic, not a module path.
    events = [app.mapper.to_domain_event(n) for n in stored]
    assert {getattr(e, "originator_topic", None) for e in events} - {None} == {
        "dripline.DripSequence", "dripline.EnrollmentSlot", "dripline.Enrollment"}
