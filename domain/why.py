"""Why is this enrollment waiting? (CAPABILITIES §7.) Read from the enrollment's own event
stream, never from a read model: the reason is that of the latest event that set its due
time, so it is deterministic and the same after a replay. Only ``due``/``stuck`` (and the
overdue seconds) depend on the clock.

| reason | set by |
|---|---|
| delay | enrolled, step executed, moved on, resumed, migrated, with no window move |
| send_window | the same with ``nominal_due_at`` ≠ due time, or rescheduled/send_window |
| frequency_cap, throttle | rescheduled with that reason (its detail as recorded) |
| retry_backoff | a failed send with a retry (and the retry moved by the window) |
| paused, sequence_paused | paused by hand, or with its sequence |
| migration | a revision migration of its sequence is running |
| due, stuck | overdue by at most, or more than, the stuck threshold |
| ended | completed or exited, with the reason and its recorded detail |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.enrollment import SETTLE, Enrollment
from domain.sequence import Revision
from domain.why_timeline import TimelineEntry, iso, masked, timeline
from domain.windows import zone

E = Enrollment
TIMELINE_LIMIT = 500  # the newest events the timeline shows; it says how many it leaves out


@dataclass(frozen=True)
class Waiting:
    reason: str
    since: datetime | None
    until: datetime | None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Explanation:
    enrollment_id: UUID
    sequence_id: UUID
    contact_id: str
    status: str
    revision: int
    current_step: dict[str, Any] | None
    next_due_at: datetime | None
    nominal_due_at: datetime | None
    waiting: Waiting
    overdue_seconds: int
    timeline: list[TimelineEntry]  # the newest TIMELINE_LIMIT events, oldest first
    timeline_omitted: int = 0  # older events left out of it


@dataclass(frozen=True)
class Context:
    """What the explanation reads besides the enrollment's events."""

    revision: Revision | None  # the revision it follows (None: its sequence is gone)
    contact_timezone: str | None
    migrating_to: int | None  # a running migration's revision, for its sequence
    now: datetime
    stuck_after: timedelta
    suspected_cause: str | None = None  # of a stuck enrollment (the stuck detector's)


@dataclass
class _Scheduled:
    """The latest reason for the step's due time and for a pending retry's, as the stream
    goes by."""

    step: Waiting | None = None
    retry: Waiting | None = None
    nominal: datetime | None = None
    settling: bool = False


def overdue_past(due: datetime, now: datetime, threshold: timedelta) -> bool:
    """Due more than ``threshold`` ago, on the exact times: stuck. The one test of the why
    view, the stuck detector and its gauges."""
    return now - due > threshold


def explain(e: Enrollment, events: list[Any], ctx: Context) -> Explanation:
    scheduled = _Scheduled()
    for event in events:
        _follow(scheduled, event, ctx)
    overdue = 0
    if e.status == "active" and e.next_scheduled_at is not None:
        overdue = max(0, int((ctx.now - e.next_scheduled_at).total_seconds()))
    step = ctx.revision.step_at(e.current_step_order) if ctx.revision else None
    return Explanation(
        enrollment_id=e.id, sequence_id=e.sequence_id, contact_id=e.contact_id,
        status=e.status, revision=e.revision,
        current_step=({"id": str(step.id), "order": step.order, "name": step.name}
                      if step else None),
        next_due_at=e.next_scheduled_at,
        nominal_due_at=(scheduled.nominal or e.step_due_at) if e.is_open else None,
        waiting=_waiting(e, events, scheduled, overdue, ctx), overdue_seconds=overdue,
        timeline=timeline(events[-TIMELINE_LIMIT:]),
        timeline_omitted=max(0, len(events) - TIMELINE_LIMIT))


def _waiting(e: Enrollment, events: list[Any], s: _Scheduled, overdue: int,
             ctx: Context) -> Waiting:
    if not e.is_open:
        last = events[-1]
        outcome = ({"outcome": "exited", "reason": e.exit_reason,
                    "detail": masked(e.exit_detail)} if e.status == "exited"
                   else {"outcome": "completed", "reason": "completed"})
        return Waiting("ended", e.ended_at or last.at, None, outcome)
    if e.status == "paused":
        paused = next(ev for ev in reversed(events) if isinstance(ev, E.Paused))
        return Waiting("sequence_paused" if paused.by_sequence else "paused", paused.at, None,
                       {"by": "sequence" if paused.by_sequence else "hand"})
    retrying = (e.pending_retry is not None
                and e.next_scheduled_at == e.pending_retry["due_at"])
    scheduled = (s.retry if retrying else s.step) or Waiting("delay", e.enrolled_at,
                                                              e.next_scheduled_at)
    if e.next_scheduled_at is not None and ctx.now > e.next_scheduled_at:
        behind = {"behind_seconds": overdue, "scheduled_reason": scheduled.reason}
        if not overdue_past(e.next_scheduled_at, ctx.now, ctx.stuck_after):
            return Waiting("due", e.next_scheduled_at, None, behind)
        return Waiting("stuck", e.next_scheduled_at, None,
                       {**behind, "suspected_cause": ctx.suspected_cause or "unknown"})
    if ctx.migrating_to is not None and ctx.migrating_to > e.revision:
        return Waiting("migration", scheduled.since, e.next_scheduled_at,
                       {"from_revision": e.revision, "to_revision": ctx.migrating_to})
    return scheduled


