"""DripSequence: creation rules, every lifecycle transition, draft-only editing, clone, delete.

Driven through the application on the in-memory store, so each test also shows what was (or
was not) stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError

from domain.application import DriplineApp
from domain.clock import ManualClock
from domain.errors import (
    ConcurrencyConflictError,
    DomainError,
    DuplicateStepOrderError,
    InvalidInputError,
    InvalidTransitionError,
    SequenceHasNoStepsError,
    SequenceNotDraftError,
    SequenceNotFoundError,
    StepNotFoundError,
)
from domain.sequence import DripSequence
from domain.triggers import ReEnrollment
from tests.domain.support import state, step_body, stored_count

T = "acme"


def new_sequence(app: DriplineApp, status: str = "draft", steps: int = 1,
                 **data: Any) -> DripSequence:
    """A sequence brought to ``status`` through the commands a user would call."""
    body = {"name": "Welcome", "steps": [step_body(i) for i in range(steps)], **data}
    sequence = app.create_sequence(T, body)
    if status in ("active", "paused"):
        app.activate_sequence(T, sequence.id)
    if status == "paused":
        app.pause_sequence(T, sequence.id)
    if status == "archived":
        app.archive_sequence(T, sequence.id)
    return app.get_sequence(T, sequence.id)


# --- creation ------------------------------------------------------------------------------------


def test_a_new_sequence_is_a_draft_with_the_defaults(app: DriplineApp,
                                                     clock: ManualClock) -> None:
    sequence = app.create_sequence(T, {"name": "  Welcome  ", "description": "onboarding"})

    loaded = app.get_sequence(T, sequence.id)
    assert loaded.status == "draft"
    assert loaded.name == "Welcome"
    assert loaded.tenant_id == T
    assert loaded.description == "onboarding"
    assert loaded.exit_on_reply is True
    assert loaded.trigger_type == "manual"
    assert loaded.trigger_data == {}
    assert loaded.reenrollment == ReEnrollment(policy="never", cooldown_seconds=0)
    assert loaded.steps == []
    assert loaded.created_at == loaded.updated_at == clock()
    assert loaded.cloned_from is None


def test_exit_on_reply_can_be_turned_off(app: DriplineApp) -> None:
    sequence = app.create_sequence(T, {"name": "Quiet", "exit_on_reply": False})
    assert app.get_sequence(T, sequence.id).exit_on_reply is False


@pytest.mark.parametrize(("data", "field", "says"), [
    ({}, "name", "required"),
    ({"name": ""}, "name", "required"),
    ({"name": "   "}, "name", "required"),
    ({"name": 42}, "name", "must be a string"),
    ({"name": "x" * 201}, "name", "at most 200"),
    ({"name": "ok", "exit_on_reply": "yes"}, "exit_on_reply", "true or false"),
    ({"name": "ok", "colour": "red"}, "colour", "unknown field"),
    ({"name": "ok", "trigger_type": "webhook"}, "trigger_type", "must be one of"),
    ({"name": "ok", "reenrollment": {"policy": "sometimes"}}, "reenrollment.policy",
     "must be one of"),
    ({"name": "ok", "reenrollment": {"policy": "always", "cooldown_seconds": -1}},
     "reenrollment.cooldown_seconds", "between 0"),
])
def test_invalid_settings_are_refused_and_nothing_is_stored(
        app: DriplineApp, data: dict[str, Any], field: str, says: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        app.create_sequence(T, data)
    assert caught.value.field == field
    assert says in str(caught.value)
    assert stored_count(app) == 0


@pytest.mark.parametrize("tenant", ["", "   "])
def test_a_sequence_needs_a_tenant(app: DriplineApp, tenant: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        app.create_sequence(tenant, {"name": "Welcome"})
    assert caught.value.field == "tenant_id"
    assert "must be 1-64 characters" in str(caught.value)
    assert stored_count(app) == 0


@pytest.mark.parametrize(("trigger_type", "trigger_data"), [
    ("manual", {}),
    ("tag_added", {"tag_id": "t-1"}),
    ("tag_added", {"tag_name": "cold-lead"}),
    ("tag_added", {"tag_id": "t-1", "tag_name": "cold-lead"}),
    ("list_joined", {"list_id": "l-1", "list_name": "newsletter"}),
    ("form_submit", {"form_id": "f-1", "form_name": "trial"}),
    ("pipeline_entered", {"pipeline_id": "p-1"}),
])
def test_each_trigger_type_with_its_data(app: DriplineApp, trigger_type: str,
                                         trigger_data: dict[str, str]) -> None:
    sequence = app.create_sequence(T, {"name": "S", "trigger_type": trigger_type,
                                       "trigger_data": trigger_data})
    loaded = app.get_sequence(T, sequence.id)
    assert (loaded.trigger_type, loaded.trigger_data) == (trigger_type, trigger_data)


@pytest.mark.parametrize(("trigger_type", "trigger_data", "field", "says"), [
    ("tag_added", {}, "trigger_data.tag_id", "tag_id or tag_name"),
    ("list_joined", {"list_name": "newsletter"}, "trigger_data.list_id", "list_id"),
    ("form_submit", {"form_name": "trial"}, "trigger_data.form_id", "form_id"),
    ("pipeline_entered", {}, "trigger_data.pipeline_id", "pipeline_id"),
    ("manual", {"tag_id": "t-1"}, "trigger_data.tag_id", "unknown field"),
    ("list_joined", {"list_id": "l-1", "tag_id": "t"}, "trigger_data.tag_id", "unknown field"),
    ("tag_added", {"tag_id": ""}, "trigger_data.tag_id", "required"),
    ("tag_added", {"tag_id": 7}, "trigger_data.tag_id", "must be a string"),
    ("tag_added", ["t-1"], "trigger_data", "must be an object"),
])
def test_trigger_data_is_validated_for_its_type(
        app: DriplineApp, trigger_type: str, trigger_data: object, field: str,
        says: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        app.create_sequence(T, {"name": "S", "trigger_type": trigger_type,
                                "trigger_data": trigger_data})
    assert caught.value.field == field
    assert says in str(caught.value)
    assert stored_count(app) == 0


def test_create_with_steps_stores_them_in_order(app: DriplineApp) -> None:
    sequence = app.create_sequence(T, {"name": "S", "steps": [step_body(2), step_body(0),
                                                              step_body(1)]})
    loaded = app.get_sequence(T, sequence.id)
    assert [s.order for s in loaded.steps] == [0, 1, 2]
    assert len({s.id for s in loaded.steps}) == 3
    assert loaded.first_step() == loaded.current.step_at(0)
    assert loaded.current.step_after(0) == loaded.current.step_at(1)
    assert loaded.current.step_after(2) is None


def test_a_bad_step_in_create_stores_nothing_at_all(app: DriplineApp) -> None:
    with pytest.raises(InvalidInputError) as caught:
        app.create_sequence(T, {"name": "S", "steps": [step_body(0),
                                                       step_body(1, delay_amount=-5)]})
    assert caught.value.field == "steps[1].delay_amount"
    assert stored_count(app) == 0


def test_two_steps_with_one_order_in_create_are_refused(app: DriplineApp) -> None:
    with pytest.raises(InvalidInputError) as caught:
        app.create_sequence(T, {"name": "S", "steps": [step_body(0), step_body(0)]})
    assert caught.value.field == "steps[1].order"
    assert "also used by steps[0]" in str(caught.value)
    assert stored_count(app) == 0


# --- transitions ---------------------------------------------------------------------------------

ALLOWED = {
    ("draft", "activate"): "active",
    ("active", "pause"): "paused",
    ("paused", "resume"): "active",
    ("draft", "archive"): "archived",
    ("active", "archive"): "archived",
    ("paused", "archive"): "archived",
}


def _run(app: DriplineApp, command: str, sequence_id: UUID) -> None:
    getattr(app, f"{command}_sequence")(T, sequence_id)


@pytest.mark.parametrize("start", ["draft", "active", "paused", "archived"])
@pytest.mark.parametrize("command", ["activate", "pause", "resume", "archive"])
def test_every_transition_is_allowed_or_a_named_error(app: DriplineApp, start: str,
                                                      command: str) -> None:
    sequence = new_sequence(app, start)
    before = stored_count(app)
    if (start, command) in ALLOWED:
        _run(app, command, sequence.id)
        assert app.get_sequence(T, sequence.id).status == ALLOWED[start, command]
        return
    with pytest.raises(InvalidTransitionError) as caught:
        _run(app, command, sequence.id)
    assert f"cannot {command} sequence" in str(caught.value)
    assert f"it is {start}" in str(caught.value)
    assert app.get_sequence(T, sequence.id).status == start
    assert stored_count(app) == before


def test_archived_is_final(app: DriplineApp) -> None:
    sequence = new_sequence(app, "archived")
    for command in ("activate", "pause", "resume", "archive"):
        with pytest.raises(InvalidTransitionError):
            _run(app, command, sequence.id)
    with pytest.raises(SequenceNotDraftError):
        app.delete_sequence(T, sequence.id)
    with pytest.raises(SequenceNotDraftError):
        app.add_step(T, sequence.id, step_body(5))
    assert app.get_sequence(T, sequence.id).status == "archived"


def test_activation_needs_a_step(app: DriplineApp) -> None:
    sequence = app.create_sequence(T, {"name": "Empty"})
    before = stored_count(app)
    with pytest.raises(SequenceHasNoStepsError) as caught:
        app.activate_sequence(T, sequence.id)
    assert "add at least one step" in str(caught.value)
    assert app.get_sequence(T, sequence.id).status == "draft"
    assert stored_count(app) == before


def test_removing_the_last_step_makes_activation_fail_again(app: DriplineApp) -> None:
    sequence = new_sequence(app, "draft", steps=1)
    app.remove_step(T, sequence.id, sequence.steps[0].id)
    with pytest.raises(SequenceHasNoStepsError):
        app.activate_sequence(T, sequence.id)


def test_lifecycle_times_come_from_the_clock(app: DriplineApp, clock: ManualClock) -> None:
    from datetime import timedelta
    sequence = new_sequence(app, "draft")
    clock.advance(timedelta(hours=2))
    app.activate_sequence(T, sequence.id)
    loaded = app.get_sequence(T, sequence.id)
    assert loaded.activated_at == loaded.updated_at == clock()
    assert loaded.created_at == clock() - timedelta(hours=2)


# --- draft-only editing --------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["active", "paused", "archived"])
def test_steps_and_settings_change_only_in_draft(app: DriplineApp, status: str) -> None:
    sequence = new_sequence(app, status, steps=2)
    step_id = sequence.steps[0].id
    before = stored_count(app)
    attempts: list[Callable[[], object]] = [
        lambda: app.add_step(T, sequence.id, step_body(9)),
        lambda: app.update_step(T, sequence.id, step_id, {"name": "New"}),
        lambda: app.remove_step(T, sequence.id, step_id),
        lambda: app.update_sequence(T, sequence.id, {"name": "Renamed"}),
        lambda: app.delete_sequence(T, sequence.id),
    ]
    for attempt in attempts:
        with pytest.raises(SequenceNotDraftError) as caught:
            attempt()
        assert f"is {status}; only a draft can" in str(caught.value)
        assert "create a revision" in str(caught.value)
    assert stored_count(app) == before
    assert state(app.get_sequence(T, sequence.id)) == state(sequence)


def test_add_update_and_remove_steps_in_draft(app: DriplineApp) -> None:
    sequence = new_sequence(app, "draft", steps=0)
    _, first = app.add_step(T, sequence.id, step_body(0, name="Welcome"))
    _, second = app.add_step(T, sequence.id, step_body(1, name="Follow up"))

    _, changed = app.update_step(T, sequence.id, first.id,
                                 {"delay_amount": 3, "delay_unit": "hours"})
    assert changed.id == first.id
    assert (changed.name, changed.delay_amount, changed.delay_unit) == ("Welcome", 3, "hours")
    assert changed.message_template == first.message_template

    app.remove_step(T, sequence.id, second.id)
    loaded = app.get_sequence(T, sequence.id)
    assert loaded.steps == [changed]


def test_replacing_the_steps_records_one_event_per_step_that_changes(app: DriplineApp) -> None:
    sequence = new_sequence(app, "draft", steps=3)
    s0, s1, s2 = sequence.steps
    listed = [{**step_body(0, name="Moved up"), "id": str(s2.id)},
              {**step_body(1, name="Step 0"), "id": str(s0.id)},  # s0 as it was, but its order
              step_body(2, name="New")]
    replaced = app.replace_steps(T, sequence.id, listed, expected_version=sequence.version)
    kinds = [type(e).__name__ for e in app.events.get(sequence.id, gt=sequence.version)]
    # Removals first, then changes, then additions; s1 (left out) goes, nothing for the rest.
    assert kinds == ["StepRemoved", "StepUpdated", "StepUpdated", "StepAdded"]
    assert [(s.name, s.order) for s in replaced.steps] == [("Moved up", 0), ("Step 0", 1),
                                                           ("New", 2)]
    assert [s.id for s in replaced.steps][:2] == [s2.id, s0.id]
    assert s1.id not in {s.id for s in app.get_sequence(T, sequence.id).steps}
    before = stored_count(app)
    again = [step.to_dict() for step in replaced.steps]
    app.replace_steps(T, sequence.id, again)
    assert stored_count(app) == before  # the same list: nothing to record


def test_step_order_is_unique_on_add_and_on_update(app: DriplineApp) -> None:
    sequence = new_sequence(app, "draft", steps=2)
    before = stored_count(app)
    with pytest.raises(DuplicateStepOrderError) as caught:
        app.add_step(T, sequence.id, step_body(1, name="Clash"))
    assert "step order 1 is already used by step 'Step 1'" in str(caught.value)
    with pytest.raises(DuplicateStepOrderError):
        app.update_step(T, sequence.id, sequence.steps[0].id, {"order": 1})
    assert stored_count(app) == before

    # A step keeps its own order when updated, and may move to a free one.
    app.update_step(T, sequence.id, sequence.steps[0].id, {"order": 0, "name": "Same"})
    app.update_step(T, sequence.id, sequence.steps[0].id, {"order": 5})
    assert [s.order for s in app.get_sequence(T, sequence.id).steps] == [1, 5]


def test_an_invalid_step_update_changes_nothing(app: DriplineApp) -> None:
    sequence = new_sequence(app, "draft", steps=1)
    before = stored_count(app)
    with pytest.raises(InvalidInputError) as caught:
        app.update_step(T, sequence.id, sequence.steps[0].id, {"delay_unit": "weeks"})
    assert caught.value.field == "delay_unit"
    assert stored_count(app) == before


def test_unknown_steps_are_not_found(app: DriplineApp) -> None:
    sequence = new_sequence(app, "draft")
    missing = uuid4()
    with pytest.raises(StepNotFoundError) as caught:
        app.remove_step(T, sequence.id, missing)
    assert str(missing) in str(caught.value)
    with pytest.raises(StepNotFoundError):
        app.update_step(T, sequence.id, missing, {"name": "x"})


def test_update_settings_in_draft(app: DriplineApp) -> None:
    sequence = new_sequence(app, "draft", trigger_type="tag_added",
                            trigger_data={"tag_id": "t-1"})
    app.update_sequence(T, sequence.id, {"name": "New name", "exit_on_reply": False,
                                         "reenrollment": {"policy": "always",
                                                          "cooldown_seconds": 60}})
    loaded = app.get_sequence(T, sequence.id)
    assert (loaded.name, loaded.exit_on_reply) == ("New name", False)
    assert loaded.reenrollment == ReEnrollment("always", 60)
    assert loaded.trigger_data == {"tag_id": "t-1"}

    # Changing the trigger type needs data for the new type.
    with pytest.raises(InvalidInputError) as caught:
        app.update_sequence(T, sequence.id, {"trigger_type": "list_joined"})
    assert caught.value.field == "trigger_data.list_id"
    app.update_sequence(T, sequence.id, {"trigger_type": "list_joined",
                                         "trigger_data": {"list_id": "l-1"}})
    assert app.get_sequence(T, sequence.id).trigger_data == {"list_id": "l-1"}


def test_the_aggregate_refuses_unknown_settings(app: DriplineApp, clock: ManualClock) -> None:
    sequence = new_sequence(app, "draft")
    with pytest.raises(ValueError, match="not settings of this sequence"):
        sequence.update({"status": "active"}, clock())
    assert sequence.status == "draft"


# --- delete and clone -----------------------------------------------------------------------------


def test_a_deleted_draft_is_gone(app: DriplineApp) -> None:
    sequence = new_sequence(app, "draft")
    app.delete_sequence(T, sequence.id)
    with pytest.raises(SequenceNotFoundError):
        app.get_sequence(T, sequence.id)
    with pytest.raises(SequenceNotFoundError):
        app.activate_sequence(T, sequence.id)
    with pytest.raises(SequenceNotFoundError):
        app.clone_sequence(T, sequence.id)


def test_clone_in_the_same_tenant(app: DriplineApp) -> None:
    source = new_sequence(app, "active", steps=2, trigger_type="tag_added",
                          trigger_data={"tag_name": "vip"}, exit_on_reply=False,
                          reenrollment={"policy": "after_exit"})
    clone = app.clone_sequence(T, source.id)

    loaded = app.get_sequence(T, clone.id)
    assert loaded.id != source.id
    assert loaded.status == "draft"
    assert loaded.name == "Welcome (copy)"
    assert loaded.cloned_from == source.id
    assert (loaded.trigger_type, loaded.trigger_data) == ("tag_added", {"tag_name": "vip"})
    assert loaded.exit_on_reply is False
    assert loaded.reenrollment == source.reenrollment
    assert {s.id for s in loaded.steps}.isdisjoint({s.id for s in source.steps})
    same = [(s.order, s.name, s.delay_amount, s.delay_unit, s.message_template, s.conditions,
             s.on_condition_fail) for s in loaded.steps]
    assert same == [(s.order, s.name, s.delay_amount, s.delay_unit, s.message_template,
                     s.conditions, s.on_condition_fail) for s in source.steps]
    # The source is untouched and the clone is editable.
    assert app.get_sequence(T, source.id).status == "active"
    app.add_step(T, clone.id, step_body(7))


def test_clone_into_another_tenant(app: DriplineApp) -> None:
    source = new_sequence(app, "draft")
    clone = app.clone_sequence(T, source.id, name="Theirs", target_tenant_id="globex")
    assert app.get_sequence("globex", clone.id).name == "Theirs"
    assert app.get_sequence("globex", clone.id).tenant_id == "globex"
    with pytest.raises(SequenceNotFoundError):
        app.get_sequence(T, clone.id)
    # Another tenant cannot clone (or see) ours.
    with pytest.raises(SequenceNotFoundError):
        app.clone_sequence("globex", source.id)


def test_a_clone_leaves_out_a_content_test_whose_step_the_draft_removed(
        app: DriplineApp) -> None:
    source = new_sequence(app, "draft", steps=3, holdout_percent=5)
    _first, second, third = source.steps
    arms = [{"key": k, "weight": 50, "message_template": {"type": "text", "content": k}}
            for k in ("a", "b")]
    app.update_sequence(T, source.id, {"experiments": [
        {"id": "gone", "step_id": str(second.id), "arms": arms},
        {"id": "kept", "step_id": str(third.id), "arms": arms}]})
    app.remove_step(T, source.id, second.id)  # allowed in a draft; activating would refuse

    clone = app.get_sequence(T, app.clone_sequence(T, source.id).id)
    kept = clone.steps[1]
    assert (kept.order, kept.id != third.id) == (third.order, True)
    assert [(x["id"], x["step_id"]) for x in clone.current.experiments] == [
        ("kept", str(kept.id))]
    assert clone.current.holdout_percent == 5
    app.activate_sequence(T, clone.id)
    assert app.get_sequence(T, clone.id).status == "active"


def test_clone_with_a_blank_name_is_refused(app: DriplineApp) -> None:
    source = new_sequence(app, "draft")
    before = stored_count(app)
    with pytest.raises(InvalidInputError) as caught:
        app.clone_sequence(T, source.id, name=" ")
    assert caught.value.field == "name"
    assert stored_count(app) == before


# --- tenant isolation and optimistic locking ------------------------------------------------------


def test_another_tenants_sequence_is_not_found(app: DriplineApp) -> None:
    sequence = new_sequence(app, "draft")
    with pytest.raises(SequenceNotFoundError):
        app.get_sequence("globex", sequence.id)
    with pytest.raises(SequenceNotFoundError):
        app.activate_sequence("globex", sequence.id)
    with pytest.raises(SequenceNotFoundError):
        app.get_sequence(T, uuid4())


def test_a_stale_expected_version_is_a_conflict(app: DriplineApp) -> None:
    sequence = new_sequence(app, "draft")
    read_version = sequence.version
    app.update_sequence(T, sequence.id, {"name": "First writer"})
    with pytest.raises(ConcurrencyConflictError) as caught:
        app.update_sequence(T, sequence.id, {"name": "Second writer"},
                            expected_version=read_version)
    assert "changed since you read it" in str(caught.value)
    assert app.get_sequence(T, sequence.id).name == "First writer"


def test_two_writers_of_one_version_cannot_both_save(app: DriplineApp,
                                                     clock: ManualClock) -> None:
    sequence = new_sequence(app, "draft")
    mine, theirs = app.get_sequence(T, sequence.id), app.get_sequence(T, sequence.id)
    mine.update({"name": "Mine"}, clock())
    app.save(mine)
    theirs.update({"name": "Theirs"}, clock())
    with pytest.raises(IntegrityError):
        app.save(theirs)
    assert app.get_sequence(T, sequence.id).name == "Mine"
    # A command holding the version it read is told to reload instead (If-Match: 412).
    with pytest.raises(ConcurrencyConflictError) as caught:
        app.update_sequence(T, sequence.id, {"name": "Theirs"},
                            expected_version=theirs.version - 1)
    assert "reload and retry" in str(caught.value)


def test_every_domain_error_is_a_domain_error() -> None:
    for error in (InvalidTransitionError, SequenceNotDraftError, SequenceHasNoStepsError,
                  DuplicateStepOrderError, StepNotFoundError, ConcurrencyConflictError):
        assert issubclass(error, DomainError)
