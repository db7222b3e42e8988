"""Every condition type and operator, evaluated against the contact mirror."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain.application import DriplineApp
from domain.conditions import describe, failed_condition, holds
from domain.contact import Contact
from domain.ids import contact_id
from domain.steps import Condition
from tests.execution.support import crm

NOW = datetime(2026, 11, 29, 9, tzinfo=UTC)
DAY = timedelta(days=1)


def cond(type_: str, operator: str, value: str = "", field: str | None = None) -> Condition:
    data: dict[str, Any] = {"type": type_, "operator": operator, "value": value}
    if field is not None:
        data["field"] = field
    return Condition.from_dict(data, "conditions[0]")  # validated as when authored


def mirror(active_days_ago: float | None = None, replied_days_ago: float | None = None
           ) -> Contact:
    """A contact with a vip tag, custom fields and pipelines; activity only as given."""
    c = Contact.start(id=uuid4(), tenant_id="acme", contact_id="c-1", at=NOW - 30 * DAY)
    long_ago = NOW - 365 * DAY
    c.add_tag("e1", long_ago, long_ago, tag_id="t-1", tag_name="vip")
    c.update_profile("e2", long_ago, long_ago, changes={"custom_fields": {
        "company_size": 120, "plan": "Pro", "active": True, "ratio": "3.5", "label": "abc"}})
    c.change_pipeline_status("e3", long_ago, long_ago, pipeline_id="p-1", status="qualified",
                             entered=True)
    c.change_pipeline_status("e4", long_ago, long_ago, pipeline_id="p-2", status="lost",
                             entered=True)
    c.last_activity_at = None  # forget the set-up: activity is what the test says
    if active_days_ago is not None:
        moment = NOW - active_days_ago * DAY
        c.update_profile("e5", moment, moment, changes={"name": "Ana"})
    if replied_days_ago is not None:
        moment = NOW - replied_days_ago * DAY
        c.reply("e6", moment, moment, channel="sms", message_id="", out_of_office=False)
    return c


CASES: list[tuple[Condition, bool, bool]] = [
    # condition, holds for the contact above, holds for a contact the CRM never sent
    (cond("tag", "has", "vip"), True, False),
    (cond("tag", "has", "t-1"), True, False),  # by id, too
    (cond("tag", "has", "gold"), False, False),
    (cond("tag", "not_has", "vip"), False, True),
    (cond("tag", "not_has", "gold"), True, True),
    (cond("custom_field", "equals", "Pro", "plan"), True, False),
    (cond("custom_field", "equals", "pro", "plan"), False, False),  # case matters
    (cond("custom_field", "equals", "120", "company_size"), True, False),
    (cond("custom_field", "equals", "true", "active"), True, False),
    (cond("custom_field", "equals", "x", "missing"), False, False),
    (cond("custom_field", "not_equals", "Basic", "plan"), True, True),
    (cond("custom_field", "not_equals", "Pro", "plan"), False, True),
    (cond("custom_field", "not_equals", "x", "missing"), True, True),
    (cond("custom_field", "contains", "ro", "plan"), True, False),
    (cond("custom_field", "contains", "PR", "plan"), True, False),  # case-insensitive
    (cond("custom_field", "contains", "z", "plan"), False, False),
    (cond("custom_field", "greater_than", "50", "company_size"), True, False),
    (cond("custom_field", "greater_than", "120", "company_size"), False, False),
    (cond("custom_field", "greater_than", "3", "ratio"), True, False),  # numeric text
    (cond("custom_field", "greater_than", "0", "label"), False, False),  # not a number
    (cond("custom_field", "greater_than", "0", "active"), False, False),  # a flag, not 1
    (cond("custom_field", "greater_than", "0", "missing"), False, False),
    (cond("custom_field", "less_than", "200", "company_size"), True, False),
    (cond("custom_field", "less_than", "-1", "company_size"), False, False),
    (cond("custom_field", "less_than", "5", "missing"), False, False),
    (cond("pipeline_status", "equals", "qualified"), True, False),  # in any pipeline
    (cond("pipeline_status", "equals", "qualified", "p-1"), True, False),
    (cond("pipeline_status", "equals", "qualified", "p-2"), False, False),
    (cond("pipeline_status", "not_equals", "qualified", "p-2"), True, True),
    (cond("pipeline_status", "not_equals", "lost"), False, True),
]


@pytest.mark.parametrize(("condition", "expected", "for_unknown"), CASES,
                         ids=[describe(c) for c, _, _ in CASES])
def test_condition_against_the_mirror(condition: Condition, expected: bool,
                                      for_unknown: bool) -> None:
    assert holds(condition, mirror(), NOW) is expected
    assert holds(condition, None, NOW) is for_unknown


@pytest.mark.parametrize(("operator", "value", "field", "days_ago", "expected"), [
    ("is_null", "last_reply_at", None, None, True),
    ("is_null", "last_reply_at", None, 2, False),
    ("is_not_null", "last_reply_at", None, 2, True),
    ("is_not_null", "", "last_reply_at", None, False),
    ("within_days", "7", "last_reply_at", 3, True),
    ("within_days", "7", "last_reply_at", 7, True),  # the boundary is inside
    ("within_days", "7", "last_reply_at", 7.001, False),
    ("within_days", "7", "last_reply_at", None, False),
    ("older_than_days", "7", "last_reply_at", 10, True),
    ("older_than_days", "7", "last_reply_at", 7, False),
    ("older_than_days", "7", "last_reply_at", None, True),  # never replied: older than any
])
def test_last_reply_conditions(operator: str, value: str, field: str | None,
                               days_ago: float | None, expected: bool) -> None:
    condition = cond("last_activity", operator, value, field)
    assert condition.field == "last_reply_at"
    assert holds(condition, mirror(replied_days_ago=days_ago), NOW) is expected


@pytest.mark.parametrize(("operator", "value", "days_ago", "expected"), [
    ("is_null", "", None, True), ("is_not_null", "", 1, True), ("is_not_null", "", None, False),
    ("within_days", "30", 29, True), ("within_days", "30", 31, False),
    ("older_than_days", "30", 31, True), ("older_than_days", "30", 29, False),
])
def test_last_activity_conditions(operator: str, value: str, days_ago: float | None,
                                  expected: bool) -> None:
    condition = cond("last_activity", operator, value)
    assert condition.field == "last_activity_at"
    assert holds(condition, mirror(active_days_ago=days_ago), NOW) is expected
    assert holds(condition, None, NOW) is (operator in ("is_null", "older_than_days"))


def test_the_first_unmet_condition_is_reported() -> None:
    met, unmet, also_unmet = (cond("tag", "has", "vip"),
                              cond("custom_field", "greater_than", "500", "company_size"),
                              cond("tag", "has", "gold"))
    assert failed_condition((met,), mirror(), NOW) is None
    assert failed_condition((), None, NOW) is None
    assert failed_condition((met, unmet, also_unmet), mirror(), NOW) is unmet
    assert describe(unmet) == "custom_field company_size greater_than '500'"


def test_conditions_read_the_mirror_the_crm_events_built(app: DriplineApp) -> None:
    crm(app, "tag_added", "c-9", tag_id="t-7", tag_name="webinar")
    crm(app, "contact_updated", "c-9", custom_fields={"engagement_score": 4})
    crm(app, "pipeline_entered", "c-9", pipeline_id="sales", status="demo")
    crm(app, "tag_removed", "c-9", tag_id="t-7", tag_name="webinar")
    contact: object = app.repository.get(contact_id("acme", "c-9"))
    assert isinstance(contact, Contact)
    now = app.clock()
    assert holds(cond("tag", "not_has", "webinar"), contact, now)
    assert holds(cond("custom_field", "greater_than", "0", "engagement_score"), contact, now)
    assert holds(cond("pipeline_status", "equals", "demo", "sales"), contact, now)
    assert holds(cond("last_activity", "within_days", "1"), contact, now)
    assert holds(cond("last_activity", "is_null", "last_reply_at"), contact, now)
