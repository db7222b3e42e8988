"""Evaluating a step's conditions against the contact mirror at send time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.contact import Contact
from domain.steps import Condition


def failed_condition(conditions: tuple[Condition, ...], contact: Contact | None,
                     now: datetime) -> Condition | None:
    """The first condition the contact does not meet, or None when all are met. A contact
    the CRM never told us about has no tags, fields, pipelines or activity."""
    for condition in conditions:
        if not holds(condition, contact, now):
            return condition
    return None


def describe(condition: Condition, contact: Contact | None = None,
             observed: bool = False) -> str:
    """The condition in words; with ``observed``, also the contact's value it was judged on
    (what a failed condition records, so "why did it end?" names the value)."""
    subject = condition.field or condition.type
    text = f"{condition.type} {subject} {condition.operator} {condition.value!r}".strip()
    return f"{text} (was {_observed(condition, contact)})" if observed else text


_MAX_SHOWN = 80  # characters of a field's value a description repeats


def _observed(c: Condition, contact: Contact | None) -> str:
    if c.type == "tag":
        return "tagged" if contact is not None and contact.has_tag(c.value) else "not tagged"
    if c.type == "custom_field":
        value = contact.custom_fields.get(c.field or "") if contact else None
        return "unset" if value is None else repr(str(value)[:_MAX_SHOWN])
    if c.type == "pipeline_status":
        statuses = sorted(_pipeline_statuses(contact, c.field))
        return ", ".join(repr(s) for s in statuses) if statuses else "in no pipeline"
    moment = getattr(contact, c.field or "last_activity_at", None) if contact else None
    return "never" if moment is None else moment.isoformat()


def holds(c: Condition, contact: Contact | None, now: datetime) -> bool:
    if c.type == "tag":
        has = contact is not None and contact.has_tag(c.value)
        return has if c.operator == "has" else not has
    if c.type == "custom_field":
        value = contact.custom_fields.get(c.field or "") if contact else None
        return _compare(c.operator, value, c.value)
    if c.type == "pipeline_status":
        statuses = _pipeline_statuses(contact, c.field)
        matched = c.value in statuses
        return matched if c.operator == "equals" else not matched
    return _activity(c, contact, now)


def _pipeline_statuses(contact: Contact | None, pipeline_id: str | None) -> set[str]:
    if contact is None:
        return set()
    if pipeline_id:
        status = contact.pipelines.get(pipeline_id)
        return {status} if status is not None else set()
    return set(contact.pipelines.values())


def _compare(operator: str, actual: Any, expected: str) -> bool:
    if operator in ("greater_than", "less_than"):
        number = _number(actual)
        if number is None:
            return False  # a missing or non-numeric field is neither greater nor less
        return number > float(expected) if operator == "greater_than" else number < float(expected)
    text = "" if actual is None else str(actual).lower() if isinstance(actual, bool) else str(
        actual)
    if operator == "equals":
        return actual is not None and text == expected
    if operator == "not_equals":
        return actual is None or text != expected
    return actual is not None and expected.lower() in text.lower()  # contains


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _activity(c: Condition, contact: Contact | None, now: datetime) -> bool:
    field = c.field or "last_activity_at"
    moment: datetime | None = getattr(contact, field, None) if contact else None
    if c.operator == "is_null":
        return moment is None
    if c.operator == "is_not_null":
        return moment is not None
    days = timedelta(days=int(c.value))
    if moment is None:
        # Never active: not "within N days", and older than any window.
        return c.operator == "older_than_days"
    if c.operator == "within_days":
        return moment >= now - days
    return moment < now - days  # older_than_days
