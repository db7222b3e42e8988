"""``messages``: every message request (what, to whom, when, its ``message_id``), its
delivery status (requested, then delivered or failed; delivered also when an open or a
click implied it), and when a human first opened it and first clicked a link of it (CRM
time; machine opens and bot clicks are left out, CAPABILITIES §2)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from uuid import UUID

from domain import ids
from domain.enrollment import Enrollment
from domain.messages import message_request
from projections.batch import Batch
from projections.models.base import Handler, ReadModel, dumps

E = Enrollment

REQUEST_FIELDS = ("tenant_id", "contact_id", "sequence_id", "enrollment_id", "step_id",
                  "step_order", "channel", "type", "content", "template_id", "media_url",
                  "due_at", "created_at", "variant")


class MessagesModel(ReadModel):
    name = "messages"
    version = 4  # 2: opened_at, clicked_at; 3: replied_at, unsubscribed_at; 4: variant
    table_bases = ("messages", "message_senders")
    keys: ClassVar[Mapping[str, str]] = {"messages": "message_id",
                                         "message_senders": "enrollment_id"}
    schema = (
        "CREATE TABLE IF NOT EXISTS {messages} (message_id TEXT PRIMARY KEY, "
        "tenant_id TEXT NOT NULL, contact_id TEXT, sequence_id TEXT, enrollment_id TEXT, "
        "step_id TEXT, step_order INTEGER, channel TEXT, type TEXT, content TEXT, "
        "template_id TEXT, media_url TEXT, due_at TEXT, created_at TEXT, "
        "variables TEXT NOT NULL, attempt INTEGER NOT NULL, status TEXT NOT NULL, "
        "error TEXT, requested_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL, "
        "opened_at TIMESTAMPTZ, clicked_at TIMESTAMPTZ, replied_at TIMESTAMPTZ, "
        "unsubscribed_at TIMESTAMPTZ, variant TEXT)",
        "CREATE INDEX IF NOT EXISTS {messages}_by_contact "
        "ON {messages} (tenant_id, contact_id, requested_at)",
        "CREATE INDEX IF NOT EXISTS {messages}_by_sequence "
        "ON {messages} (tenant_id, sequence_id, requested_at)",
        "CREATE INDEX IF NOT EXISTS {messages}_by_enrollment "
        "ON {messages} (tenant_id, enrollment_id, requested_at)",
        # An executed step's event names only its enrollment: who it is for comes from here.
        "CREATE TABLE IF NOT EXISTS {message_senders} (enrollment_id TEXT PRIMARY KEY, "
        "tenant_id TEXT NOT NULL, contact_id TEXT NOT NULL, sequence_id TEXT NOT NULL)",
    )

    def build_handlers(self) -> Mapping[type[Any], Handler]:
        return {E.Created: self._enrolled, E.StepExecuted: self._executed,
                E.MessageRequested: self._requested, E.MessageDelivered: self._delivered,
                E.SendFailed: self._failed, E.MessageOpened: self._opened,
                E.MessageClicked: self._clicked, E.ReplyAttributed: self._replied,
                E.UnsubscribeAttributed: self._unsubscribed}

    def prefetch(self, batch: Batch, events: Sequence[Any], t: Mapping[str, str]) -> None:
        batch.rows(t["messages"], "message_id").prefetch(
            e.message_id for e in events if isinstance(
                e, E.MessageDelivered | E.SendFailed | E.MessageOpened | E.MessageClicked
                | E.ReplyAttributed | E.UnsubscribeAttributed))
        batch.rows(t["message_senders"], "enrollment_id").prefetch(
            e.originator_id for e in events if isinstance(e, E.StepExecuted))

    def _enrolled(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        b.rows(t["message_senders"], "enrollment_id").put(e.originator_id, {
            "enrollment_id": str(e.originator_id), "tenant_id": e.tenant_id,
            "contact_id": e.contact_id, "sequence_id": str(e.sequence_id)})

    def _executed(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        sender = b.rows(t["message_senders"], "enrollment_id").get(e.originator_id)
        if sender is None:
            return  # cannot happen in a complete log; never invent a recipient
        request = message_request(enrollment_id=e.originator_id,
                                  tenant_id=sender["tenant_id"],
                                  contact_id=sender["contact_id"],
                                  sequence_id=UUID(sender["sequence_id"]), event=e)
        self._put(b, t, e, request)

    def _requested(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        self._put(b, t, e, e.request)

    @staticmethod
    def _put(b: Batch, t: Mapping[str, str], e: Any, request: Mapping[str, Any]) -> None:
        # The request's own ids win; the event says which enrollment asked, if it omits them.
        row: dict[str, Any] = {k: request.get(k) for k in REQUEST_FIELDS}
        row["enrollment_id"] = row["enrollment_id"] or str(e.originator_id)
        row = {k: (str(v) if v is not None else v) for k, v in row.items()}
        message_id = ids.message_id(e.originator_id, e.step_order, e.attempt)
        row.update(message_id=message_id, step_order=e.step_order,
                   variables=dumps(request.get("variables") or {}), attempt=e.attempt,
                   status="requested", error=None, requested_at=e.at, updated_at=e.at,
                   opened_at=None, clicked_at=None, replied_at=None, unsubscribed_at=None)
        b.rows(t["messages"], "message_id").put(message_id, row)

    def _delivered(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        self._set_status(b, e, t, status="delivered")

    def _failed(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        self._set_status(b, e, t, status="failed", error=e.error)

    def _opened(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        if not e.machine:  # the enrollment records a message's human open once
            self._first(b, e, t, "opened_at")

    def _clicked(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        if e.first and not e.bot:
            self._first(b, e, t, "clicked_at")

    def _replied(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        self._first(b, e, t, "replied_at")  # the enrollment attributes one reply per message

    def _unsubscribed(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        self._first(b, e, t, "unsubscribed_at")

    @staticmethod
    def _first(b: Batch, e: Any, t: Mapping[str, str], column: str) -> None:
        rows = b.rows(t["messages"], "message_id")
        row = rows.get(e.message_id)
        if row is not None and row[column] is None:
            rows.put(e.message_id, {**row, column: e.occurred_at, "updated_at": e.at})

    def _set_status(self, b: Batch, e: Any, t: Mapping[str, str], **changes: Any) -> None:
        rows = b.rows(t["messages"], "message_id")
        row = rows.get(e.message_id)
        if row is not None:
            rows.put(e.message_id, {**row, **changes, "updated_at": e.at})
