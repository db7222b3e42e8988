"""The Contact mirror: the CRM facts that step conditions and templates need.

It changes only through CRM events (DESIGN 3.1). Each fact event keeps the CRM's ``event_id``
so that a producer retry (the same event at two offsets, or posted twice) has one effect.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

PROFILE_FIELDS = ("name", "email", "phone", "timezone", "custom_fields")
ALL_CHANNELS = "all"


class Contact(Aggregate):
    TOPIC = "dripline.Contact"

    class Created(Aggregate.Created):
        TOPIC = "contact.created"
        tenant_id: str
        contact_id: str
        at: datetime

    class Fact(Aggregate.Event):
        TOPIC = "contact.fact"  # abstract base of the fact events; never stored itself
        event_id: str
        occurred_at: datetime
        at: datetime

    class TagAdded(Fact):
        TOPIC = "contact.tag_added"
        tag_id: str
        tag_name: str

    class TagRemoved(Fact):
        TOPIC = "contact.tag_removed"
        tag_id: str
        tag_name: str

    class ListJoined(Fact):
        TOPIC = "contact.list_joined"
        list_id: str
        list_name: str

    class FormSubmitted(Fact):
        TOPIC = "contact.form_submitted"
        form_id: str
        form_name: str
        fields: dict[str, Any]

    class PipelineStatusChanged(Fact):
        TOPIC = "contact.pipeline_status_changed"
        pipeline_id: str
        status: str
        entered: bool

    class ProfileUpdated(Fact):
        TOPIC = "contact.profile_updated"
        changes: dict[str, Any]

    class Replied(Fact):
        TOPIC = "contact.replied"
        channel: str
        message_id: str
        out_of_office: bool

    class Unsubscribed(Fact):
        TOPIC = "contact.unsubscribed"
        channel: str

    class Deleted(Fact):
        TOPIC = "contact.deleted"

    @event(Created)
    def __init__(self, *, id: UUID, tenant_id: str, contact_id: str, at: datetime) -> None:
        self.tenant_id = tenant_id
        self.contact_id = contact_id
        self.name = ""
        self.email = ""
        self.phone = ""
        self.timezone = ""
        self.custom_fields: dict[str, Any] = {}
        self.tags: dict[str, str] = {}  # tag id (or name when the CRM sent none) -> name
        self.lists: dict[str, str] = {}
        self.forms: dict[str, str] = {}  # forms submitted: id -> name
        self.pipelines: dict[str, str] = {}  # pipeline id -> status
        self.last_activity_at: datetime | None = None
        self.last_reply_at: datetime | None = None
        self.unsubscribed: set[str] = set()
        self.last_unsubscribed_at: datetime | None = None
        self.deleted = False
        self.seen_event_ids: set[str] = set()
        self.created_at = at

    # --- queries -----------------------------------------------------------------------------

    def has_tag(self, tag: str) -> bool:
        return tag in self.tags or tag in self.tags.values()

    def is_suppressed(self, channel: str) -> bool:
        return self.deleted or ALL_CHANNELS in self.unsubscribed or channel in self.unsubscribed

    def accepts(self, event_id: str) -> bool:
        """A new event for a contact that still exists in the CRM."""
        return not self.deleted and event_id not in self.seen_event_ids

    # --- fact events -------------------------------------------------------------------------
    # The application decides which of these a CRM event maps to; each apply method only
    # records the fact. ``_seen`` runs first in every one so that replay restores dedup state.

    def _seen(self, event_id: str, occurred_at: datetime, activity: bool = True) -> None:
        self.seen_event_ids.add(event_id)
        if activity and (self.last_activity_at is None or occurred_at > self.last_activity_at):
            self.last_activity_at = occurred_at

    @event(TagAdded)
    def add_tag(self, event_id: str, occurred_at: datetime, at: datetime, tag_id: str,
                tag_name: str) -> None:
        self._seen(event_id, occurred_at, activity=True)
        self.tags[tag_id or tag_name] = tag_name or tag_id

    @event(TagRemoved)
    def remove_tag(self, event_id: str, occurred_at: datetime, at: datetime, tag_id: str,
                   tag_name: str) -> None:
        self._seen(event_id, occurred_at, activity=True)
        self.tags.pop(tag_id or tag_name, None)
        if not tag_id:
            for key in [k for k, n in self.tags.items() if n == tag_name]:
                del self.tags[key]

    @event(ListJoined)
    def join_list(self, event_id: str, occurred_at: datetime, at: datetime, list_id: str,
                  list_name: str) -> None:
        self._seen(event_id, occurred_at, activity=True)
        self.lists[list_id] = list_name

    @event(FormSubmitted)
    def submit_form(self, event_id: str, occurred_at: datetime, at: datetime, form_id: str,
                    form_name: str, fields: dict[str, Any]) -> None:
        self._seen(event_id, occurred_at, activity=True)
        self.forms[form_id] = form_name

    @event(PipelineStatusChanged)
    def change_pipeline_status(self, event_id: str, occurred_at: datetime, at: datetime,
                               pipeline_id: str, status: str, entered: bool) -> None:
        self._seen(event_id, occurred_at, activity=True)
        self.pipelines[pipeline_id] = status

    @event(ProfileUpdated)
    def update_profile(self, event_id: str, occurred_at: datetime, at: datetime,
                       changes: dict[str, Any]) -> None:
        self._seen(event_id, occurred_at, activity=True)
        for key, value in changes.items():
            if key == "custom_fields":
                self.custom_fields = {**self.custom_fields, **value}
            else:
                setattr(self, key, value)

    @event(Replied)
    def reply(self, event_id: str, occurred_at: datetime, at: datetime, channel: str,
              message_id: str, out_of_office: bool) -> None:
        self._seen(event_id, occurred_at, activity=not out_of_office)
        if not out_of_office and (self.last_reply_at is None or occurred_at > self.last_reply_at):
            self.last_reply_at = occurred_at

    @event(Unsubscribed)
    def unsubscribe(self, event_id: str, occurred_at: datetime, at: datetime,
                    channel: str) -> None:
        self._seen(event_id, occurred_at, activity=False)
        self.unsubscribed.add(channel or ALL_CHANNELS)
        if self.last_unsubscribed_at is None or occurred_at > self.last_unsubscribed_at:
            self.last_unsubscribed_at = occurred_at

    @event(Deleted)
    def delete(self, event_id: str, occurred_at: datetime, at: datetime) -> None:
        self._seen(event_id, occurred_at, activity=False)
        self.deleted = True
