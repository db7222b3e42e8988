"""The Enrollment aggregate: one contact's journey through one sequence.

Statuses: active ⇄ paused, then completed or exited (both final). The current step order
only increases; only an active enrollment executes or advances; the next due time is empty
once it has ended. Every executed step is recorded: a message request (with its deterministic
``message_id``), a skip and why, a failed send and its attempt number.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import EnrollmentStatusError, InvalidInputError, StepOrderRegressionError

EXIT_REASONS = ("contact_replied", "contact_unsubscribed", "contact_deleted", "manual_exit",
                "condition_not_met", "sequence_paused", "sequence_archived", "error")
OPEN = ("active", "paused")


class Enrollment(Aggregate):
    TOPIC = "dripline.Enrollment"

    class Event(Aggregate.Event):
        at: datetime

    class Created(Aggregate.Created):
        TOPIC = "sequence.contact_enrolled"
        tenant_id: str
        sequence_id: UUID
        contact_id: str
        number: int
        step_order: int
        due_at: datetime
        source: str
        at: datetime

    class MessageRequested(Event):
        TOPIC = "enrollment.message_requested"
        step_order: int
        attempt: int
        message_id: str
        request: dict[str, Any]

    class StepSkipped(Event):
        TOPIC = "enrollment.step_skipped"
        step_order: int
        reason: str  # a code: condition_not_met, missed_while_paused
        detail: str = ""

    class SendFailed(Event):
        TOPIC = "enrollment.send_failed"
        message_id: str
        step_order: int
        attempt: int
        error: str
        permanent: bool
        retry_at: datetime | None

    class MessageDelivered(Event):
        TOPIC = "enrollment.message_delivered"
        message_id: str
        step_order: int

    class Advanced(Event):
        TOPIC = "sequence.enrollment_advanced"
        new_step_order: int
        due_at: datetime

    class Rescheduled(Event):
        TOPIC = "enrollment.rescheduled"
        due_at: datetime

    class Completed(Event):
        TOPIC = "sequence.enrollment_completed"

    class Exited(Event):
        TOPIC = "sequence.enrollment_exited"
        reason: str
        detail: str = ""

    class Paused(Event):
        TOPIC = "sequence.enrollment_paused"
        by_sequence: bool = False

    class Resumed(Event):
        TOPIC = "sequence.enrollment_resumed"
        due_at: datetime

    @event(Created)
    def __init__(self, *, id: UUID, tenant_id: str, sequence_id: UUID, contact_id: str,
                 number: int,
                 step_order: int, due_at: datetime, source: str, at: datetime) -> None:
        self.tenant_id = tenant_id
        self.sequence_id = sequence_id
        self.contact_id = contact_id
        self.number = number
        self.source = source
        self.status = "active"
        self.current_step_order = step_order
        self.attempt = 1
        self.next_scheduled_at: datetime | None = due_at
        self.step_due_at: datetime | None = due_at  # the current step's own due time
        self.enrolled_at = at
        self.updated_at = at
        self.completed_at: datetime | None = None
        self.exited_at: datetime | None = None
        self.exit_reason: str | None = None
        self.paused_by_sequence = False
        self.due_before_pause: datetime | None = None
        self.last_step_at: datetime | None = None
        # message_id -> {"step_order", "attempt", "status"}; makes delivery feedback idempotent.
        self.messages: dict[str, dict[str, Any]] = {}
        # A failed send waiting to be tried again: {"step_order", "attempt", "due_at"}.
        self.pending_retry: dict[str, Any] | None = None

    @property
    def ended_at(self) -> datetime | None:
        return self.completed_at or self.exited_at

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    # --- executing steps --------------------------------------------------------------------

    def request_message(self, *, step_order: int, attempt: int, message_id: str,
                        request: dict[str, Any], at: datetime) -> None:
        self._require_active("execute a step")
        if message_id in self.messages:
            raise EnrollmentStatusError(f"message {message_id} was already requested")
        self._request_message(step_order=step_order, attempt=attempt, message_id=message_id,
                              request=request, at=at)

    @event(MessageRequested)
    def _request_message(self, step_order: int, attempt: int, message_id: str,
                         request: dict[str, Any], at: datetime) -> None:
        self.messages[message_id] = {"step_order": step_order, "attempt": attempt,
                                     "status": "requested"}
        if self.pending_retry and self.pending_retry["step_order"] == step_order:
            self.pending_retry = None
            self.next_scheduled_at = self.step_due_at
        self.last_step_at = at
        self.updated_at = at

    def skip_step(self, step_order: int, reason: str, at: datetime, detail: str = "") -> None:
        self._require_active("skip a step")
        self._skip_step(step_order=step_order, reason=reason, at=at, detail=detail[:500])

    @event(StepSkipped)
    def _skip_step(self, step_order: int, reason: str, at: datetime, detail: str = "") -> None:
        self.last_step_at = at
        self.updated_at = at

    def advance(self, new_step_order: int, due_at: datetime, at: datetime) -> None:
        self._require_active("advance")
        if new_step_order <= self.current_step_order:
            raise StepOrderRegressionError(
                f"enrollment {self.id} is at step {self.current_step_order}; "
                f"it cannot move to step {new_step_order}"
            )
        self._advance(new_step_order=new_step_order, due_at=due_at, at=at)

    @event(Advanced)
    def _advance(self, new_step_order: int, due_at: datetime, at: datetime) -> None:
        self.current_step_order = new_step_order
        self.attempt = 1
        self.step_due_at = due_at
        self.next_scheduled_at = self._earliest(due_at)
        self.updated_at = at

    def reschedule(self, due_at: datetime, at: datetime) -> None:
        self._require_active("be rescheduled")
        self._reschedule(due_at=due_at, at=at)

    @event(Rescheduled)
    def _reschedule(self, due_at: datetime, at: datetime) -> None:
        self.step_due_at = due_at
        self.next_scheduled_at = self._earliest(due_at)
        self.updated_at = at

    def complete(self, at: datetime) -> None:
        self._require_active("complete")
        self._complete(at=at)

    @event(Completed)
    def _complete(self, at: datetime) -> None:
        self.status = "completed"
        self.completed_at = at
        self.next_scheduled_at = None
        self.step_due_at = None
        self.pending_retry = None
        self.updated_at = at

    # --- delivery feedback --------------------------------------------------------------------

    def record_failure(self, *, message_id: str, error: str, permanent: bool,
                       retry_at: datetime | None, at: datetime) -> bool:
        """Record a failed send once; returns False if it was already recorded."""
        sent = self._known_message(message_id)
        if sent["status"] != "requested":
            return False
        if retry_at is not None and not self.is_open:
            retry_at = None  # an ended enrollment sends nothing more; a paused one retries later
        self._record_failure(message_id=message_id, step_order=sent["step_order"],
                             attempt=sent["attempt"], error=error[:500], permanent=permanent,
                             retry_at=retry_at, at=at)
        return True

    def fail_unsent(self, *, step_order: int, attempt: int, message_id: str, error: str,
                    at: datetime) -> None:
        """The step's message could not even be made (e.g. its template failed to render):
        recorded as a permanent failed send of that attempt."""
        self._require_active("execute a step")
        if message_id in self.messages:
            raise EnrollmentStatusError(f"message {message_id} was already recorded")
        self._record_failure(message_id=message_id, step_order=step_order, attempt=attempt,
                             error=error[:500], permanent=True, retry_at=None, at=at)

    @event(SendFailed)
    def _record_failure(self, message_id: str, step_order: int, attempt: int, error: str,
                        permanent: bool, retry_at: datetime | None, at: datetime) -> None:
        self.messages.setdefault(message_id, {"step_order": step_order, "attempt": attempt})
        self.messages[message_id]["status"] = "failed"
        if retry_at is not None:
            self.pending_retry = {"step_order": step_order, "attempt": attempt + 1,
                                  "due_at": retry_at}
            if self.status == "active":  # a paused one is due again when it resumes
                self.next_scheduled_at = self._earliest(self.next_scheduled_at, retry_at)
        self.updated_at = at

    def record_delivery(self, message_id: str, at: datetime) -> bool:
        """Record a delivery once; returns False if it was already recorded."""
        sent = self._known_message(message_id)
        if sent["status"] != "requested":
            return False
        self._record_delivery(message_id=message_id, step_order=sent["step_order"], at=at)
        return True

    @event(MessageDelivered)
    def _record_delivery(self, message_id: str, step_order: int, at: datetime) -> None:
        self.messages[message_id]["status"] = "delivered"
        self.updated_at = at

    # --- lifecycle ------------------------------------------------------------------------------

    def exit(self, reason: str, at: datetime, detail: str = "") -> None:
        if reason not in EXIT_REASONS:
            raise InvalidInputError("reason", f"must be one of {', '.join(EXIT_REASONS)}")
        if not self.is_open:
            raise EnrollmentStatusError(
                f"enrollment {self.id} is already {self.status}; it cannot exit again"
            )
        self._exit(reason=reason, detail=detail[:500], at=at)

    @event(Exited)
    def _exit(self, reason: str, at: datetime, detail: str = "") -> None:
        # ``detail`` has a default, as on the event: Exited events stored before it existed
        # carry no ``detail`` and must still load.
        self.status = "exited"
        self.exit_reason = reason
        self.exited_at = at
        self.next_scheduled_at = None
        self.step_due_at = None
        self.pending_retry = None
        self.updated_at = at

    def pause(self, at: datetime, by_sequence: bool = False) -> None:
        if self.status != "active":
            raise EnrollmentStatusError(
                f"enrollment {self.id} is {self.status}; only an active enrollment can pause"
            )
        self._pause(by_sequence=by_sequence, at=at)

    @event(Paused)
    def _pause(self, at: datetime, by_sequence: bool = False) -> None:
        # Default as on the event, so Paused events stored without ``by_sequence`` load.
        self.status = "paused"
        self.paused_by_sequence = by_sequence
        self.due_before_pause = self.step_due_at
        self.next_scheduled_at = None
        self.updated_at = at

    def resume(self, due_at: datetime, at: datetime) -> None:
        if self.status != "paused":
            raise EnrollmentStatusError(
                f"enrollment {self.id} is {self.status}; only a paused enrollment can resume"
            )
        self._resume(due_at=due_at, at=at)

    @event(Resumed)
    def _resume(self, due_at: datetime, at: datetime) -> None:
        self.status = "active"
        self.paused_by_sequence = False
        self.step_due_at = due_at
        self.next_scheduled_at = self._earliest(due_at)
        self.updated_at = at

    # --- helpers ----------------------------------------------------------------------------------

    def _earliest(self, *times: datetime | None) -> datetime | None:
        candidates = [t for t in times if t is not None]
        if self.pending_retry is not None:
            candidates.append(self.pending_retry["due_at"])
        return min(candidates) if candidates else None

    def _known_message(self, message_id: str) -> dict[str, Any]:
        try:
            return self.messages[message_id]
        except KeyError:
            raise InvalidInputError(
                "message_id", f"enrollment {self.id} requested no message {message_id}"
            ) from None

    def _require_active(self, what: str) -> None:
        if self.status != "active":
            raise EnrollmentStatusError(
                f"enrollment {self.id} is {self.status}; only an active enrollment can {what}"
            )
