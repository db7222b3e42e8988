"""Sequences, enrollments and contact mirrors survive a restart: a fresh application on the
same database loads every field back (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain import ids
from domain.clock import ManualClock
from domain.contact import Contact
from domain.steps import Condition
from dripline.bootstrap import Runtime
from tests.integration.factories import TENANT, another_app, crm_event
from tests.integration.store import load

RICH: dict[str, Any] = {
    "name": "Cold lead nurture",
    "description": "Three touches for a cold lead",
    "trigger_type": "tag_added",
    "trigger_data": {"tag_id": "t-1", "tag_name": "cold-lead"},
    "exit_on_reply": False,
    "reenrollment": {"policy": "after_exit", "cooldown_seconds": 86400},
    "steps": [
        {"order": 0, "name": "welcome", "delay_amount": 0, "delay_unit": "minutes",
         "message_template": {"type": "text", "content": "Hi {{contact.name}}",
                              "variables": {"promo": "X1"}, "channel": "sms"},
         "conditions": [{"type": "tag", "operator": "has", "value": "cold-lead"}]},
        {"order": 1, "name": "template", "delay_amount": 2, "delay_unit": "hours",
         "message_template": {"type": "template", "template_id": "tpl-9"},
         "conditions": [
             {"type": "custom_field", "operator": "greater_than", "value": 5, "field": "score"},
             {"type": "last_activity", "operator": "within_days", "value": "7"}],
         "on_condition_fail": "skip"},
        {"order": 2, "name": "media", "delay_amount": 3, "delay_unit": "days",
         "message_template": {"type": "media", "media_url": "https://cdn.example.com/a.png",
                              "content": "look"},
         "conditions": [
             {"type": "pipeline_status", "operator": "equals", "value": "won", "field": "p-1"},
             {"type": "last_activity", "operator": "is_null", "value": "last_reply_at"}]},
    ],
}


# The same, with its first step five minutes away (an enrollment that has sent nothing yet).
LATER: dict[str, Any] = {**RICH, "steps": [{**RICH["steps"][0], "delay_amount": 5},
                                           *RICH["steps"][1:]]}


def _state(aggregate: object) -> dict[str, Any]:
    """Every attribute of an aggregate (its id, version and timestamps included)."""
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def test_a_sequence_with_steps_loads_back_whole_in_a_new_application(
        runtime: Runtime, database_url: str, clock: ManualClock) -> None:
    app = runtime.app
    created = app.create_sequence(TENANT, RICH)
    steps = created.steps
    app.update_step(TENANT, created.id, steps[1].id, {"name": "template, renamed"})
    app.remove_step(TENANT, created.id, steps[2].id)
    app.add_step(TENANT, created.id, RICH["steps"][2] | {"order": 5})
    app.update_sequence(TENANT, created.id, {"description": "Edited"})
    app.activate_sequence(TENANT, created.id)
    live = app.get_sequence(TENANT, created.id)

    with another_app(database_url, clock) as fresh:
        loaded = fresh.get_sequence(TENANT, created.id)

    assert _state(loaded) == _state(live)
    assert (loaded.version, loaded.status, loaded.description) == (9, "active", "Edited")
    assert loaded.trigger_type == "tag_added"
    assert loaded.trigger_data == {"tag_id": "t-1", "tag_name": "cold-lead"}
    assert loaded.exit_on_reply is False
    assert loaded.reenrollment.to_dict() == {"policy": "after_exit", "cooldown_seconds": 86400}
    assert [(s.order, s.name) for s in loaded.steps] == [
        (0, "welcome"), (1, "template, renamed"), (5, "media")]
    welcome, template, media = loaded.steps
    assert welcome.message_template.variables == {"promo": "X1"}
    assert welcome.message_template.channel == "sms"
    assert template.message_template.template_id == "tpl-9"
    assert template.on_condition_fail == "skip"
    assert template.conditions[0] == Condition("custom_field", "greater_than", "5", "score")
    assert media.message_template.media_url == "https://cdn.example.com/a.png"
    assert media.delay.total_seconds() == 3 * 86400
    assert media.conditions[1] == Condition("last_activity", "is_null", "last_reply_at",
                                            "last_reply_at")


def test_an_enrollment_and_a_contact_mirror_load_back_whole(
        runtime: Runtime, database_url: str, clock: ManualClock) -> None:
    app = runtime.app
    sequence = app.create_sequence(TENANT, LATER)
    app.activate_sequence(TENANT, sequence.id)
    app.record_crm_event(crm_event("e1", "contact_updated", "c-1", clock(), {
        "name": "Ada", "timezone": "Europe/Berlin", "custom_fields": {"score": 7}}))
    app.record_crm_event(crm_event("e2", "contact_unsubscribed", "c-1", clock(),
                                   {"channel": "sms"}))
    clock.advance(timedelta(seconds=1))  # enrolled after the unsubscribe: it only suppresses
    enrollment = app.enroll(TENANT, sequence.id, "c-1")
    app.pause_enrollment(TENANT, enrollment.id)
    live = app.get_enrollment(TENANT, enrollment.id)
    app.record_crm_event(crm_event("e3", "tag_added", "c-1", clock(), {"tag_id": "t-9"}))
    contact = load(app, ids.contact_id(TENANT, "c-1"))

    with another_app(database_url, clock) as fresh:
        loaded = fresh.get_enrollment(TENANT, enrollment.id)
        mirror = load(fresh, contact.id)

    assert _state(loaded) == _state(live)
    assert (loaded.status, loaded.version, loaded.source) == ("paused", 2, "manual")
    assert loaded.due_before_pause == live.due_before_pause is not None
    assert isinstance(mirror, Contact)
    assert _state(mirror) == _state(contact)
    assert mirror.custom_fields == {"score": 7}
    assert mirror.unsubscribed == {"sms"}
    assert mirror.tags == {"t-9": "t-9"}
    # Which CRM events were applied is kept beside the mirror, not in it.
    keys = {(contact.id, e) for e in ("e1", "e2", "e3", "e4")}
    assert runtime.app.store.seen(keys) == keys - {(contact.id, "e4")}
