"""Value objects: a step's delay, message template and conditions; triggers; the
re-enrollment policy; when a step falls due."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from domain.errors import InvalidInputError
from domain.schedule import due_after, resume_due
from domain.steps import CONDITION_OPERATORS, Condition, MessageTemplate, Step
from domain.triggers import ReEnrollment, trigger_matches
from tests.domain.support import step_body

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def build(**overrides: Any) -> Step:
    return Step.from_dict(uuid4(), step_body(0, **overrides))


_BUILDERS: dict[str, Callable[[object], object]] = {
    "step": lambda data: Step.from_dict(uuid4(), data),
    "template": MessageTemplate.from_dict,
    "condition": lambda data: Condition.from_dict(data, "c"),
}


def refused(data: object, builder: str = "step") -> InvalidInputError:
    build_it = _BUILDERS[builder]
    with pytest.raises(InvalidInputError) as caught:
        build_it(data)
    return caught.value


# --- delay ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("amount", "unit", "expected"), [
    (0, "minutes", timedelta(0)),
    (5, "minutes", timedelta(minutes=5)),
    (24, "hours", timedelta(hours=24)),
    (7, "days", timedelta(days=7)),
])
def test_delay_duration(amount: int, unit: str, expected: timedelta) -> None:
    assert build(delay_amount=amount, delay_unit=unit).delay == expected


def test_delay_defaults_to_zero_minutes() -> None:
    body = step_body(0)
    del body["delay_amount"], body["delay_unit"]
    step = Step.from_dict(uuid4(), body)
    assert (step.delay_amount, step.delay_unit, step.delay) == (0, "minutes", timedelta(0))


@pytest.mark.parametrize(("overrides", "field", "says"), [
    ({"delay_amount": -1}, "delay_amount", "between 0"),
    ({"delay_amount": 1.5}, "delay_amount", "must be an integer"),
    ({"delay_amount": "3"}, "delay_amount", "must be an integer"),
    ({"delay_amount": True}, "delay_amount", "must be an integer"),
    ({"delay_amount": 10_000, "delay_unit": "days"}, "delay_amount", "between 0 and 1095"),
    ({"delay_unit": "weeks"}, "delay_unit", "minutes, hours, days"),
    ({"delay_unit": "Days"}, "delay_unit", "must be one of"),
    ({"name": ""}, "name", "required"),
    ({"order": -1}, "order", "between 0"),
    ({"order": "1"}, "order", "must be an integer"),
    ({"on_condition_fail": "continue"}, "on_condition_fail", "exit, skip"),
    ({"conditions": {"type": "tag"}}, "conditions", "must be a list"),
    ({"colour": "red"}, "colour", "unknown field"),
    ({"message_template": None}, "message_template", "must be an object"),
])
def test_invalid_steps_name_the_field(overrides: dict[str, Any], field: str, says: str) -> None:
    error = refused({**step_body(0), **overrides})
    assert error.field == field
    assert says in str(error)


def test_a_step_needs_an_order() -> None:
    body = step_body(0)
    del body["order"]
    error = refused(body)
    assert error.field == "order"
    assert "required" in str(error)


def test_a_step_round_trips_through_its_stored_form() -> None:
    step = build(conditions=[{"type": "tag", "operator": "has", "value": "vip"}],
                 on_condition_fail="skip")
    assert Step.from_stored(step.to_dict()) == step


def test_a_step_stored_before_conditions_existed_still_loads() -> None:
    stored = build().to_dict()
    del stored["conditions"], stored["on_condition_fail"]
    step = Step.from_stored(stored)
    assert (step.conditions, step.on_condition_fail) == ((), "exit")


# --- message template -----------------------------------------------------------------------------


def test_text_template_defaults() -> None:
    template = MessageTemplate.from_dict({"content": "Hello"})
    assert template == MessageTemplate(type="text", content="Hello", channel="whatsapp")


def test_template_and_media_messages() -> None:
    template = MessageTemplate.from_dict({"type": "template", "template_id": "welcome_v1",
                                          "variables": {"1": "John", "2": 3}})
    assert template.template_id == "welcome_v1"
    assert template.variables == {"1": "John", "2": "3"}
    media = MessageTemplate.from_dict({"type": "media", "content": "Demo",
                                       "media_url": "https://cdn.example.com/demo.mp4",
                                       "channel": "email"})
    assert (media.media_url, media.channel) == ("https://cdn.example.com/demo.mp4", "email")


@pytest.mark.parametrize(("data", "field", "says"), [
    ({"type": "text"}, "message_template.content", "required for a text message"),
    ({"type": "text", "content": "   "}, "message_template.content", "required"),
    ({"type": "template"}, "message_template.template_id", "required for a template"),
    ({"type": "media", "content": "x"}, "message_template.media_url", "required for a media"),
    ({"type": "media", "media_url": "http://cdn.example.com/a.png"},
     "message_template.media_url", "https://"),
    ({"type": "media", "media_url": "ftp://cdn.example.com/a.png"},
     "message_template.media_url", "https://"),
    ({"type": "media", "media_url": "https://"}, "message_template.media_url", "https://"),
    ({"type": "media", "media_url": "javascript:alert(1)"}, "message_template.media_url",
     "https://"),
    ({"type": "text", "content": "x", "media_url": "http://a.example"},
     "message_template.media_url", "https://"),
    ({"type": "sms", "content": "x"}, "message_template.type", "text, template, media"),
    ({"content": "x", "channel": "E-mail"}, "message_template.channel", "lowercase name"),
    ({"content": "x", "variables": ["a"]}, "message_template.variables", "must be an object"),
    ({"content": "x", "variables": {"a": None}}, "message_template.variables.a",
     "string or a number"),
    ({"content": "x" * 10_001}, "message_template.content", "at most 10000"),
    ({"content": "x", "subject": "y"}, "message_template.subject", "unknown field"),
])
def test_invalid_templates_name_the_field(data: dict[str, Any], field: str, says: str) -> None:
    error = refused(data, "template")
    assert error.field == field
    assert says in str(error)


# --- conditions -----------------------------------------------------------------------------------

_VALUES = {"tag": "vip", "custom_field": "50", "pipeline_status": "qualified",
           "last_activity": "7"}


@pytest.mark.parametrize(("kind", "operator"), [
    (kind, op) for kind, ops in CONDITION_OPERATORS.items() for op in ops])
def test_each_condition_type_accepts_its_operators(kind: str, operator: str) -> None:
    value = "" if operator in ("is_null", "is_not_null") else _VALUES[kind]
    data = {"type": kind, "operator": operator, "value": value}
    if kind == "custom_field":
        data["field"] = "company_size"
    condition = Condition.from_dict(data, "c")
    assert (condition.type, condition.operator) == (kind, operator)


@pytest.mark.parametrize(("kind", "operator"), [
    ("tag", "equals"), ("tag", "contains"), ("custom_field", "has"),
    ("custom_field", "within_days"), ("pipeline_status", "contains"),
    ("pipeline_status", "has"), ("last_activity", "equals"), ("last_activity", "greater_than"),
])
def test_operators_of_other_types_are_refused(kind: str, operator: str) -> None:
    data = {"type": kind, "operator": operator, "value": _VALUES[kind], "field": "f"}
    error = refused(data, "condition")
    assert error.field == "c.operator"
    assert ", ".join(CONDITION_OPERATORS[kind]) in str(error)


@pytest.mark.parametrize(("data", "field", "says"), [
    ({"type": "custom_field", "operator": "equals", "value": "x"}, "c.field",
     "names the custom field"),
    ({"type": "tag", "operator": "has", "value": ""}, "c.value", "required for tag has"),
    ({"type": "custom_field", "operator": "greater_than", "value": "many", "field": "size"},
     "c.value", "must be a number"),
    ({"type": "last_activity", "operator": "within_days", "value": "soon"}, "c.value",
     "must be an integer"),
    ({"type": "last_activity", "operator": "older_than_days", "value": "-1"}, "c.value",
     "between 0"),
    ({"type": "last_activity", "operator": "is_null", "value": "birthday"}, "c.field",
     "last_activity_at, last_reply_at"),
    ({"type": "tag", "operator": "has", "value": True}, "c.value", "string or a number"),
    ({"type": "country", "operator": "equals", "value": "PT"}, "c.type", "must be one of"),
    ({"type": "tag", "operator": "has", "value": "vip", "extra": 1}, "c.extra",
     "unknown field"),
])
def test_invalid_conditions_name_the_field(data: dict[str, Any], field: str, says: str) -> None:
    error = refused(data, "condition")
    assert error.field == field
    assert says in str(error)


def test_last_activity_condition_fields() -> None:
    by_value = Condition.from_dict(
        {"type": "last_activity", "operator": "is_null", "value": "last_reply_at"}, "c")
    assert by_value.field == "last_reply_at"
    default = Condition.from_dict({"type": "last_activity", "operator": "within_days",
                                   "value": 7}, "c")
    assert (default.field, default.value) == ("last_activity_at", "7")


def test_conditions_in_a_step_are_named_by_position() -> None:
    error = refused(step_body(0, conditions=[
        {"type": "tag", "operator": "has", "value": "vip"},
        {"type": "tag", "operator": "bogus", "value": "vip"}]))
    assert error.field == "conditions[1].operator"


def test_a_failed_condition_exits_by_default_or_skips() -> None:
    assert build().on_condition_fail == "exit"
    assert build(on_condition_fail="skip").on_condition_fail == "skip"


# --- triggers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("trigger_type", "trigger_data", "event_data", "matches"), [
    ("tag_added", {"tag_id": "t-1"}, {"tag_id": "t-1", "tag_name": "x"}, True),
    ("tag_added", {"tag_id": "t-1"}, {"tag_id": "t-2"}, False),
    ("tag_added", {"tag_name": "vip"}, {"tag_id": "t-9", "tag_name": "vip"}, True),
    ("tag_added", {"tag_id": "t-1", "tag_name": "vip"}, {"tag_id": "t-1"}, False),
    ("list_joined", {"list_id": "l-1", "list_name": "old name"},
     {"list_id": "l-1", "list_name": "new name"}, True),
    ("form_submit", {"form_id": "f-1"}, {"form_id": "f-2"}, False),
    ("pipeline_entered", {"pipeline_id": "p-1"}, {"pipeline_id": "p-1", "status": "new"}, True),
    ("pipeline_entered", {"pipeline_id": "p-1"}, {}, False),
])
def test_trigger_matching(trigger_type: str, trigger_data: dict[str, str],
                          event_data: dict[str, str], matches: bool) -> None:
    assert trigger_matches(trigger_data, trigger_type, event_data) is matches


# --- re-enrollment policy -------------------------------------------------------------------------


@pytest.mark.parametrize(("policy", "previous", "allowed"), [
    ("never", "completed", False), ("never", "exited", False),
    ("after_completion", "completed", True), ("after_completion", "exited", False),
    ("after_exit", "completed", False), ("after_exit", "exited", True),
    ("always", "completed", True), ("always", "exited", True),
    ("always", "active", False), ("always", "paused", False),
])
def test_reenrollment_policy(policy: str, previous: str, allowed: bool) -> None:
    refusal = ReEnrollment(policy).refusal(previous, NOW, NOW)
    if allowed:
        assert refusal is None
    else:
        assert refusal is not None
        assert f"'{policy}'" in refusal
        assert previous in refusal


def test_reenrollment_cooldown() -> None:
    policy = ReEnrollment("always", cooldown_seconds=3600)
    ended = NOW
    early = policy.refusal("exited", ended, NOW + timedelta(minutes=59))
    assert early is not None
    assert "cooldown lasts until 2026-11-29T10:00:00+00:00" in early
    assert policy.refusal("exited", ended, NOW + timedelta(hours=1)) is None


def test_reenrollment_from_dict_defaults_and_round_trip() -> None:
    assert ReEnrollment.from_dict(None) == ReEnrollment("never", 0)
    policy = ReEnrollment.from_dict({"policy": "after_exit", "cooldown_seconds": 86400})
    assert ReEnrollment(**policy.to_dict()) == policy


# --- when a step falls due ---------------------------------------------------------------------


def test_due_after_adds_the_delay_in_utc_across_a_dst_change() -> None:
    # Europe/Berlin moves its clocks forward on 2026-03-29: a one-day delay is still 24 hours.
    base = datetime(2026, 3, 28, 1, 30, tzinfo=UTC)
    due = due_after(base, build(delay_amount=1, delay_unit="days"))
    assert due - base == timedelta(hours=24)
    assert due.tzinfo == UTC
    local = due.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.hour, local.utcoffset()) == (3, timedelta(hours=2))


def test_resume_catches_up_a_step_whose_time_passed() -> None:
    assert resume_due(NOW - timedelta(hours=1), NOW) == NOW
    assert resume_due(NOW + timedelta(hours=1), NOW) == NOW + timedelta(hours=1)
    assert resume_due(None, NOW) == NOW
