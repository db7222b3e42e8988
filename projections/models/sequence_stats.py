"""``sequence_stats``: per sequence and revision, how many enrolled and where they are now,
how they left, how long completing took, and a funnel per step keyed by its id, so that a
step's history spans the revisions that keep it (CAPABILITIES §8).

Enrollment events do not repeat their sequence, and most name their step only by its order:
the model keeps each enrollment's sequence, revision and status beside the counters, and
each sequence's step ids by revision and order, from the sequence's own events (a model
never reads another's tables). A published revision never changes, so its steps get their
funnel rows (at zero) when it is published, with the order they have in it.

Engagement (CAPABILITIES §2) counts messages, not events: ``opened`` and ``opened_machine``
the messages opened by a human or by a machine (the enrollment records each once per
message), ``clicked`` and ``clicked_bot`` those with at least one human or bot click (the
click the enrollment marks ``first``). An open or a click of a message not reported
delivered comes after an implied ``MessageDelivered``, counted in ``delivered`` as any.

Deferrals (CAPABILITIES §4) count per step and reason (``frequency_cap``, ``throttle``): the
``enrollment.rescheduled`` events that name the step in their ``detail``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, ClassVar

from domain.enrollment import Enrollment
from domain.sequence import DripSequence
from projections.batch import Batch, Counters, RowBuffer
from projections.db import as_datetime
from projections.models.base import Handler, ReadModel, dumps

E = Enrollment
S = DripSequence

STEP_COUNTERS = ("reached", "requested", "failed", "delivered", "opened", "opened_machine",
                 "clicked", "clicked_bot", "replied", "unsubscribed", "reply_seconds",
                 "converted")
# Per A/B arm of a step (CAPABILITIES §1): the message counters of the messages it carried.
VARIANT_COUNTERS = ("requested", "delivered", "opened", "clicked", "replied", "unsubscribed")
TOTALS = ("total_enrolled", "active_count", "paused_count", "completed_count", "exited_count",
          "completion_seconds")
_STATUS_COUNTER = {"active": "active_count", "paused": "paused_count",
                   "completed": "completed_count", "exited": "exited_count"}
StepIds = dict[int, dict[int, str]]  # revision -> step order -> step id


@lru_cache(maxsize=1024)
def _step_ids(text: str) -> Mapping[int, Mapping[int, str]]:
    """Decoded once per distinct text, for the many enrollment events of one sequence (read
    only: a change decodes its own copy)."""
    return _decode(text)


def _decode(text: str) -> StepIds:
    return {int(r): {int(o): i for o, i in by_order.items()}
            for r, by_order in json.loads(text).items()}


def _revision_at(found: Mapping[str, Any], order: int) -> int:
    """The revision the enrollment followed when it was at step ``order``: the current one,
    unless a migration moved it on from below that order. (A migration never goes to a step
    at or before the last one executed, so what was executed below its step's order was
    executed on the revision before it.)"""
    revision = int(found["revision"])
    if found["earlier"] == "[]":
        return revision
    for boundary, before in reversed(json.loads(found["earlier"])):
        if order >= boundary:
            return revision
        revision = before
    return revision


def _counter(e: Any) -> str | None:
    """The step counter an enrollment's message event adds to (None: none)."""
    if isinstance(e, E.MessageOpened):
        return "opened_machine" if e.machine else "opened"
    if isinstance(e, E.ReplyAttributed | E.UnsubscribeAttributed):
        return "replied" if isinstance(e, E.ReplyAttributed) else "unsubscribed"
    if isinstance(e, E.MessageClicked):
        # Later clicks (other links of the message) leave the counts as they are.
        return ("clicked_bot" if e.bot else "clicked") if e.first else None
    return {E.MessageRequested: "requested", E.StepExecuted: "requested",
            E.SendFailed: "failed", E.MessageDelivered: "delivered"}[type(e)]


