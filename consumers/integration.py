"""``dripline.events``: integration events for other services, a public contract of its own
(DESIGN 3.2), mapped here from the domain events so that the stored format stays free to
change behind it.

Each is a JSON object with ``type``, ``version`` (of that type's shape), ``event_id`` (unique,
the same on a republish), ``tenant_id``, ``occurred_at`` and ids only: never contact profile
data, never message content (message requests go to ``dripline.messages``), never internal
aggregates (contact facts, enrollment slots, a revision migration's progress) or internal
scheduling moves. Enrollment events are keyed by contact id (one contact's events stay in
order), sequence events by sequence id.

``version`` is that of a type's shape. Adding a field, or a new type, keeps it: consumers
ignore what they do not know. Removing, renaming or changing the meaning of a field makes a
new version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain import ids
from domain.enrollment import Enrollment
from domain.send_ledger import SendLedger, ThrottleBucket
from domain.sequence import DripSequence
from domain.step_template import StepTemplate
from domain.tenant_settings import TenantSettings

VERSION = 1
E, S, T = Enrollment, DripSequence, StepTemplate


@dataclass(frozen=True)
class IntegrationEvent:
    key: str
    body: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.body["type"])


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _migrate(stored: dict[str, Any] | None) -> dict[str, Any] | None:
    """The migration asked for with a publish: step ids and the due policy, nothing else."""
    if stored is None:
        return None
    step_map = {str(old): ({"exit": True} if "to" not in target else {"to": str(target["to"])})
                for old, target in dict(stored.get("step_map", {})).items()}
    return {"step_map": step_map, "due": str(stored.get("due", "keep"))}


def _nothing(e: Any) -> dict[str, Any]:
    return {}


_SEQUENCE_TYPES: dict[type[Any], tuple[str, Callable[[Any], dict[str, Any]]]] = {
    S.Created: ("sequence.created", _nothing), S.Activated: ("sequence.activated", _nothing),
    S.Paused: ("sequence.paused", _nothing), S.Resumed: ("sequence.resumed", _nothing),
    S.Archived: ("sequence.archived", _nothing), S.Deleted: ("sequence.deleted", _nothing),
    S.RevisionCreated: ("sequence.revision_created", lambda e: {
        "revision": e.revision, "base": e.base}),
    S.RevisionPublished: ("sequence.revision_published", lambda e: {
        "revision": e.revision, "migrate": _migrate(e.migrate)}),
    S.RevisionDiscarded: ("sequence.revision_discarded", lambda e: {"revision": e.revision}),
    S.ExperimentEvaluated: ("sequence.experiment_evaluated", lambda e: {
        "revision": e.revision, "experiment_id": e.experiment_id, "look": e.look,
        "counts": e.counts, "p_values": e.p_values, "result": e.result, "best": e.best}),
    S.ExperimentConcluded: ("sequence.experiment_concluded", lambda e: {
        "revision": e.revision, "experiment_id": e.experiment_id, "winner": e.winner,
        "by": e.by}),
}


def _step_requested(e: Any) -> dict[str, Any]:
    if isinstance(e, E.MessageRequested):  # stored by earlier versions
        return {"step_order": e.step_order, "step_id": str(e.request.get("step_id", "")),
                "attempt": e.attempt, "message_id": e.message_id,
                "channel": str(e.request.get("channel", ""))}
    return {"step_order": e.step_order, "step_id": e.step_id, "attempt": e.attempt,
            "message_id": ids.message_id(e.originator_id, e.step_order, e.attempt),
            "channel": e.channel, "variant": e.variant, "experiment_id": e.experiment_id}


_ENROLLMENT_TYPES: dict[type[Any], tuple[str, Callable[[Any], dict[str, Any]]]] = {
    E.Created: ("enrollment.started", lambda e: {
        "source": e.source, "step_order": e.step_order, "due_at": _moment(e.due_at),
        "entered_at": _moment(e.entered_at or e.at), "revision": e.revision,
        "holdout": e.holdout, "assignments": dict(e.assignments or {})}),
    E.StepExecuted: ("enrollment.step_requested", _step_requested),
    E.MessageRequested: ("enrollment.step_requested", _step_requested),
    E.StepSkipped: ("enrollment.step_skipped", lambda e: {
        "step_order": e.step_order, "step_id": e.step_id, "reason": e.reason}),
    E.SendFailed: ("enrollment.step_failed", lambda e: {
        "step_order": e.step_order, "attempt": e.attempt, "message_id": e.message_id,
        "permanent": e.permanent, "retry_at": _moment(e.retry_at)}),
    E.MessageDelivered: ("enrollment.message_delivered", lambda e: {
        "step_order": e.step_order, "message_id": e.message_id, "implied": e.implied}),
    E.MessageOpened: ("enrollment.message_opened", lambda e: {
        "step_order": e.step_order, "message_id": e.message_id, "machine": e.machine,
        "acted_at": _moment(e.occurred_at)}),
    # The link itself stays out (it may carry the contact's tracking tokens).
    E.MessageClicked: ("enrollment.message_clicked", lambda e: {
        "step_order": e.step_order, "message_id": e.message_id, "bot": e.bot,
        "first": e.first, "acted_at": _moment(e.occurred_at)}),
    E.ReplyAttributed: ("enrollment.reply_attributed", lambda e: {
        "step_order": e.step_order, "message_id": e.message_id, "by": e.by,
        "variant": e.variant, "acted_at": _moment(e.occurred_at)}),
    E.UnsubscribeAttributed: ("enrollment.unsubscribe_attributed", lambda e: {
        "step_order": e.step_order, "message_id": e.message_id, "by": e.by,
        "variant": e.variant, "acted_at": _moment(e.occurred_at)}),
    E.Exited: ("enrollment.exited", lambda e: {"reason": e.reason}),
    E.Completed: ("enrollment.completed", lambda e: {}),
    E.Paused: ("enrollment.paused", lambda e: {"by_sequence": e.by_sequence}),
    E.Resumed: ("enrollment.resumed", lambda e: {"due_at": _moment(e.due_at)}),
    E.Migrated: ("enrollment.migrated", lambda e: {
        "from_revision": e.from_revision, "to_revision": e.to_revision,
        "from_step_id": e.from_step_id, "to_step_id": e.to_step_id,
        "due_at": _moment(e.due_at)}),
    E.GoalReached: ("enrollment.goal_reached", lambda e: {
        "goal_event_id": e.event_id, "goal_event_type": e.event_type,
        "goal_occurred_at": _moment(e.occurred_at), "message_id": e.message_id,
        "step_id": e.step_id, "step_order": e.step_order, "variant": e.variant,
        "holdout": e.holdout, "exclusive": e.exclusive, "revision": e.revision}),
}
# Frequency caps and throttles (CAPABILITIES §4), keyed by the contact (a ledger) or the
# tenant: the counts other services may want to follow, with ids only.
_CAP_TYPES: dict[type[Any], tuple[str, Callable[[Any, Any], tuple[str, dict[str, Any]]]]] = {
    TenantSettings.Updated: ("tenant.settings_updated", lambda e, c: (
        c.tenant_id, {"changes": e.changes})),
    SendLedger.SendCounted: ("ledger.send_counted", lambda e, c: (c.contact_id, {
        "contact_id": c.contact_id, "message_id": e.message_id,
        "sequence_id": str(e.sequence_id), "channel": e.channel})),
    ThrottleBucket.Reserved: ("throttle.reserved", lambda e, c: (c.tenant_id, {
        "channel": c.channel, "minute": _moment(c.minute), "count": e.count,
        "enrollment_ids": list(e.enrollment_ids)})),
}
# A tenant's templates (CAPABILITIES §5): ids and kind only, never their content.
_TEMPLATE_TYPES: dict[type[Any], str] = {
    T.Created: "template.created", T.Updated: "template.updated", T.Deleted: "template.deleted"}

TYPES = sorted({*(t for t, _ in _SEQUENCE_TYPES.values()),
                *(t for t, _ in _ENROLLMENT_TYPES.values()),
                *(t for t, _ in _CAP_TYPES.values()), *_TEMPLATE_TYPES.values()})


def needs_created(event: Any) -> UUID | None:
    """The aggregate whose ``Created`` event (tenant, sequence, contact) this event's
    integration event needs but does not carry itself."""
    kind = type(event)
    if (kind in _SEQUENCE_TYPES or kind in _ENROLLMENT_TYPES or kind in _TEMPLATE_TYPES
            or kind in _CAP_TYPES) and not isinstance(event, E.Created | S.Created | T.Created):
        return event.originator_id  # type: ignore[no-any-return]
    return None


def integration_event(event: Any, created: Any) -> IntegrationEvent | None:
    """The integration event of a domain event (None: it has none). ``created`` is the
    ``Created`` event of its aggregate (the event itself when it is one)."""
    base = {"version": VERSION,
            "event_id": f"{event.originator_id}:{event.originator_version}",
            "occurred_at": _moment(getattr(event, "at", None) or event.timestamp)}
    kind = type(event)
    tenant = getattr(created, "tenant_id", None)
    if kind in _SEQUENCE_TYPES and tenant is not None:
        sequence_id = str(event.originator_id)
        name, fields = _SEQUENCE_TYPES[kind]
        return IntegrationEvent(sequence_id, {"type": name, **base, "tenant_id": tenant,
                                              "sequence_id": sequence_id, **fields(event)})
    if kind in _TEMPLATE_TYPES and isinstance(created, T.Created):
        template_id = str(event.originator_id)
        return IntegrationEvent(template_id, {
            "type": _TEMPLATE_TYPES[kind], **base, "tenant_id": created.tenant_id,
            "template_id": template_id, "kind": created.kind})
    if kind in _CAP_TYPES and tenant is not None:
        cap_type, keyed = _CAP_TYPES[kind]
        key, extra = keyed(event, created)
        return IntegrationEvent(key, {"type": cap_type, **base, "tenant_id": tenant, **extra})
    if kind not in _ENROLLMENT_TYPES or not isinstance(created, E.Created):
        return None
    name, fields = _ENROLLMENT_TYPES[kind]
    return IntegrationEvent(created.contact_id, {
        "type": name, **base, "tenant_id": created.tenant_id,
        "sequence_id": str(created.sequence_id), "enrollment_id": str(event.originator_id),
        "contact_id": created.contact_id, **fields(event)})
