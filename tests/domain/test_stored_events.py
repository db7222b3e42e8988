"""Events are a storage format: what is stored now must load after classes are renamed or
moved, and events stored in an older shape must load after fields were added."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import _topic_cache, register_topic

from domain.application import DriplineApp
from domain.clock import ManualClock
from domain.codec import trigger
from domain.enrollment import Enrollment
from domain.sequence import DripSequence
from domain.steps import Step
from projections.storage.env import memory_env
from tests.domain.conftest import make_app
from tests.domain.support import state, step_body

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
Alter = Callable[[str, dict[str, Any]], tuple[str, dict[str, Any]]]


def store_altered(app: DriplineApp, aggregate: Aggregate, alter: Alter) -> None:
    """Store the aggregate's pending events after ``alter`` rewrote each (topic, state): the
    records an older version of the code would have written."""
    records = []
    for domain_event in aggregate.collect_events():
        stored = app.mapper.to_stored_event(domain_event)
        topic, body = alter(stored.topic, app.mapper.transcoder.decode(stored.state))
        records.append(StoredEvent(stored.originator_id, stored.originator_version, topic,
                                   app.mapper.transcoder.encode(body)))
    app.recorder.insert_events(records)


def new_sequence() -> DripSequence:
    return DripSequence.start(id=uuid4(), tenant_id="acme", name="Welcome", description="",
                        trigger_type="tag_added", trigger_data={"tag_id": "t-1"},
                        exit_on_reply=True,
                        reenrollment={"policy": "never", "cooldown_seconds": 0}, at=NOW,
                        cloned_from=None)


def new_enrollment() -> Enrollment:
    return Enrollment.start(id=uuid4(), tenant_id="acme", sequence_id=uuid4(), contact_id="c-1",
                      number=1, step_order=0, due_at=NOW, source="manual", at=NOW)


def _topic(event_class: Any) -> str:
    return str(event_class.TOPIC)


# --- renamed and moved classes -----------------------------------------------------------------


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return {**memory_env(), "SQLITE_DBNAME": str(tmp_path / "events.db")}


@pytest.fixture
def forget_sequence_topics(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call it to act as if ``DripSequence`` no longer existed under its name; the topic
    registry is restored after the test."""
    def forget() -> None:
        topics = [DripSequence.TOPIC] + [
            _topic(member) for name, member in vars(DripSequence).items()
            if isinstance(member, type) and issubclass(member, Aggregate.Event)
            and name != "Event"]
        for topic in topics:
            monkeypatch.delitem(_topic_cache, topic)
    return forget


def test_stored_events_load_into_a_renamed_class(
        sqlite_env: dict[str, str], clock: ManualClock,
        forget_sequence_topics: Callable[[], None]) -> None:
    # Written with today's classes, into a SQLite file...
    writer = make_app(clock, sqlite_env)
    sequence_id = _write_a_paused_sequence(writer)
    writer.close()

    # ...and read back by a class with another name, in another module, that keeps the topics.
    forget_sequence_topics()

    class Campaign(Aggregate):
        TOPIC = "dripline.DripSequence"

        class Created(Aggregate.Created):
            TOPIC = "sequence.created"
            tenant_id: str
            name: str

        class StepAdded(Aggregate.Event):
            TOPIC = "sequence.step_added"
            step: dict[str, Any]

        class Activated(Aggregate.Event):
            TOPIC = "sequence.activated"

        class Paused(Aggregate.Event):
            TOPIC = "sequence.paused"

        @event(Created)
        def __init__(self, tenant_id: str, name: str) -> None:
            self.tenant_id, self.name, self.status = tenant_id, name, "draft"
            self.step_names: list[str] = []

        @event(StepAdded)
        def add_step(self, step: dict[str, Any]) -> None:
            self.step_names.append(step["name"])

        @event(Activated)
        def activate(self) -> None:
            self.status = "active"

        @event(Paused)
        def pause(self) -> None:
            self.status = "paused"

    reader = make_app(clock, sqlite_env)
    try:
        loaded: Aggregate = reader.repository.get(sequence_id)
        assert isinstance(loaded, Campaign)
        assert (loaded.tenant_id, loaded.name, loaded.status) == ("acme", "Welcome", "paused")
        assert loaded.step_names == ["Step 0", "Step 1"]
        assert loaded.version == 5
    finally:
        reader.close()


def _write_a_paused_sequence(app: DriplineApp) -> UUID:
    sequence = app.create_sequence("acme", {"name": "Welcome",
                                            "steps": [step_body(0), step_body(1)]})
    app.activate_sequence("acme", sequence.id)
    app.pause_sequence("acme", sequence.id)
    return sequence.id


