"""The Enrollment aggregate: one contact's journey through one sequence.

Statuses: active ⇄ paused, then completed or exited (both final). The current step order
only increases; only an active enrollment executes or advances; the next due time is empty
once it has ended. Every executed step is recorded: a message request (with its deterministic
``message_id``), a skip and why, a failed send and its attempt number.

After its last step's message is requested an enrollment stays active while that message may
still fail and be retried: it completes when the message is reported delivered, or once
``SETTLE`` has passed with no failure reported.

Events are explicit classes whose ``apply`` is the only place state changes (the library's
declarative style); the command methods check the rules and trigger them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain import ids
from domain.codec import Creation, trigger
from domain.errors import (
    EnrollmentStatusError,
    InvalidInputError,
    MigrationConflictError,
    StepOrderRegressionError,
)

EXIT_REASONS = ("contact_replied", "contact_unsubscribed", "contact_deleted", "manual_exit",
                "condition_not_met", "sequence_paused", "sequence_archived", "error",
                "step_removed", "goal_reached")
OPEN = ("active", "paused")
SETTLE = timedelta(minutes=30)
SETTLING = "settle"  # the reason of a wait for a retry of the last step: no deferral
MAX_CLICKED_URLS = 50  # links per message whose clicks are recorded, for each kind
MESSAGE_FIELDS = ("channel", "type", "content", "template_id", "variables", "media_url")


def _earliest(e: Enrollment, *times: datetime | None) -> datetime | None:
    candidates = [t for t in times if t is not None]
    if e.pending_retry is not None:
        candidates.append(e.pending_retry["due_at"])
    return min(candidates) if candidates else None


def _click_key(url: str, bot: bool) -> str:
    """A link's clicks by a human and by a bot are recorded apart: a link scanner clicking
    first must not hide the human's click."""
    return f"{'bot' if bot else 'human'} {url}"


def _later(last: int | None, order: int) -> int:
    return order if last is None else max(last, order)


def _follow_deferral(event: Any, e: Any, before: datetime | None) -> None:
    """What a deferral leaves on the state, kept here so that no event's ``apply`` changes:
    ``original_due_at``, the due time of the current step before any deferral moved it (the
    base of ``max_defer_hours`` and the order of throttle slots); ``throttle_slot``, the
    reserved send time of a step deferred by the throttle (any later event gives it up: a
    slot is then wasted, never used twice; a throttle deferral without a bucket holds no
    slot; a retry deferred by the throttle holds one too); ``deferred_by``, the latest
    deferral's reason."""
    if isinstance(event, Enrollment.Rescheduled):
        if getattr(e, "original_due_at", None) is None:
            e.original_due_at = before
        e.throttle_slot = _slot(event)
        e.deferred_by = event.reason if event.reason != SETTLING else None
        return
    e.throttle_slot = _slot(event) if isinstance(event, Enrollment.RetryRescheduled) else None
    moved = (e.step_due_at != before or isinstance(event, Enrollment.Advanced | Enrollment.Migrated
                                                       | Enrollment.Resumed)
             or (isinstance(event, Enrollment.StepExecuted)
                 and (event.advance_to is not None or event.final)))
    if moved:
        e.original_due_at, e.deferred_by = e.step_due_at, None


def _slot(event: Any) -> datetime | None:
    """The send time a throttle deferral holds a slot for (none without a bucket)."""
    held = event.reason == "throttle" and (event.detail or {}).get("bucket") is not None
    return event.due_at if held else None


def original_due(e: Enrollment) -> datetime | None:
    """When the current step fell due before any deferral moved it."""
    return getattr(e, "original_due_at", None) or e.step_due_at


