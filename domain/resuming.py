"""Resuming a paused enrollment, by the sequence's resume policy.

``send_late`` (default): a step whose time passed during the pause is due at once.
``skip_missed``: steps whose time passed are skipped (reason ``missed_while_paused``) and the
enrollment moves on to the first step whose original time has not come — or completes if none.
"""

from __future__ import annotations

from datetime import datetime

from domain.enrollment import Enrollment
from domain.schedule import in_window, resume_due, window_zone
from domain.sequence import Revision
from domain.steps import Step


def resume(enrollment: Enrollment, sequence: Revision, contact_timezone: str | None,
           now: datetime) -> None:
    due = enrollment.due_before_pause
    if sequence.resume_policy != "skip_missed" or due is None or due >= now:
        enrollment.resume(in_window(resume_due(due, now), sequence, contact_timezone), now)
        return
    missed: list[Step] = []
    step = sequence.step_at(enrollment.current_step_order)
    while step is not None and due < now:
        missed.append(step)
        step = sequence.step_after(step.order)
        if step is not None:
            due = due + step.delay
    enrollment.resume(now, now)
    for skipped in missed:
        enrollment.skip_step(skipped.order, "missed_while_paused", now, step_id=skipped.id)
        following = sequence.step_after(skipped.order)
        if following is None:
            enrollment.complete(now)
            return
        if following is step:
            enrollment.advance(following.order, in_window(due, sequence, contact_timezone), now,
                               nominal_due_at=due, zone=window_zone(sequence, contact_timezone))
            return
    # Only reached when the current step itself is gone from the definition (cannot happen
    # for an active sequence, whose steps are frozen): leave the enrollment due now.
