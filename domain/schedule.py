"""When a step falls due. All arithmetic is in UTC (CONVENTIONS 4); the send window, read in
the contact's zone, may only move a due time later, never earlier."""

from __future__ import annotations

from datetime import datetime

from domain.sequence import Revision
from domain.steps import Step


def due_after(base: datetime, step: Step, revision: Revision | None = None,
              contact_timezone: str | None = None) -> datetime:
    """A step is due its delay after ``base`` (the enrollment for the first step, the previous
    step's execution for the others), moved to the next send-window start if needed."""
    return in_window(base + step.delay, revision, contact_timezone)


def in_window(due: datetime, revision: Revision | None,
              contact_timezone: str | None) -> datetime:
    window = revision.window if revision is not None else None
    return window.next_allowed(due, contact_timezone) if window else due


def window_zone(revision: Revision | None, contact_timezone: str | None) -> str | None:
    """The name of the zone the revision's send window is read in for the contact (None: it
    has no window), recorded with the due time it moves."""
    window = revision.window if revision is not None else None
    return window.zone_for(contact_timezone).key if window else None


def resume_due(due_before_pause: datetime | None, now: datetime) -> datetime:
    """On resume, a step whose time passed during the pause is due now (catch up); one whose
    time has not come keeps it."""
    if due_before_pause is None or due_before_pause < now:
        return now
    return due_before_pause