class Enrollment(Aggregate):
    TOPIC = "dripline.Enrollment"

    class Event(Aggregate.Event):
        at: datetime

        def mutate(self, aggregate: Any) -> Any:
            before = aggregate.step_due_at if aggregate is not None else None
            mutated = super().mutate(aggregate)
            _follow_deferral(self, mutated, before)
            return mutated

    class Created(Creation, Aggregate.Created):
        TOPIC = "sequence.contact_enrolled"
        tenant_id: str
        sequence_id: UUID
        contact_id: str
        number: int
        step_order: int
        due_at: datetime
        source: str
        at: datetime
        # CRM time of entry (the trigger's occurred_at); None in events stored before it
        # existed, which then entered at ``at``.
        entered_at: datetime | None = None
        # The sequence revision it is pinned to (``domain.sequence``); 1 in older events.
        revision: int = 1
        # The due time the first step's delay alone gives, before the send window moved it
        # (None in events stored before it existed).
        nominal_due_at: datetime | None = None
        # A/B tests (``domain.assignment``): held out of every message, and the arm of each
        # experiment of its revision ({experiment id: {"arm", "by"}}); none in older events.
        holdout: bool = False
        assignments: dict[str, Any] | None = None
        # The zone the send window was read in for this due time (the contact's, else the
        # window's, else UTC); None without a window, and in events stored before it existed.
        zone: str | None = None

        def apply(self, e: Any) -> None:
            e.holdout, e.assignments = self.holdout, dict(self.assignments or {})
            e.tenant_id, e.sequence_id, e.contact_id = (self.tenant_id, self.sequence_id,
                                                        self.contact_id)
            e.revision, e.last_order, e.migrated_at_order = self.revision, None, None
            e.number, e.source, e.status = self.number, self.source, "active"
            e.current_step_order, e.attempt = self.step_order, 1
            e.next_scheduled_at = e.step_due_at = self.due_at
            e.enrolled_at = e.updated_at = self.at
            e.entered_at = self.entered_at or self.at
            e.completed_at = e.exited_at = e.exit_reason = None
            e.converted_at = e.goal_event_id = None
            e.exit_detail = ""
            e.paused_by_sequence = False
            e.due_before_pause = e.last_step_at = None
            # message_id -> {"step_order", "attempt", "status", "requested_at", "step_id",
            # and an A/B arm's "variant"}: makes feedback idempotent, and says which message
            # (and arm) a goal is credited to.
            e.messages = {}
            # A failed send waiting to be tried again: {"step_order", "attempt", "due_at"}.
            e.pending_retry = None
            # True once the last step's message is requested: the enrollment then waits
            # (``step_due_at`` is the deadline) only for a failure to retry.
            e.settling = False

    class StepExecuted(Event):
        """A step's message was requested (the one event of an executed step). The message
        itself is the rendered template; ids come from the enrollment. ``advance_to`` is the
        next step's order when this moves the enrollment on (None for a retry, and for the
        last step), ``next_due_at`` that step's due time or, after the last step, the
        deadline of settling."""

        TOPIC = "enrollment.step_executed"
        step_order: int
        step_id: str
        attempt: int
        due_at: datetime
        channel: str
        type: str
        content: str
        template_id: str | None
        variables: dict[str, str]
        media_url: str | None
        advance_to: int | None
        next_due_at: datetime | None
        final: bool
        # ``next_due_at`` as the next step's delay alone gives it, before the send window
        # moved it (None in events stored before it existed, and after the last step).
        nominal_due_at: datetime | None = None
        # The arm whose content this is, of experiment ``experiment_id`` (None: no test).
        variant: str | None = None
        experiment_id: str | None = None
        # The zone the send window was read in for this due time (the contact's, else the
        # window's, else UTC); None without a window, and in events stored before it existed.
        zone: str | None = None

        def apply(self, e: Any) -> None:
            e._requested(self.step_order, self.attempt, self.at, self.step_id, self.variant)
            if self.advance_to is not None:
                e.current_step_order, e.attempt = self.advance_to, 1
            if self.final:
                e.current_step_order, e.settling = self.step_order, True
            if self.advance_to is not None or self.final:
                e.step_due_at = self.next_due_at
                e.next_scheduled_at = _earliest(e, self.next_due_at)

    class MessageRequested(Event):
        """Stored by earlier versions: a request, followed by an ``Advanced`` or
        ``Completed`` event of its own."""

        TOPIC = "enrollment.message_requested"
        step_order: int
        attempt: int
        message_id: str
        request: dict[str, Any]

        def apply(self, e: Any) -> None:
            e._requested(self.step_order, self.attempt, self.at,
                         str(self.request.get("step_id") or ""))

    class StepSkipped(Event):
        TOPIC = "enrollment.step_skipped"
        step_order: int
        reason: str  # a code: condition_not_met, missed_while_paused
        detail: str = ""
        step_id: str = ""  # empty in events stored before it existed

        def apply(self, e: Any) -> None:
            e.last_step_at = e.updated_at = self.at
            e.last_order = _later(e.last_order, self.step_order)

    class SendFailed(Event):
        TOPIC = "enrollment.send_failed"
        message_id: str
        step_order: int
        attempt: int
        error: str
        permanent: bool
        retry_at: datetime | None

        def apply(self, e: Any) -> None:
            e.messages.setdefault(self.message_id, {"step_order": self.step_order,
                                                    "attempt": self.attempt})
            e.messages[self.message_id]["status"] = "failed"
            if self.retry_at is not None:
                e.pending_retry = {"step_order": self.step_order, "attempt": self.attempt + 1,
                                   "due_at": self.retry_at}
                if e.status == "active":  # a paused one is due again when it resumes
                    e.next_scheduled_at = _earliest(e, e.next_scheduled_at)
            e.updated_at = self.at

    class MessageDelivered(Event):
        TOPIC = "enrollment.message_delivered"
        message_id: str
        step_order: int
        # True when no delivery was reported but an open or a click showed it arrived.
        implied: bool = False

        def apply(self, e: Any) -> None:
            e.messages[self.message_id]["status"] = "delivered"
            e.updated_at = self.at

    class MessageOpened(Event):
        """The first open of a message, or its first human open after machine ones
        (``machine``: the sender says a machine opened it, e.g. a mail privacy proxy)."""

        TOPIC = "enrollment.message_opened"
        message_id: str
        step_order: int
        machine: bool
        occurred_at: datetime

        def apply(self, e: Any) -> None:
            e.messages[self.message_id]["opened_machine" if self.machine else "opened"] = True
            e.updated_at = self.at

    class MessageClicked(Event):
        """The first click of a link of a message (``bot``: the sender says a bot did)."""

        TOPIC = "enrollment.message_clicked"
        message_id: str
        step_order: int
        url: str
        bot: bool
        occurred_at: datetime
        # The message's first click by a human (by a bot, for a bot click): what the
        # engagement counters count (a message clicked is counted once, however many links).
        first: bool = True

        def apply(self, e: Any) -> None:
            sent = e.messages[self.message_id]
            sent["clicked"] = [*sent.get("clicked", []), _click_key(self.url, self.bot)]
            sent["clicked_bot" if self.bot else "clicked_human"] = True
            e.updated_at = self.at

    class Advanced(Event):
        TOPIC = "sequence.enrollment_advanced"
        new_step_order: int
        due_at: datetime
        # ``due_at`` before the send window moved it (None in events stored before it).
        nominal_due_at: datetime | None = None
        # The zone the send window was read in for this due time (the contact's, else the
        # window's, else UTC); None without a window, and in events stored before it existed.
        zone: str | None = None

        def apply(self, e: Any) -> None:
            e.current_step_order, e.attempt = self.new_step_order, 1
            e.step_due_at = self.due_at
            e.next_scheduled_at = _earliest(e, self.due_at)
            e.updated_at = self.at

    class Rescheduled(Event):
        TOPIC = "enrollment.rescheduled"
        due_at: datetime
        # Why it moved: send_window (the default, and what events stored before it meant),
        # frequency_cap or throttle; ``detail`` says which rule, count, limit or bucket;
        # settle, a wait for a retry of the last step (no step is deferred).
        reason: str = "send_window"
        detail: dict[str, Any] | None = None
        # send_window: the zone the window was read in (None in events stored before it).
        zone: str | None = None

        def apply(self, e: Any) -> None:
            e.step_due_at = self.due_at
            e.next_scheduled_at = _earliest(e, self.due_at)
            e.updated_at = self.at

    class RetryRescheduled(Event):
        """A pending retry fell outside the send window at send time: moved to its start."""

        TOPIC = "enrollment.retry_rescheduled"
        due_at: datetime
        # As on ``Rescheduled``: send_window (the default, and what events stored before it
        # meant) or throttle, whose ``detail`` names the bucket of the slot it holds.
        reason: str = "send_window"
        detail: dict[str, Any] | None = None

        def apply(self, e: Any) -> None:
            e.pending_retry = {**e.pending_retry, "due_at": self.due_at}
            e.next_scheduled_at = _earliest(e, e.step_due_at)
            e.updated_at = self.at

    class Attributed(Event):
        """A reply or an unsubscribe of the contact attributed to this message (the first
        of its kind): named by the event (``by`` message_id) or the contact's latest message
        before it (``last_message``). ``KIND`` is the flag it sets on the message."""

        TOPIC = "enrollment.attributed"  # never stored: only its two kinds below are
        KIND: ClassVar[str] = ""
        message_id: str
        step_order: int
        occurred_at: datetime
        by: str
        variant: str | None = None
        requested_at: datetime | None = None  # when the message was requested

        def apply(self, e: Any) -> None:
            e.messages[self.message_id][self.KIND] = True
            e.updated_at = self.at

    class ReplyAttributed(Attributed):
        TOPIC = "enrollment.reply_attributed"
        KIND = "replied"

    class UnsubscribeAttributed(Attributed):
        TOPIC = "enrollment.unsubscribe_attributed"
        KIND = "unsubscribed"

    class GoalReached(Event):
        """The enrollment converted (CAPABILITIES §3): the CRM event ``event_id`` met the
        goal of the revision it follows. Credited to the last message requested before the
        event (``message_id``, ``step_id``, ``step_order``; None when there was none).
        ``exclusive``: the one enrollment, across the contact's sequences, that the event
        counts for once (the one with the latest attributed message)."""

        TOPIC = "enrollment.goal_reached"
        event_id: str
        event_type: str
        occurred_at: datetime
        message_id: str | None
        step_id: str | None
        step_order: int | None
        variant: str | None = None
        holdout: bool = False
        exclusive: bool = False
        revision: int = 1  # the revision whose goal it met

        def apply(self, e: Any) -> None:
            e.converted_at, e.goal_event_id = self.occurred_at, self.event_id
            e.updated_at = self.at

    class Migrated(Event):
        """Moved to a newer revision of its sequence (a published migration): it now waits
        at ``to_step_id`` (order ``step_order``), due at ``due_at``; a pending retry of the
        old step is dropped. A paused enrollment stays paused, due then when it resumes."""

        TOPIC = "enrollment.migrated"
        from_revision: int
        to_revision: int
        from_step_id: str
        to_step_id: str
        step_order: int
        due_at: datetime

        def apply(self, e: Any) -> None:
            e.revision, e.current_step_order, e.attempt = (self.to_revision, self.step_order, 1)
            e.migrated_at_order = self.step_order
            e.pending_retry, e.step_due_at = None, self.due_at
            if e.status == "active":
                e.next_scheduled_at = self.due_at
            else:
                e.due_before_pause = self.due_at
            e.updated_at = self.at

    class Completed(Event):
        TOPIC = "sequence.enrollment_completed"

        def apply(self, e: Any) -> None:
            e.status, e.completed_at = "completed", self.at
            e._stop(self.at)

    class Exited(Event):
        TOPIC = "sequence.enrollment_exited"
        reason: str
        detail: str = ""  # a default: Exited events stored before it existed must load

        def apply(self, e: Any) -> None:
            e.status, e.exit_reason, e.exit_detail, e.exited_at = (
                "exited", self.reason, self.detail, self.at)
            e._stop(self.at)

    class Paused(Event):
        TOPIC = "sequence.enrollment_paused"
        by_sequence: bool = False  # a default, as Paused events stored without it load

        def apply(self, e: Any) -> None:
            e.status, e.paused_by_sequence = "paused", self.by_sequence
            e.due_before_pause, e.next_scheduled_at = e.step_due_at, None
            e.updated_at = self.at

    class Resumed(Event):
        TOPIC = "sequence.enrollment_resumed"
        due_at: datetime

        def apply(self, e: Any) -> None:
            e.status, e.paused_by_sequence = "active", False
            e.step_due_at = self.due_at
            e.next_scheduled_at = _earliest(e, self.due_at)
            e.updated_at = self.at

    if TYPE_CHECKING:  # set by ``Created.apply``; real annotations would make a dataclass
        tenant_id: str
        sequence_id: UUID
        contact_id: str
        number: int
        revision: int
        last_order: int | None  # the order of the last step executed or skipped
        migrated_at_order: int | None  # steps below it were sent on an earlier revision
        source: str
        status: str
        current_step_order: int
        attempt: int
        next_scheduled_at: datetime | None
        step_due_at: datetime | None
        enrolled_at: datetime
        entered_at: datetime
        updated_at: datetime
        completed_at: datetime | None
        exited_at: datetime | None
        converted_at: datetime | None  # CRM time of the goal event it converted on
        goal_event_id: str | None
        exit_reason: str | None
        exit_detail: str
        holdout: bool
        assignments: dict[str, dict[str, str]]
        paused_by_sequence: bool
        due_before_pause: datetime | None
        last_step_at: datetime | None
        messages: dict[str, dict[str, Any]]
        pending_retry: dict[str, Any] | None
        settling: bool
        original_due_at: datetime | None  # see ``_follow_deferral``
        throttle_slot: datetime | None
        deferred_by: str | None

    @classmethod
    def start(cls, *, id: UUID, tenant_id: str, sequence_id: UUID, contact_id: str,
              number: int, step_order: int, due_at: datetime, source: str, at: datetime,
              entered_at: datetime | None = None, revision: int = 1,
              nominal_due_at: datetime | None = None, holdout: bool = False,
              assignments: dict[str, dict[str, str]] | None = None,
              zone: str | None = None) -> Enrollment:
        return cls._create(cls.Created, id=id, tenant_id=tenant_id, sequence_id=sequence_id,
                           contact_id=contact_id, number=number, step_order=step_order,
                           due_at=due_at, source=source, at=at, entered_at=entered_at or at,
                           revision=revision, nominal_due_at=nominal_due_at, holdout=holdout,
                           assignments=assignments or {}, zone=zone, timestamp=at)

    def _emit(self, event_class: type[Aggregate.Event], **fields: Any) -> None:
        trigger(self, event_class, fields)

    # --- state shared by the apply methods -----------------------------------------------------

    def _requested(self, step_order: int, attempt: int, at: datetime, step_id: str,
                   variant: str | None = None) -> None:
        sent = self.messages[ids.message_id(self.id, step_order, attempt)] = {
            "step_order": step_order, "attempt": attempt, "status": "requested",
            "requested_at": at, "step_id": step_id}
        if variant is not None:
            sent["variant"] = variant
        self.last_order = _later(self.last_order, step_order)
        if self.pending_retry and self.pending_retry["step_order"] == step_order:
            self.pending_retry = None
            self.next_scheduled_at = self.step_due_at
        self.last_step_at = self.updated_at = at

    def _stop(self, at: datetime) -> None:
        self.next_scheduled_at = self.step_due_at = self.pending_retry = None
        self.settling = False
        self.updated_at = at

    # --- queries --------------------------------------------------------------------------------

    @property
    def ended_at(self) -> datetime | None:
        return self.completed_at or self.exited_at

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def due_retry(self, now: datetime) -> dict[str, Any] | None:
        retry = self.pending_retry
        return retry if retry is not None and retry["due_at"] <= now else None

    # --- executing steps ------------------------------------------------------------------------

    def execute_step(self, *, step_order: int, step_id: UUID, attempt: int, due_at: datetime,
                     message: dict[str, Any], advance_to: int | None,
                     next_due_at: datetime | None, final: bool, at: datetime,
                     nominal_due_at: datetime | None = None,
                     variant: tuple[str, str] | None = None, zone: str | None = None) -> str:
        """Record the request of a step's message; returns its message id."""
        self._require_active("execute a step")
        message_id = ids.message_id(self.id, step_order, attempt)
        if message_id in self.messages:
            raise EnrollmentStatusError(f"message {message_id} was already requested")
        if advance_to is not None and advance_to <= self.current_step_order:
            raise StepOrderRegressionError(
                f"enrollment {self.id} is at step {self.current_step_order}; "
                f"it cannot move to step {advance_to}")
        self._emit(self.StepExecuted, step_order=step_order, step_id=str(step_id),
                   attempt=attempt, due_at=due_at, advance_to=advance_to,
                   next_due_at=next_due_at, final=final, at=at, nominal_due_at=nominal_due_at,
                   experiment_id=variant[0] if variant else None,
                   variant=variant[1] if variant else None,
                   zone=zone,
                   **{k: message[k] for k in MESSAGE_FIELDS})
        return message_id

    def skip_step(self, step_order: int, reason: str, at: datetime, detail: str = "",
                  step_id: UUID | None = None) -> None:
        self._require_active("skip a step")
        self._emit(self.StepSkipped, step_order=step_order, reason=reason, at=at,
                   detail=detail[:500], step_id=str(step_id) if step_id else "")

    def advance(self, new_step_order: int, due_at: datetime, at: datetime,
                nominal_due_at: datetime | None = None, zone: str | None = None) -> None:
        self._require_active("advance")
        if new_step_order <= self.current_step_order:
            raise StepOrderRegressionError(
                f"enrollment {self.id} is at step {self.current_step_order}; "
                f"it cannot move to step {new_step_order}"
            )
        self._emit(self.Advanced, new_step_order=new_step_order, due_at=due_at, at=at,
                   nominal_due_at=nominal_due_at, zone=zone)

    def reschedule(self, due_at: datetime, at: datetime, reason: str = "send_window",
                   detail: dict[str, Any] | None = None, zone: str | None = None) -> None:
        self._require_active("be rescheduled")
        self._emit(self.Rescheduled, due_at=due_at, at=at, reason=reason, detail=detail,
                   zone=zone)

    def reschedule_retry(self, due_at: datetime, at: datetime, reason: str = "send_window",
                         detail: dict[str, Any] | None = None) -> None:
        self._require_active("be rescheduled")
        if self.pending_retry is None:
            raise EnrollmentStatusError(f"enrollment {self.id} has no retry to reschedule")
        self._emit(self.RetryRescheduled, due_at=due_at, at=at, reason=reason, detail=detail)

    @property
    def waiting(self) -> bool:
        """Open and waiting at a step not yet executed (not settling after its last one)."""
        return self.is_open and not self.settling

    def migrate(self, *, to_revision: int, from_step_id: UUID, to_step_id: UUID,
                step_order: int, due_at: datetime, at: datetime) -> None:
        """Move to a newer revision's step. Never to a step at or before the last one
        executed: message ids (enrollment, order, attempt) would repeat."""
        if not self.waiting:
            raise EnrollmentStatusError(
                f"enrollment {self.id} is {self.status}{' and settling' if self.settling else ''}"
                "; only an open enrollment waiting at a step can migrate")
        if to_revision <= self.revision:
            raise EnrollmentStatusError(
                f"enrollment {self.id} is on revision {self.revision}; it cannot migrate to "
                f"revision {to_revision}")
        if self.last_order is not None and step_order <= self.last_order:
            raise MigrationConflictError(
                f"enrollment {self.id} executed step order {self.last_order}; it cannot wait "
                f"at order {step_order}")
        self._emit(self.Migrated, from_revision=self.revision, to_revision=to_revision,
                   from_step_id=str(from_step_id), to_step_id=str(to_step_id),
                   step_order=step_order, due_at=due_at, at=at)

    def complete(self, at: datetime) -> None:
        self._require_active("complete")
        self._emit(self.Completed, at=at)

    # --- delivery feedback --------------------------------------------------------------------

    def record_failure(self, *, message_id: str, error: str, permanent: bool,
                       retry_at: datetime | None, at: datetime) -> bool:
        """Record a failed send once; returns False if it was already recorded."""
        sent = self._known_message(message_id)
        if sent["status"] != "requested":
            return False
        if retry_at is not None and not self.is_open:
            retry_at = None  # an ended enrollment sends nothing more; a paused one retries later
        self._emit(self.SendFailed, message_id=message_id, step_order=sent["step_order"],
                   attempt=sent["attempt"], error=error[:500], permanent=permanent,
                   retry_at=retry_at, at=at)
        return True

    def fail_unsent(self, *, step_order: int, attempt: int, error: str, at: datetime) -> str:
        """The step's message could not even be made (e.g. its template failed to render):
        recorded as a permanent failed send of that attempt; returns its message id."""
        self._require_active("execute a step")
        message_id = ids.message_id(self.id, step_order, attempt)
        if message_id in self.messages:
            raise EnrollmentStatusError(f"message {message_id} was already recorded")
        self._emit(self.SendFailed, message_id=message_id, step_order=step_order,
                   attempt=attempt, error=error[:500], permanent=True, retry_at=None, at=at)
        return message_id

    def record_delivery(self, message_id: str, at: datetime) -> bool:
        """Record a delivery once; returns False if it was already recorded."""
        sent = self._known_message(message_id)
        if sent["status"] != "requested":
            return False
        self._emit(self.MessageDelivered, message_id=message_id,
                   step_order=sent["step_order"], at=at)
        return True

    def sent_before_migration(self, message_id: str) -> bool:
        """Was this message sent on a revision the enrollment has since left? Its step is
        not in the revision it follows now, so it is never tried again."""
        sent = self.messages.get(message_id)
        return (sent is not None and self.migrated_at_order is not None
                and sent["step_order"] < self.migrated_at_order)

    def record_open(self, message_id: str, *, machine: bool, occurred_at: datetime,
                    at: datetime) -> bool:
        """Record an open once (a machine one and a human one apart); False if it was
        recorded already. An open of a message not yet reported delivered delivers it."""
        sent = self._known_message(message_id)
        if sent.get("opened_machine" if machine else "opened"):
            return False
        self._implied_delivery(message_id, sent, at)
        self._emit(self.MessageOpened, message_id=message_id, step_order=sent["step_order"],
                   machine=machine, occurred_at=occurred_at, at=at)
        return True

    def record_click(self, message_id: str, *, url: str, bot: bool, occurred_at: datetime,
                     at: datetime) -> bool:
        """Record the first click of each link (at most ``MAX_CLICKED_URLS`` links per
        message); False for one recorded already, or past that many."""
        sent = self._known_message(message_id)
        clicked = sent.get("clicked", [])
        of_kind = [c for c in clicked if c.startswith("bot " if bot else "human ")]
        if _click_key(url, bot) in clicked or len(of_kind) >= MAX_CLICKED_URLS:
            return False
        self._implied_delivery(message_id, sent, at)
        first = not sent.get("clicked_bot" if bot else "clicked_human", False)
        self._emit(self.MessageClicked, message_id=message_id, step_order=sent["step_order"],
                   url=url, bot=bot, occurred_at=occurred_at, first=first, at=at)
        return True

    def attribute(self, kind: str, message_id: str, *, occurred_at: datetime, by: str,
                  at: datetime) -> bool:
        """Attribute a reply (``kind`` "replied") or an unsubscribe ("unsubscribed") to this
        message, the first only; False when one was already."""
        sent = self._known_message(message_id)
        if sent.get(kind):
            return False
        event = self.ReplyAttributed if kind == "replied" else self.UnsubscribeAttributed
        self._emit(event, message_id=message_id, step_order=sent["step_order"],
                   occurred_at=occurred_at, by=by, requested_at=sent.get("requested_at"), at=at)
        return True

    def _implied_delivery(self, message_id: str, sent: dict[str, Any], at: datetime) -> None:
        if sent["status"] == "requested":
            self._emit(self.MessageDelivered, message_id=message_id,
                       step_order=sent["step_order"], implied=True, at=at)

    def is_last_message(self, message_id: str) -> bool:
        """Is this the latest request of the last step, whose fate settles the enrollment?"""
        sent = self.messages.get(message_id)
        if not self.settling or sent is None or sent["step_order"] != self.current_step_order:
            return False
        return all(m["attempt"] <= sent["attempt"] for m in self.messages.values()
                   if m["step_order"] == sent["step_order"])

    # --- goals -----------------------------------------------------------------------------------

    def reach_goal(self, *, event_id: str, event_type: str, occurred_at: datetime,
                   message_id: str | None, exclusive: bool, revision: int,
                   at: datetime) -> None:
        """Record the conversion (once: a second goal event changes nothing, so it is
        refused); credited to ``message_id``, one of its requests, or to none."""
        if self.converted_at is not None:
            raise EnrollmentStatusError(
                f"enrollment {self.id} converted already (on event {self.goal_event_id})")
        sent = self._known_message(message_id) if message_id is not None else None
        self._emit(self.GoalReached, event_id=event_id, event_type=event_type,
                   occurred_at=occurred_at, message_id=message_id,
                   step_id=(sent.get("step_id") or None) if sent else None,
                   step_order=sent["step_order"] if sent else None,
                   variant=sent.get("variant") if sent else None,
                   holdout=self.holdout, exclusive=exclusive, revision=revision, at=at)

    # --- lifecycle ------------------------------------------------------------------------------

    def exit(self, reason: str, at: datetime, detail: str = "") -> None:
        if reason not in EXIT_REASONS:
            raise InvalidInputError("reason", f"must be one of {', '.join(EXIT_REASONS)}")
        if not self.is_open:
            raise EnrollmentStatusError(
                f"enrollment {self.id} is already {self.status}; it cannot exit again"
            )
        self._emit(self.Exited, reason=reason, detail=detail[:500], at=at)

    def pause(self, at: datetime, by_sequence: bool = False) -> None:
        if self.status != "active":
            raise EnrollmentStatusError(
                f"enrollment {self.id} is {self.status}; only an active enrollment can pause"
            )
        self._emit(self.Paused, by_sequence=by_sequence, at=at)

    def resume(self, due_at: datetime, at: datetime) -> None:
        if self.status != "paused":
            raise EnrollmentStatusError(
                f"enrollment {self.id} is {self.status}; only a paused enrollment can resume"
            )
        self._emit(self.Resumed, due_at=due_at, at=at)

    # --- helpers ----------------------------------------------------------------------------------

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