class SequenceStatsModel(ReadModel):
    name = "sequence_stats"
    # 2: revisions, counters by (sequence, revision), the funnel by step id; 3: engagement;
    # 6: per-variant counters; 7: and deferrals by frequency cap and throttle.
    version = 7
    table_bases = ("stats", "stats_totals", "stats_enrollments", "stats_exits", "stats_steps",
                   "stats_skips", "stats_step_ids", "stats_variants", "stats_deferrals")
    keys: ClassVar[Mapping[str, str]] = {
        "stats": "sequence_id", "stats_totals": "sequence_id, revision",
        "stats_enrollments": "enrollment_id", "stats_exits": "sequence_id, revision, reason",
        "stats_steps": "sequence_id, revision, step_id",
        "stats_skips": "sequence_id, revision, step_id, reason",
        "stats_step_ids": "sequence_id",
        "stats_variants": "sequence_id, revision, step_id, variant",
        "stats_deferrals": "sequence_id, revision, step_id, reason"}
    schema = (
        "CREATE TABLE IF NOT EXISTS {stats} (sequence_id TEXT PRIMARY KEY, "
        "tenant_id TEXT NOT NULL, deleted BOOLEAN NOT NULL)",
        # An enrollment counts under the revision it follows now (or followed when it ended).
        "CREATE TABLE IF NOT EXISTS {stats_totals} (sequence_id TEXT NOT NULL, "
        "revision INTEGER NOT NULL, total_enrolled BIGINT NOT NULL, "
        "active_count BIGINT NOT NULL, paused_count BIGINT NOT NULL, "
        "completed_count BIGINT NOT NULL, exited_count BIGINT NOT NULL, "
        "completion_seconds DOUBLE PRECISION NOT NULL, PRIMARY KEY (sequence_id, revision))",
        # ``earlier``: JSON [[step order, revision before], ...], one pair per migration.
        "CREATE TABLE IF NOT EXISTS {stats_enrollments} (enrollment_id TEXT PRIMARY KEY, "
        "sequence_id TEXT NOT NULL, status TEXT NOT NULL, enrolled_at TIMESTAMPTZ NOT NULL, "
        "revision INTEGER NOT NULL, earlier TEXT NOT NULL, variants TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {stats_exits} (sequence_id TEXT NOT NULL, "
        "revision INTEGER NOT NULL, reason TEXT NOT NULL, n BIGINT NOT NULL, "
        "PRIMARY KEY (sequence_id, revision, reason))",
        "CREATE TABLE IF NOT EXISTS {stats_steps} (sequence_id TEXT NOT NULL, "
        "revision INTEGER NOT NULL, step_id TEXT NOT NULL, step_order INTEGER NOT NULL, "
        "reached BIGINT NOT NULL, requested BIGINT NOT NULL, failed BIGINT NOT NULL, "
        "delivered BIGINT NOT NULL, opened BIGINT NOT NULL, opened_machine BIGINT NOT NULL, "
        "clicked BIGINT NOT NULL, clicked_bot BIGINT NOT NULL, replied BIGINT NOT NULL, "
        "unsubscribed BIGINT NOT NULL, reply_seconds DOUBLE PRECISION NOT NULL, "
        "converted BIGINT NOT NULL, "
        "PRIMARY KEY (sequence_id, revision, step_id))",
        "CREATE TABLE IF NOT EXISTS {stats_skips} (sequence_id TEXT NOT NULL, "
        "revision INTEGER NOT NULL, step_id TEXT NOT NULL, reason TEXT NOT NULL, "
        "n BIGINT NOT NULL, PRIMARY KEY (sequence_id, revision, step_id, reason))",
        # ``revisions``: JSON {revision: {step order: step id}}, drafts included.
        "CREATE TABLE IF NOT EXISTS {stats_step_ids} (sequence_id TEXT PRIMARY KEY, "
        "revisions TEXT NOT NULL)",
        # ``stats_enrollments.variants``: JSON {step order: arm} of the messages it got.
        "CREATE TABLE IF NOT EXISTS {stats_variants} (sequence_id TEXT NOT NULL, "
        "revision INTEGER NOT NULL, step_id TEXT NOT NULL, variant TEXT NOT NULL, "
        "requested BIGINT NOT NULL, delivered BIGINT NOT NULL, opened BIGINT NOT NULL, "
        "clicked BIGINT NOT NULL, replied BIGINT NOT NULL, unsubscribed BIGINT NOT NULL, "
        "PRIMARY KEY (sequence_id, revision, step_id, variant))",
        "CREATE TABLE IF NOT EXISTS {stats_deferrals} (sequence_id TEXT NOT NULL, "
        "revision INTEGER NOT NULL, step_id TEXT NOT NULL, reason TEXT NOT NULL, "
        "n BIGINT NOT NULL, PRIMARY KEY (sequence_id, revision, step_id, reason))",
    )

    def build_handlers(self) -> Mapping[type[Any], Handler]:
        return {S.Created: self._sequence_created, S.Deleted: self._sequence_deleted,
                S.StepAdded: self._step_put, S.StepUpdated: self._step_put,
                S.StepRemoved: self._step_removed, S.RevisionCreated: self._revision_created,
                S.RevisionDiscarded: self._revision_discarded,
                S.Activated: self._published, S.RevisionPublished: self._published,
                E.Created: self._enrolled, E.Advanced: self._step_event,
                E.MessageRequested: self._step_event, E.StepExecuted: self._step_event,
                E.SendFailed: self._step_event,
                E.MessageDelivered: self._step_event, E.MessageOpened: self._step_event,
                E.MessageClicked: self._step_event, E.StepSkipped: self._skipped,
                E.ReplyAttributed: self._step_event, E.GoalReached: self._converted,
                E.Rescheduled: self._deferred,
                E.UnsubscribeAttributed: self._step_event,
                E.Migrated: self._migrated,
                E.Paused: self._moved, E.Resumed: self._moved, E.Completed: self._moved,
                E.Exited: self._moved}

    def prefetch(self, batch: Batch, events: Sequence[Any], t: Mapping[str, str]) -> None:
        enrollments = batch.rows(t["stats_enrollments"], "enrollment_id")
        followed = [e.originator_id for e in events
                    if isinstance(e, Enrollment.Event) and not isinstance(e, E.Created)]
        enrollments.prefetch(followed)
        sequences = {str(e.sequence_id) for e in events if isinstance(e, E.Created)}
        for enrollment_id in dict.fromkeys(followed):
            found = enrollments.get(enrollment_id)
            if found is not None:
                sequences.add(found["sequence_id"])
        batch.rows(t["stats_step_ids"], "sequence_id").prefetch(sorted(sequences))

    # --- the sequence's steps, by revision and order -----------------------------------------

    @staticmethod
    def _ids(b: Batch, t: Mapping[str, str]) -> RowBuffer:
        return b.rows(t["stats_step_ids"], "sequence_id")

    def _sequence_created(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        b.execute(f"INSERT INTO {t['stats']} VALUES (%s, %s, FALSE)",
                  [e.originator_id, e.tenant_id])
        self._ids(b, t).put(e.originator_id, {"sequence_id": str(e.originator_id),
                                              "revisions": dumps({"1": {}})})

    def _sequence_deleted(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        b.execute(f"UPDATE {t['stats']} SET deleted = TRUE WHERE sequence_id = %s",
                  [e.originator_id])

    def _change_ids(self, b: Batch, e: Any, t: Mapping[str, str],
                    change: Callable[[StepIds], object]) -> None:
        ids = self._ids(b, t)
        found = ids.get(e.originator_id)
        if found is None:
            return  # cannot happen in a complete log: Created comes first
        revisions = _decode(found["revisions"])
        change(revisions)
        ids.put(e.originator_id, {**found, "revisions": dumps(
            {str(r): {str(o): i for o, i in by_order.items()}
             for r, by_order in revisions.items()})})

    def _step_put(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        step_id, order = e.step["id"], int(e.step["order"])

        def put(revisions: StepIds) -> None:
            by_order = revisions.setdefault(e.revision, {})
            for at in [o for o, i in by_order.items() if i == step_id]:
                del by_order[at]  # its order may have changed
            by_order[order] = step_id

        self._change_ids(b, e, t, put)

    def _step_removed(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        step_id = str(e.step_id)

        def remove(revisions: StepIds) -> None:
            by_order = revisions.get(e.revision, {})
            for at in [o for o, i in by_order.items() if i == step_id]:
                del by_order[at]

        self._change_ids(b, e, t, remove)

    def _revision_created(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        def copy(revisions: StepIds) -> None:
            revisions[e.revision] = dict(revisions.get(e.base, {}))

        self._change_ids(b, e, t, copy)

    def _revision_discarded(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        self._change_ids(b, e, t, lambda revisions: revisions.pop(e.revision, None))

    def _published(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        """Activating publishes revision 1 (it is activated once); publishing a revision,
        that one: each of its steps gets its funnel row, at zero, with its order."""
        revision = 1 if isinstance(e, S.Activated) else e.revision
        found = self._ids(b, t).get(e.originator_id)
        if found is None:
            return
        by_order = _step_ids(found["revisions"]).get(revision, {})
        if by_order:
            zeros = ", ".join(["0"] * len(STEP_COUNTERS))
            b.executemany(
                f"INSERT INTO {t['stats_steps']} (sequence_id, revision, step_id, step_order, "
                f"{', '.join(STEP_COUNTERS)}) VALUES (%s, %s, %s, %s, {zeros}) "
                "ON CONFLICT (sequence_id, revision, step_id) DO NOTHING",
                [[str(e.originator_id), revision, step_id, order]
                 for order, step_id in sorted(by_order.items())])

    def _step(self, b: Batch, t: Mapping[str, str], sequence_id: str, revision: int,
              order: int, given: str = "") -> str | None:
        """The id of the step at ``order`` of the revision; else the id the event gave, if
        any. The map comes first so that all of a step's counters land on one row."""
        found = self._ids(b, t).get(sequence_id)
        by_order = _step_ids(found["revisions"]).get(revision, {}) if found else {}
        return by_order.get(order) or given or None

    # --- enrollments ---------------------------------------------------------------------------

    @staticmethod
    def _totals(b: Batch, t: Mapping[str, str]) -> Counters:
        return b.counters(t["stats_totals"], ("sequence_id", "revision"), TOTALS, create=True)

    def _count_step(self, b: Batch, t: Mapping[str, str], sequence_id: str, revision: int,
                    order: int, counter: str, given: str = "", amount: float = 1) -> None:
        step_id = self._step(b, t, sequence_id, revision, order, given)
        if step_id is None:
            return  # cannot happen in a complete log; never invent a step
        # Rows exist from the revision's publishing: counting never creates one.
        b.counters(t["stats_steps"], ("sequence_id", "revision", "step_id"), STEP_COUNTERS,
                   create=False).add([sequence_id, revision, step_id], counter, amount)

    def _enrolled(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        sequence_id = str(e.sequence_id)
        b.rows(t["stats_enrollments"], "enrollment_id").put(e.originator_id, {
            "enrollment_id": str(e.originator_id), "sequence_id": sequence_id,
            "status": "active", "enrolled_at": e.at, "revision": e.revision, "earlier": "[]",
            "variants": "{}"})
        self._totals(b, t).add([sequence_id, e.revision], "total_enrolled")
        self._totals(b, t).add([sequence_id, e.revision], "active_count")
        self._count_step(b, t, sequence_id, e.revision, e.step_order, "reached")

    def _step_event(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        found = b.rows(t["stats_enrollments"], "enrollment_id").get(e.originator_id)
        if found is None:
            return
        sequence_id, current = found["sequence_id"], int(found["revision"])
        if isinstance(e, E.Advanced):
            self._count_step(b, t, sequence_id, current, e.new_step_order, "reached")
            return
        if isinstance(e, E.StepExecuted) and e.advance_to is not None:
            self._count_step(b, t, sequence_id, current, e.advance_to, "reached")
        counter = _counter(e)
        if counter is None:
            return
        # Feedback may come for a message sent before a migration: its own revision.
        revision = _revision_at(found, e.step_order)
        self._count_step(b, t, sequence_id, revision, e.step_order, counter,
                         getattr(e, "step_id", ""))
        self._count_variant(b, t, found, e, revision, counter)
        if isinstance(e, E.ReplyAttributed) and e.requested_at is not None:
            self._count_step(b, t, sequence_id, revision, e.step_order, "reply_seconds", "",
                             max((e.occurred_at - e.requested_at).total_seconds(), 0.0))

    def _count_variant(self, b: Batch, t: Mapping[str, str], found: dict[str, Any], e: Any,
                       revision: int, counter: str) -> None:
        """The counter of the A/B arm the message carried, if it carried one."""
        if isinstance(e, E.StepExecuted) and e.variant is not None:
            arms = {**json.loads(found["variants"]), str(e.step_order): e.variant}
            found = {**found, "variants": dumps(arms)}
            b.rows(t["stats_enrollments"], "enrollment_id").put(e.originator_id, found)
        arm = json.loads(found["variants"]).get(str(e.step_order)) if (
            found["variants"] != "{}") else None
        step_id = self._step(b, t, found["sequence_id"], revision, e.step_order,
                             getattr(e, "step_id", ""))
        if arm is None or step_id is None or counter not in VARIANT_COUNTERS:
            return
        b.counters(t["stats_variants"], ("sequence_id", "revision", "step_id", "variant"),
                   VARIANT_COUNTERS, create=True).add(
            [found["sequence_id"], revision, step_id, arm], counter)

    def _converted(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        """A conversion counts on the step of its last touch (none: on no step)."""
        found = b.rows(t["stats_enrollments"], "enrollment_id").get(e.originator_id)
        if found is None or e.step_order is None:
            return
        self._count_step(b, t, found["sequence_id"], _revision_at(found, e.step_order),
                         e.step_order, "converted", e.step_id or "")

    def _skipped(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        self._by_reason(b, t, "stats_skips", e, e.step_order, e.reason, e.step_id)

    def _deferred(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        order = (e.detail or {}).get("step_order")
        if e.reason in ("frequency_cap", "throttle") and isinstance(order, int):
            self._by_reason(b, t, "stats_deferrals", e, order, e.reason)

    def _by_reason(self, b: Batch, t: Mapping[str, str], table: str, e: Any, order: int,
                   reason: str, given: str = "") -> None:
        found = b.rows(t["stats_enrollments"], "enrollment_id").get(e.originator_id)
        if found is None:
            return
        sequence_id = found["sequence_id"]
        revision = _revision_at(found, order)
        step_id = self._step(b, t, sequence_id, revision, order, given)
        if step_id is not None:
            b.counters(t[table], ("sequence_id", "revision", "step_id", "reason"),
                       ("n",), create=True).add([sequence_id, revision, step_id, reason], "n")

    def _migrated(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        """The enrollment now counts under its new revision, and reaches its new step."""
        enrollments = b.rows(t["stats_enrollments"], "enrollment_id")
        found = enrollments.get(e.originator_id)
        if found is None:
            return
        sequence_id, before = found["sequence_id"], int(found["revision"])
        totals, counter = self._totals(b, t), _STATUS_COUNTER[found["status"]]
        for revision, amount in ((before, -1), (e.to_revision, 1)):
            totals.add([sequence_id, revision], "total_enrolled", amount)
            totals.add([sequence_id, revision], counter, amount)
        earlier = [*json.loads(found["earlier"]), [e.step_order, before]]
        enrollments.put(e.originator_id, {**found, "revision": e.to_revision,
                                          "earlier": dumps(earlier)})
        self._count_step(b, t, sequence_id, e.to_revision, e.step_order, "reached",
                         e.to_step_id)

    def _moved(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        enrollments = b.rows(t["stats_enrollments"], "enrollment_id")
        found = enrollments.get(e.originator_id)
        if found is None:
            return
        new = {E.Paused: "paused", E.Resumed: "active", E.Completed: "completed",
               E.Exited: "exited"}[type(e)]
        key, totals = [found["sequence_id"], int(found["revision"])], self._totals(b, t)
        totals.add(key, _STATUS_COUNTER[found["status"]], -1)
        totals.add(key, _STATUS_COUNTER[new])
        enrolled_at = as_datetime(found["enrolled_at"])
        if new == "completed" and enrolled_at is not None:  # the column is NOT NULL
            totals.add(key, "completion_seconds", (e.at - enrolled_at).total_seconds())
        if new == "exited":
            b.counters(t["stats_exits"], ("sequence_id", "revision", "reason"), ("n",),
                       create=True).add([*key, e.reason], "n")
        enrollments.put(e.originator_id, {**found, "status": new})