def test_the_same_file_loads_again_with_todays_classes(sqlite_env: dict[str, str],
                                                       clock: ManualClock) -> None:
    writer = make_app(clock, sqlite_env)
    sequence_id = _write_a_paused_sequence(writer)
    live = writer.get_sequence("acme", sequence_id)
    writer.close()
    reader = make_app(clock, sqlite_env)
    try:
        assert state(reader.get_sequence("acme", sequence_id)) == state(live)
    finally:
        reader.close()


def test_events_stored_under_old_module_paths_load_once_registered(app: DriplineApp) -> None:
    # Before explicit topics, the library stored "module:Class" paths. Records written under a
    # package that has since moved load once the old topics are registered.
    sequence = new_sequence()
    sequence.add_step(Step.from_dict(uuid4(), step_body(0)), NOW)
    sequence.activate(NOW)
    live = state(sequence)
    old = "dripline_v0.automation:Sequence"

    def old_topics(topic: str, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if "originator_topic" in body:
            body["originator_topic"] = old
        return f"{old}.{topic.split('.')[-1].title().replace('_', '')}", body

    store_altered(app, sequence, old_topics)
    registered = {old: DripSequence, f"{old}.Created": DripSequence.Created,
                  f"{old}.StepAdded": DripSequence.StepAdded,
                  f"{old}.Activated": DripSequence.Activated}
    try:
        for topic, cls in registered.items():
            register_topic(topic, cls)
        loaded: Aggregate = app.repository.get(sequence.id)
    finally:
        for topic in registered:
            _topic_cache.pop(topic, None)
    assert isinstance(loaded, DripSequence)
    assert state(loaded) == live


# --- older shapes --------------------------------------------------------------------------------


def _without(topic_name: str, *fields: str) -> Alter:
    def alter(topic: str, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if topic == topic_name:
            for name in fields:
                del body[name]
        return topic, body
    return alter


def test_an_exit_stored_before_it_had_a_detail_loads(app: DriplineApp) -> None:
    e = new_enrollment()
    e.exit("contact_replied", NOW, detail="replied on whatsapp")
    store_altered(app, e, _without("sequence.enrollment_exited", "detail"))
    loaded: Aggregate = app.repository.get(e.id)
    assert isinstance(loaded, Enrollment)
    assert (loaded.status, loaded.exit_reason, loaded.exited_at) == (
        "exited", "contact_replied", NOW)
    [exited] = [x for x in app.events.get(e.id) if isinstance(x, Enrollment.Exited)]
    assert exited.detail == ""


def test_a_pause_stored_before_by_sequence_existed_loads(app: DriplineApp) -> None:
    e = new_enrollment()
    e.pause(NOW, by_sequence=True)
    store_altered(app, e, _without("sequence.enrollment_paused", "by_sequence"))
    loaded: Aggregate = app.repository.get(e.id)
    assert isinstance(loaded, Enrollment)
    assert (loaded.status, loaded.paused_by_sequence) == ("paused", False)


def test_a_sequence_stored_before_windows_and_resume_policies_loads(app: DriplineApp) -> None:
    sequence = new_sequence()
    store_altered(app, sequence,
                  _without("sequence.created", "send_window", "resume_policy"))
    loaded = app.get_sequence("acme", sequence.id)
    assert (loaded.send_window, loaded.window, loaded.resume_policy) == (None, None,
                                                                         "send_late")
    assert loaded.name == "Welcome"


def test_a_step_stored_before_conditions_existed_loads(app: DriplineApp) -> None:
    sequence = new_sequence()
    sequence.add_step(Step.from_dict(uuid4(), step_body(0)), NOW)

    def old_step(topic: str, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if topic == "sequence.step_added":
            del body["step"]["conditions"], body["step"]["on_condition_fail"]
        return topic, body

    store_altered(app, sequence, old_step)
    [step] = app.get_sequence("acme", sequence.id).steps
    assert (step.conditions, step.on_condition_fail, step.name) == ((), "exit", "Step 0")


def test_an_event_with_a_missing_or_unknown_field_is_refused_before_it_is_recorded() -> None:
    enrollment = Enrollment.start(id=uuid4(), tenant_id="acme", sequence_id=uuid4(),
                                  contact_id="c-1", number=1, step_order=0, due_at=NOW,
                                  source="manual", at=NOW)
    with pytest.raises(TypeError, match=r"Enrollment\.Paused"):
        trigger(enrollment, Enrollment.Paused, {"at": NOW, "surprise": 1})
    with pytest.raises(TypeError, match=r"Enrollment\.Exited"):
        trigger(enrollment, Enrollment.Exited, {"at": NOW})  # no reason
    assert enrollment.version == 1
    assert len(enrollment.pending_events) == 1
    trigger(enrollment, Enrollment.Exited, {"at": NOW, "reason": "manual"})  # detail defaults
    exited = enrollment.pending_events[-1]
    assert isinstance(exited, Enrollment.Exited)
    assert (enrollment.version, enrollment.status, exited.detail) == (2, "exited", "")