def _follow(s: _Scheduled, ev: Any, ctx: Context) -> None:
    """Update the latest scheduling reasons with one event."""
    if isinstance(ev, E.Created):
        s.settling = False
        s.step = _moved(ev.at, ev.due_at, ev.nominal_due_at, ev.zone, ev.step_order, ctx)
        s.nominal = ev.nominal_due_at or ev.due_at
    elif isinstance(ev, E.StepExecuted):
        if s.retry is not None and ev.advance_to is None:
            s.retry = None  # the retry was requested
        if ev.final:
            s.settling, s.nominal = True, ev.next_due_at
            s.step = Waiting("delay", ev.at, ev.next_due_at, _settle(ev.step_order))
        elif ev.advance_to is not None:
            s.step = _moved(ev.at, ev.next_due_at, ev.nominal_due_at, ev.zone, ev.advance_to,
                            ctx)
            s.nominal = ev.nominal_due_at or ev.next_due_at
    elif isinstance(ev, E.Advanced):
        s.step = _moved(ev.at, ev.due_at, ev.nominal_due_at, ev.zone, ev.new_step_order, ctx)
        s.nominal = ev.nominal_due_at or ev.due_at
    elif isinstance(ev, E.Rescheduled):
        s.step = _rescheduled(s, ev, ctx)
    elif isinstance(ev, E.SendFailed) and ev.retry_at is not None:
        s.retry = Waiting("retry_backoff", ev.at, ev.retry_at, {
            "attempt": ev.attempt + 1, "failed_attempt": ev.attempt,
            "last_error": masked(ev.error), "message_id": ev.message_id,
            "step_order": ev.step_order})
    elif isinstance(ev, E.RetryRescheduled) and s.retry is not None:
        s.retry = Waiting("retry_backoff", s.retry.since, ev.due_at,
                          {**s.retry.detail, "moved_by_send_window": True})
    elif isinstance(ev, E.Resumed):
        s.step, s.nominal = Waiting("delay", ev.at, ev.due_at, {"resumed": True}), ev.due_at
    elif isinstance(ev, E.Migrated):
        s.retry, s.nominal = None, ev.due_at
        s.step = Waiting("delay", ev.at, ev.due_at, {"step_order": ev.step_order,
                                                      "migrated_to_revision": ev.to_revision})


def _moved(at: datetime, due: datetime | None, nominal: datetime | None, recorded: str | None,
           order: int, ctx: Context) -> Waiting:
    if nominal is not None and due is not None and nominal != due:
        return Waiting("send_window", at, due, _window_detail(nominal, due, recorded, ctx))
    step = ctx.revision.step_at(order) if ctx.revision else None
    delay = ({"delay_amount": step.delay_amount, "delay_unit": step.delay_unit}
             if step else {})
    return Waiting("delay", at, due, {"step_order": order, **delay})


def _rescheduled(s: _Scheduled, ev: Any, ctx: Context) -> Waiting:
    if ev.reason == "settle" or (ev.reason == "send_window" and s.settling):
        # A retry of the last step is still to come: settling waits for it (``settle``;
        # events stored before that reason existed say send_window).
        return Waiting("delay", ev.at, ev.due_at, _settle(None))
    if ev.reason == "send_window":
        before = s.step.until if s.step is not None else None
        return Waiting("send_window", ev.at, ev.due_at,
                       _window_detail(before or ev.at, ev.due_at, ev.zone, ctx))
    # frequency_cap (rule_index, count, limit), throttle (channel, minute, limit) or a reason
    # added later: what the deciding rule recorded, as recorded.
    return Waiting(ev.reason, ev.at, ev.due_at, dict(ev.detail or {}))


def _settle(order: int | None) -> dict[str, Any]:
    return {"settling": True, "settle_minutes": int(SETTLE.total_seconds() // 60),
            **({"step_order": order} if order is not None else {})}


def _window_detail(nominal: datetime, due: datetime, recorded: str | None,
                   ctx: Context) -> dict[str, Any]:
    """In the zone recorded with the due time; events stored before it was recorded fall back
    to the contact's zone now, else the window's, else UTC."""
    window = ctx.revision.window if ctx.revision else None
    tz = (zone(recorded) or zone(ctx.contact_timezone)
          or zone(window.timezone if window else None) or ZoneInfo("UTC"))
    return {"timezone": str(tz.key), "local_due": nominal.astimezone(tz).strftime("%H:%M"),
            "local_until": due.astimezone(tz).strftime("%H:%M"), "nominal_due_at": iso(nominal)}
