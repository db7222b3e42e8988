"""The Contact mirror: the CRM facts that step conditions and templates need.

It changes only through CRM events (DESIGN 3.1). Each fact event keeps the CRM's
``event_id``; which ids were applied is remembered outside the aggregate (in a table written
in the same transaction as the facts), so a contact's state, and the cost of loading it, does
not grow with its history. A busy contact's stream is also snapshotted (``domain.snapshots``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.codec import Creation, trigger

PROFILE_FIELDS = ("name", "email", "phone", "timezone", "custom_fields")
ALL_CHANNELS = "all"
_TIMES = ("last_activity_at", "last_reply_at", "last_unsubscribed_at", "created_at")


def _later(current: datetime | None, moment: datetime) -> datetime:
    return moment if current is None or moment > current else current


class Contact(Aggregate):
    TOPIC = "dripline.Contact"

    class Event(Aggregate.Event):
        pass

    class Created(Creation, Aggregate.Created):
        TOPIC = "contact.created"
        tenant_id: str
        contact_id: str
        at: datetime

        def apply(self, c: Any) -> None:
            c.tenant_id, c.contact_id = self.tenant_id, self.contact_id
            c.name = c.email = c.phone = c.timezone = ""
            c.custom_fields = {}
            c.tags = {}  # tag id (or name when the CRM sent none) -> name
            c.lists = {}
            c.forms = {}  # forms submitted: id -> name
            c.pipelines = {}  # pipeline id -> status
            c.last_activity_at = c.last_reply_at = c.last_unsubscribed_at = None
            c.unsubscribed = set()
            c.deleted = False
            c.created_at = self.at

    class Fact(Event):
        TOPIC = "contact.fact"  # abstract base of the fact events; never stored itself
        event_id: str
        occurred_at: datetime
        at: datetime

        def apply(self, c: Any) -> None:
            c.last_activity_at = _later(c.last_activity_at, self.occurred_at)

    class TagAdded(Fact):
        TOPIC = "contact.tag_added"
        tag_id: str
        tag_name: str

        def apply(self, c: Any) -> None:
            super().apply(c)
            c.tags[self.tag_id or self.tag_name] = self.tag_name or self.tag_id

    class TagRemoved(Fact):
        TOPIC = "contact.tag_removed"
        tag_id: str
        tag_name: str

        def apply(self, c: Any) -> None:
            super().apply(c)
            c.tags.pop(self.tag_id or self.tag_name, None)
            if not self.tag_id:
                for key in [k for k, n in c.tags.items() if n == self.tag_name]:
                    del c.tags[key]

    class ListJoined(Fact):
        TOPIC = "contact.list_joined"
        list_id: str
        list_name: str

        def apply(self, c: Any) -> None:
            super().apply(c)
            c.lists[self.list_id] = self.list_name

    class FormSubmitted(Fact):
        TOPIC = "contact.form_submitted"
        form_id: str
        form_name: str
        fields: dict[str, Any]

        def apply(self, c: Any) -> None:
            super().apply(c)
            c.forms[self.form_id] = self.form_name

    class PipelineStatusChanged(Fact):
        TOPIC = "contact.pipeline_status_changed"
        pipeline_id: str
        status: str
        entered: bool

        def apply(self, c: Any) -> None:
            super().apply(c)
            c.pipelines[self.pipeline_id] = self.status

    class ProfileUpdated(Fact):
        TOPIC = "contact.profile_updated"
        changes: dict[str, Any]

        def apply(self, c: Any) -> None:
            super().apply(c)
            for key, value in self.changes.items():
                if key == "custom_fields":
                    c.custom_fields = {**c.custom_fields, **value}
                else:
                    setattr(c, key, value)

    class Replied(Fact):
        TOPIC = "contact.replied"
        channel: str
        message_id: str
        out_of_office: bool

        def apply(self, c: Any) -> None:
            if not self.out_of_office:  # an automatic answer is no activity
                super().apply(c)
                c.last_reply_at = _later(c.last_reply_at, self.occurred_at)

    class Unsubscribed(Fact):
        TOPIC = "contact.unsubscribed"
        channel: str

        def apply(self, c: Any) -> None:
            c.unsubscribed.add(self.channel or ALL_CHANNELS)
            c.last_unsubscribed_at = _later(c.last_unsubscribed_at, self.occurred_at)

    class CustomEventHappened(Fact):
        """A ``custom_event`` (a purchase, say): its name and time only, for goals and the
        contact's last activity; its properties are matched by goals, never kept."""

        TOPIC = "contact.custom_event"
        name: str

    class Deleted(Fact):
        TOPIC = "contact.deleted"

        def apply(self, c: Any) -> None:
            c.deleted = True

    class Retired(Event):
        """The contact's stream moved to ``moved_to`` (a store upgraded to unambiguous ids):
        this one is never read again, and read models forget it."""

        TOPIC = "contact.retired"
        moved_to: UUID
        at: datetime

        def apply(self, c: Any) -> None:
            c.moved_to = self.moved_to

    if TYPE_CHECKING:  # set by ``Created.apply``; real annotations would make a dataclass
        tenant_id: str
        contact_id: str
        name: str
        email: str
        phone: str
        timezone: str
        custom_fields: dict[str, Any]
        tags: dict[str, str]
        lists: dict[str, str]
        forms: dict[str, str]
        pipelines: dict[str, str]
        last_activity_at: datetime | None
        last_reply_at: datetime | None
        last_unsubscribed_at: datetime | None
        unsubscribed: set[str]
        deleted: bool
        created_at: datetime

    @classmethod
    def start(cls, *, id: UUID, tenant_id: str, contact_id: str, at: datetime) -> Contact:
        return cls._create(cls.Created, id=id, tenant_id=tenant_id, contact_id=contact_id,
                           at=at, timestamp=at)

    # --- queries -----------------------------------------------------------------------------

    def has_tag(self, tag: str) -> bool:
        return tag in self.tags or tag in self.tags.values()

    def is_suppressed(self, channel: str) -> bool:
        return self.deleted or ALL_CHANNELS in self.unsubscribed or channel in self.unsubscribed

    # --- fact events -------------------------------------------------------------------------
    # The application decides which of these a CRM event maps to; each only records the fact.

    def _fact(self, event_class: type[Contact.Fact], event_id: str, occurred_at: datetime,
              at: datetime, **fields: Any) -> None:
        trigger(self, event_class, {"event_id": event_id, "occurred_at": occurred_at,
                                    "at": at, **fields})

    def add_tag(self, event_id: str, occurred_at: datetime, at: datetime, tag_id: str,
                tag_name: str) -> None:
        self._fact(self.TagAdded, event_id, occurred_at, at, tag_id=tag_id, tag_name=tag_name)

    def remove_tag(self, event_id: str, occurred_at: datetime, at: datetime, tag_id: str,
                   tag_name: str) -> None:
        self._fact(self.TagRemoved, event_id, occurred_at, at, tag_id=tag_id,
                   tag_name=tag_name)

    def join_list(self, event_id: str, occurred_at: datetime, at: datetime, list_id: str,
                  list_name: str) -> None:
        self._fact(self.ListJoined, event_id, occurred_at, at, list_id=list_id,
                   list_name=list_name)

    def submit_form(self, event_id: str, occurred_at: datetime, at: datetime, form_id: str,
                    form_name: str, fields: dict[str, Any]) -> None:
        self._fact(self.FormSubmitted, event_id, occurred_at, at, form_id=form_id,
                   form_name=form_name, fields=fields)

    def change_pipeline_status(self, event_id: str, occurred_at: datetime, at: datetime,
                               pipeline_id: str, status: str, entered: bool) -> None:
        self._fact(self.PipelineStatusChanged, event_id, occurred_at, at,
                   pipeline_id=pipeline_id, status=status, entered=entered)

    def update_profile(self, event_id: str, occurred_at: datetime, at: datetime,
                       changes: dict[str, Any]) -> None:
        self._fact(self.ProfileUpdated, event_id, occurred_at, at, changes=changes)

    def reply(self, event_id: str, occurred_at: datetime, at: datetime, channel: str,
              message_id: str, out_of_office: bool) -> None:
        self._fact(self.Replied, event_id, occurred_at, at, channel=channel,
                   message_id=message_id, out_of_office=out_of_office)

    def unsubscribe(self, event_id: str, occurred_at: datetime, at: datetime,
                    channel: str) -> None:
        self._fact(self.Unsubscribed, event_id, occurred_at, at, channel=channel)

    def custom_event(self, event_id: str, occurred_at: datetime, at: datetime,
                     name: str) -> None:
        self._fact(self.CustomEventHappened, event_id, occurred_at, at, name=name)

    def delete(self, event_id: str, occurred_at: datetime, at: datetime) -> None:
        self._fact(self.Deleted, event_id, occurred_at, at)

    # --- snapshots ---------------------------------------------------------------------------

    def snapshot_state(self) -> dict[str, Any]:
        """The state as plain JSON values (``domain.snapshots``)."""
        state = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        state["unsubscribed"] = sorted(self.unsubscribed)
        for key in _TIMES:
            moment = state[key]
            state[key] = moment.isoformat() if moment is not None else None
        return state

    def restore_state(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.unsubscribed = set(state["unsubscribed"])
        for key in _TIMES:
            moment = state[key]
            setattr(self, key, datetime.fromisoformat(moment) if moment is not None else None)
