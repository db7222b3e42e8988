"""When a step falls due. All arithmetic is in UTC (CONVENTIONS 4)."""

from __future__ import annotations

from datetime import datetime

from domain.steps import Step


def due_after(base: datetime, step: Step) -> datetime:
    """A step is due its delay after ``base``: the enrollment for the first step, the previous
    step's execution for the others."""
    return base + step.delay


def resume_due(due_before_pause: datetime | None, now: datetime) -> datetime:
    """On resume, a step whose time passed during the pause is due now (catch up); one whose
    time has not come keeps it."""
    if due_before_pause is None or due_before_pause < now:
        return now
    return due_before_pause
