"""``messages``: every message request (what, to whom, when, its ``message_id``) and its
delivery status: requested, then delivered or failed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from domain.enrollment import Enrollment
from projections.batch import Batch
from projections.models.base import Handler, ReadModel, dumps

E = Enrollment

REQUEST_FIELDS = ("tenant_id", "contact_id", "sequence_id", "enrollment_id", "step_id",
                  "step_order", "channel", "type", "content", "template_id", "media_url",
                  "due_at", "created_at")


class MessagesModel(ReadModel):
    name = "messages"
    table_bases = ("messages",)
    keys: ClassVar[Mapping[str, str]] = {"messages": "message_id"}
    schema = (
        "CREATE TABLE IF NOT EXISTS {messages} (message_id TEXT PRIMARY KEY, "
        "tenant_id TEXT NOT NULL, contact_id TEXT, sequence_id TEXT, enrollment_id TEXT, "
        "step_id TEXT, step_order INTEGER, channel TEXT, type TEXT, content TEXT, "
        "template_id TEXT, media_url TEXT, due_at TEXT, created_at TEXT, "
        "variables TEXT NOT NULL, attempt INTEGER NOT NULL, status TEXT NOT NULL, "
        "error TEXT, requested_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL)",
        "CREATE INDEX IF NOT EXISTS {messages}_by_contact "
        "ON {messages} (tenant_id, contact_id, requested_at)",
        "CREATE INDEX IF NOT EXISTS {messages}_by_sequence "
        "ON {messages} (tenant_id, sequence_id, requested_at)",
        "CREATE INDEX IF NOT EXISTS {messages}_by_enrollment "
        "ON {messages} (tenant_id, enrollment_id, requested_at)",
    )

    def build_handlers(self) -> Mapping[type[Any], Handler]:
        return {E.MessageRequested: self._requested, E.MessageDelivered: self._delivered,
                E.SendFailed: self._failed}

    def prefetch(self, batch: Batch, events: Sequence[Any], t: Mapping[str, str]) -> None:
        batch.rows(t["messages"], "message_id").prefetch(
            e.message_id for e in events if not isinstance(e, E.MessageRequested))

    def _requested(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        request = e.request
        # The request's own ids win; the event says which enrollment asked, if it omits them.
        row: dict[str, Any] = {k: request.get(k) for k in REQUEST_FIELDS}
        row["enrollment_id"] = row["enrollment_id"] or str(e.originator_id)
        row = {k: (str(v) if v is not None else v) for k, v in row.items()}
        row.update(message_id=e.message_id, step_order=e.step_order,
                   variables=dumps(request.get("variables") or {}), attempt=e.attempt,
                   status="requested", error=None, requested_at=e.at, updated_at=e.at)
        b.rows(t["messages"], "message_id").put(e.message_id, row)

    def _delivered(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        self._set_status(b, e, t, status="delivered")

    def _failed(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        self._set_status(b, e, t, status="failed", error=e.error)

    def _set_status(self, b: Batch, e: Any, t: Mapping[str, str], **changes: Any) -> None:
        rows = b.rows(t["messages"], "message_id")
        row = rows.get(e.message_id)
        if row is not None:
            rows.put(e.message_id, {**row, **changes, "updated_at": e.at})
