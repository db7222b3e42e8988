"""How an enrollment's scheduling state follows from its events: the same rules as the
``Enrollment`` aggregate's apply methods, kept in one function that both the ``enrollments``
and the ``due_enrollments`` models use, so the two cannot drift apart."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.enrollment import Enrollment

E = Enrollment

# Columns this function reads and writes (besides identity, which Created alone carries).
STATE = ("status", "revision", "current_step_order", "next_scheduled_at", "step_due_at",
         "retry_step", "retry_at", "paused_by_sequence", "due_before_pause", "completed_at",
         "exited_at", "exit_reason", "exit_detail", "last_step_at", "settling")


def _earliest(state: dict[str, Any], *times: datetime | None) -> datetime | None:
    candidates = [t for t in (*times, state["retry_at"]) if t is not None]
    return min(candidates) if candidates else None


def initial(e: Any) -> dict[str, Any]:
    return {"status": "active", "revision": e.revision, "current_step_order": e.step_order,
            "next_scheduled_at": e.due_at, "step_due_at": e.due_at, "retry_step": None,
            "retry_at": None,
            "paused_by_sequence": False, "due_before_pause": None, "completed_at": None,
            "exited_at": None, "exit_reason": None, "exit_detail": None, "last_step_at": None,
            "settling": False}


def evolve(state: dict[str, Any], e: Any) -> dict[str, Any]:
    """Mirrors ``Enrollment``'s apply methods: ``step_due_at`` is the current step's own due
    time, ``next_scheduled_at`` the earlier of it and a pending retry (none while paused)."""
    s = dict(state)
    if isinstance(e, E.MessageRequested | E.StepExecuted):
        if s["retry_step"] is not None and s["retry_step"] == e.step_order:
            s["retry_step"] = s["retry_at"] = None
            s["next_scheduled_at"] = s["step_due_at"]
        s["last_step_at"] = e.at
        if isinstance(e, E.StepExecuted):
            if e.advance_to is not None:
                s["current_step_order"] = e.advance_to
            if e.final:
                s["current_step_order"], s["settling"] = e.step_order, True
            if e.advance_to is not None or e.final:
                s["step_due_at"] = e.next_due_at
                s["next_scheduled_at"] = _earliest(s, e.next_due_at)
    elif isinstance(e, E.RetryRescheduled):
        s["retry_at"] = e.due_at
        s["next_scheduled_at"] = _earliest(s, s["step_due_at"])
    elif isinstance(e, E.StepSkipped):
        s["last_step_at"] = e.at
    elif isinstance(e, E.SendFailed):
        if e.retry_at is not None:
            s["retry_step"], s["retry_at"] = e.step_order, e.retry_at
            if s["status"] == "active":  # a paused one is due again when it resumes
                s["next_scheduled_at"] = _earliest(s, s["next_scheduled_at"])
    elif isinstance(e, E.Advanced | E.Rescheduled | E.Resumed):
        if isinstance(e, E.Advanced):
            s["current_step_order"] = e.new_step_order
        if isinstance(e, E.Resumed):
            s["status"], s["paused_by_sequence"] = "active", False
        s["step_due_at"] = e.due_at
        s["next_scheduled_at"] = _earliest(s, e.due_at)
    elif isinstance(e, E.Completed):
        s["status"], s["completed_at"], s["settling"] = "completed", e.at, False
        s["next_scheduled_at"] = s["step_due_at"] = s["retry_step"] = s["retry_at"] = None
    elif isinstance(e, E.Exited):
        s["status"], s["exited_at"], s["settling"] = "exited", e.at, False
        s["exit_reason"], s["exit_detail"] = e.reason, e.detail
        s["next_scheduled_at"] = s["step_due_at"] = s["retry_step"] = s["retry_at"] = None
    elif isinstance(e, E.Migrated):
        # Now at a step of a newer revision: the old step's pending retry is dropped; a
        # paused one stays paused and is due then when it resumes.
        s["revision"], s["current_step_order"] = e.to_revision, e.step_order
        s["retry_step"] = s["retry_at"] = None
        s["step_due_at"] = e.due_at
        if s["status"] == "active":
            s["next_scheduled_at"] = e.due_at
        else:
            s["due_before_pause"] = e.due_at
    elif isinstance(e, E.Paused):
        s["status"], s["paused_by_sequence"] = "paused", e.by_sequence
        s["due_before_pause"], s["next_scheduled_at"] = s["step_due_at"], None
    return s
