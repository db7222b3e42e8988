"""Named domain errors.

Every rule the domain enforces raises one of these, with a message that says what was wrong
and how to put it right. The edges map the families to their protocol (HTTP status, dead
letter reason): invalid input, a state that forbids the command, an unknown resource, and a
stale write.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class of every error the domain raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- The command is wrong in itself (HTTP 422) ---------------------------------------------


class InvalidInputError(DomainError):
    """A value is missing, of the wrong kind, or out of range. ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


# --- The command is valid but the current state forbids it (HTTP 409) ------------------------


class StateConflictError(DomainError):
    """The resource exists and the command is well formed, but its state forbids it."""


class InvalidTransitionError(StateConflictError):
    """A status change that the lifecycle does not allow (e.g. resuming a draft)."""


class SequenceNotDraftError(StateConflictError):
    """Steps, settings and deletion are only allowed while a sequence is a draft."""


class RevisionNotDraftError(StateConflictError):
    """A published revision never changes; only the draft revision is edited or published."""


class MigrationConflictError(StateConflictError):
    """An enrollment cannot move to a step at or before the last one it executed (its message
    ids would repeat): it stays on its revision."""


class SequenceHasNoStepsError(StateConflictError):
    """A sequence cannot be activated without at least one step."""


class DuplicateStepOrderError(StateConflictError):
    """Two steps of one sequence cannot share an order number."""


class SequenceNotActiveError(StateConflictError):
    """Contacts can only be enrolled in an active sequence."""


class AlreadyEnrolledError(StateConflictError):
    """The contact already has an active (or paused) enrollment in this sequence."""


class ReEnrollmentNotAllowedError(StateConflictError):
    """The sequence's re-enrollment policy refuses another enrollment of this contact."""


class EnrollmentStatusError(StateConflictError):
    """The enrollment's status forbids the command (e.g. advancing a paused enrollment)."""


class StepOrderRegressionError(StateConflictError):
    """An enrollment's current step order only ever increases."""


class ContactDeletedError(StateConflictError):
    """The contact was deleted in the CRM; it cannot be enrolled or changed."""


class BuiltinTemplateError(StateConflictError):
    """A built-in template is read-only: clone it to change it."""


# --- Unknown resource (HTTP 404) ---------------------------------------------------------------


class NotFoundError(DomainError):
    """No such resource for this tenant."""


class SequenceNotFoundError(NotFoundError):
    pass


class StepNotFoundError(NotFoundError):
    pass


class RevisionNotFoundError(NotFoundError):
    pass


class ExperimentNotFoundError(NotFoundError):
    """The revision has no experiment of that id."""


class MigrationNotFoundError(NotFoundError):
    pass


class TemplateNotFoundError(NotFoundError):
    pass


class EnrollmentNotFoundError(NotFoundError):
    pass


class ContactNotFoundError(NotFoundError):
    pass


# --- Stale write (HTTP 412 with If-Match, otherwise 409) --------------------------------------


class ConcurrencyConflictError(DomainError):
    """Someone else changed the aggregate since it was read; reload and try again."""


class ContactSuppressedError(StateConflictError):
    """The contact unsubscribed from every channel; nothing may be sent to them."""


# --- The store holds something the rules say cannot be (HTTP 500, with the reason) -----------


class InconsistentStateError(DomainError):
    """Stored facts contradict each other (a slot naming an enrollment that does not exist,
    say): the command cannot be decided; the message names what was found."""
