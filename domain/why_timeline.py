"""An enrollment's events in words (the "why" view's timeline): each event as one line and
its data, ids and codes only. Message bodies, variables, links and the contact's profile
never appear; free text recorded from outside (a sender's error, a condition's value) is
shown with e-mail addresses and long numbers masked, as the logs do."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.enrollment import Enrollment

E = Enrollment

_EMAIL = re.compile(r"[^\s@'\"<>(),;]+@[^\s@'\"<>(),;]+")
_NUMBER = re.compile(r"\+?\d[\d \-().]{6,}\d")
_MAX_TEXT = 300


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    type: str
    summary: str
    data: dict[str, Any]


def masked(text: str) -> str:
    """``text`` with e-mail addresses and phone-like numbers masked, at most 300 characters."""
    return _NUMBER.sub("[number]", _EMAIL.sub("[email]", text))[:_MAX_TEXT]


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def timeline(events: list[Any]) -> list[TimelineEntry]:
    return [entry(event) for event in events]


def entry(event: Any) -> TimelineEntry:
    describe = _WORDS.get(type(event))
    summary, data = describe(event) if describe else (_topic(event).replace("_", " "), {})
    return TimelineEntry(at=event.at, type=_topic(event), summary=summary,
                         data={k: _plain(v) for k, v in data.items()})


def _topic(event: Any) -> str:
    return str(getattr(type(event), "TOPIC", type(event).__name__))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _due(at: datetime | None) -> str:
    return f"due {iso(at)}" if at is not None else "no due time"


Words = tuple[str, dict[str, Any]]


def _created(e: Any) -> Words:
    return (f"enrolled by {e.source} on revision {e.revision}; step {e.step_order} "
            f"{_due(e.due_at)}", {
                "source": e.source, "revision": e.revision, "step_order": e.step_order,
                "due_at": e.due_at, "nominal_due_at": e.nominal_due_at,
                "entered_at": e.entered_at, "number": e.number})


def _executed(e: Any) -> Words:
    then = (f"; next step {e.advance_to} {_due(e.next_due_at)}" if e.advance_to is not None
            else f"; the last step: settles {_due(e.next_due_at)}" if e.final else "")
    return (f"step {e.step_order} message requested on {e.channel} (attempt {e.attempt})"
            f"{then}", {
                "step_order": e.step_order, "step_id": e.step_id, "attempt": e.attempt,
                "channel": e.channel, "advance_to": e.advance_to,
                "next_due_at": e.next_due_at, "nominal_due_at": e.nominal_due_at,
                "final": e.final})


def _requested(e: Any) -> Words:
    return (f"step {e.step_order} message requested (attempt {e.attempt})",
            {"step_order": e.step_order, "attempt": e.attempt, "message_id": e.message_id})


def _skipped(e: Any) -> Words:
    detail = masked(e.detail)
    return (f"step {e.step_order} skipped: {e.reason}{f' ({detail})' if detail else ''}",
            {"step_order": e.step_order, "step_id": e.step_id, "reason": e.reason,
             "detail": detail})


def _failed(e: Any) -> Words:
    then = (f"; retry {_due(e.retry_at)}" if e.retry_at is not None
            else "; permanent" if e.permanent else "; no retry")
    return (f"step {e.step_order} attempt {e.attempt} failed: {masked(e.error)}{then}",
            {"message_id": e.message_id, "step_order": e.step_order, "attempt": e.attempt,
             "error": masked(e.error), "permanent": e.permanent, "retry_at": e.retry_at})


def _message(verb: str, *flags: str) -> Any:
    def words(e: Any) -> Words:
        return (f"step {e.step_order} message {verb}",
                {"message_id": e.message_id, "step_order": e.step_order,
                 **{f: getattr(e, f, None) for f in flags}})
    return words


def _advanced(e: Any) -> Words:
    return (f"moved on to step {e.new_step_order}, {_due(e.due_at)}",
            {"new_step_order": e.new_step_order, "due_at": e.due_at,
             "nominal_due_at": e.nominal_due_at})


def _rescheduled(e: Any) -> Words:
    return (f"rescheduled ({e.reason}): {_due(e.due_at)}",
            {"due_at": e.due_at, "reason": e.reason, "detail": e.detail or {}})


def _retry_rescheduled(e: Any) -> Words:
    return (f"retry moved to the send window: {_due(e.due_at)}", {"due_at": e.due_at})


def _goal(e: Any) -> Words:
    return (f"goal reached by CRM event {e.event_type}",
            {"event_id": e.event_id, "event_type": e.event_type, "message_id": e.message_id,
             "step_order": e.step_order, "revision": e.revision})


def _migrated(e: Any) -> Words:
    return (f"migrated from revision {e.from_revision} to {e.to_revision}, now at step "
            f"{e.step_order} {_due(e.due_at)}",
            {"from_revision": e.from_revision, "to_revision": e.to_revision,
             "from_step_id": e.from_step_id, "to_step_id": e.to_step_id,
             "step_order": e.step_order, "due_at": e.due_at})


def _exited(e: Any) -> Words:
    detail = masked(e.detail)
    return (f"exited: {e.reason}{f' ({detail})' if detail else ''}",
            {"reason": e.reason, "detail": detail})


def _paused(e: Any) -> Words:
    return ("paused with its sequence" if e.by_sequence else "paused by hand",
            {"by_sequence": e.by_sequence})


_WORDS: dict[type[Any], Any] = {
    E.Created: _created, E.StepExecuted: _executed, E.MessageRequested: _requested,
    E.StepSkipped: _skipped, E.SendFailed: _failed,
    E.MessageDelivered: _message("delivered", "implied"),
    E.MessageOpened: _message("opened", "machine"),
    E.MessageClicked: _message("clicked", "bot", "first"),
    E.ReplyAttributed: _message("replied to", "by"),
    E.UnsubscribeAttributed: _message("unsubscribed from", "by"),
    E.Advanced: _advanced, E.Rescheduled: _rescheduled, E.RetryRescheduled: _retry_rescheduled,
    E.GoalReached: _goal, E.Migrated: _migrated, E.Exited: _exited,
    E.Completed: lambda e: ("completed", {}), E.Paused: _paused,
    E.Resumed: lambda e: (f"resumed, {_due(e.due_at)}", {"due_at": e.due_at}),
}
