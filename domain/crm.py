"""CRM events as the domain sees them (DESIGN 3.1), and the checks on their data.

The edges (Kafka, HTTP) validate the envelope's shape with one model (``domain.envelope``)
and map it to ``CrmEvent``; the data checks per type live here so that every path applies the
same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain import validation as v
from domain.errors import InvalidInputError

TRIGGER_EVENTS = ("tag_added", "list_joined", "form_submit", "pipeline_entered")
EVENT_TYPES = (*TRIGGER_EVENTS, "tag_removed", "pipeline_status_changed", "contact_updated",
               "contact_replied", "contact_unsubscribed", "contact_deleted", "custom_event",
               "message_delivered", "message_failed", "message_opened", "message_clicked")
MAX_CUSTOM_PROPERTIES = 50


@dataclass(frozen=True)
class CrmEvent:
    event_id: str
    type: str
    tenant_id: str
    contact_id: str
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # How far in the future ``occurred_at`` may lie is checked against the application's
        # clock when the event is applied (``domain.app_crm``).
        v.text(self.event_id, "event_id", max_len=200)
        v.tenant_id(self.tenant_id)
        v.contact_id(self.contact_id)
        if self.occurred_at.tzinfo is None:
            raise InvalidInputError("occurred_at", "must carry a time zone (e.g. ...Z)")
        v.require_mapping(self.data, "data")

    @property
    def known(self) -> bool:
        return self.type in EVENT_TYPES


def text_field(data: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise InvalidInputError(f"data.{key}", "is required for this event type")
        return ""
    return v.text(str(value) if isinstance(value, int) else value, f"data.{key}", max_len=500)


def flag(data: dict[str, Any], key: str) -> bool:
    """An optional boolean of the event's data (false when absent)."""
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise InvalidInputError(f"data.{key}", "must be true or false")
    return value


def url_field(data: dict[str, Any], key: str = "url") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"data.{key}", "is required for this event type")
    return v.text(value, f"data.{key}", max_len=2000)


def one_of(data: dict[str, Any], *keys: str) -> None:
    if not any(data.get(k) not in (None, "") for k in keys):
        raise InvalidInputError(f"data.{keys[0]}", f"give {' or '.join(keys)}")


def profile_changes(data: dict[str, Any]) -> dict[str, Any]:
    """The subset of name, email, phone, timezone and custom_fields that the event carries."""
    allowed = {"name", "email", "phone", "timezone", "custom_fields"}
    v.reject_unknown(data, allowed, "data")
    changes: dict[str, Any] = {}
    for key in ("name", "email", "phone"):
        if key in data:
            changes[key] = v.text(data[key], f"data.{key}", max_len=320, required=False)
    if "timezone" in data:
        zone = v.text(data["timezone"], "data.timezone", max_len=64, required=False)
        if zone:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise InvalidInputError("data.timezone",
                                        f"unknown time zone {zone!r}; use an IANA name "
                                        "like 'Europe/Berlin'") from None
        changes["timezone"] = zone
    if "custom_fields" in data:
        fields = v.require_mapping(data["custom_fields"], "data.custom_fields")
        if len(fields) > 200:
            raise InvalidInputError("data.custom_fields", "must have at most 200 fields")
        for key, value in fields.items():
            if value is not None and not isinstance(value, str | int | float | bool):
                raise InvalidInputError(f"data.custom_fields.{key}",
                                        "must be a string, number, boolean or null")
        changes["custom_fields"] = dict(fields)
    return changes


def custom_event_name(data: dict[str, Any]) -> str:
    """A ``custom_event``'s name, its ``properties`` checked too (an object of at most
    ``MAX_CUSTOM_PROPERTIES`` keys; goals match into it, nothing else keeps it)."""
    name = v.text(data.get("name"), "data.name", max_len=200)
    properties = v.require_mapping(data.get("properties", {}), "data.properties")
    if len(properties) > MAX_CUSTOM_PROPERTIES:
        raise InvalidInputError("data.properties",
                                f"must have at most {MAX_CUSTOM_PROPERTIES} keys")
    for key in properties:
        v.text(key, "data.properties key", max_len=200)
    return name
