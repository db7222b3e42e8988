"""Moving open enrollments to a newly published revision (CAPABILITIES §8).

Publishing a revision may ask for a migration: ``step_map`` says, for each step of an older
revision where open enrollments wait, the step of the new revision they move to
(``{"to": step_id}``) or that they leave (``{"exit": true}``, exit reason ``step_removed``);
a step whose id the new revision still has maps to itself unless mapped otherwise. ``due``
says when the moved step falls due: ``keep`` (the time it had) or ``recompute`` (the last
executed step's time plus the new step's delay, never before now, then the send window).

An enrollment never moves to a step at or before the last one it executed: its message ids
(enrollment, step order, attempt) would repeat. Such an enrollment is a *conflict* and stays
on its revision, as does one settling after its last step, and one waiting at a step the
map does not cover that came in after the plan was made.

The ``Migration`` aggregate records the work: what was planned at publishing, then each
batch's counts and the enrollment id it reached (so it resumes where it stopped), then its
end. Each moved enrollment records ``enrollment.migrated`` in the same transaction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain import ids
from domain import validation as v
from domain.codec import Creation, trigger
from domain.enrollment import Enrollment
from domain.errors import InvalidInputError
from domain.schedule import in_window
from domain.sequence import DripSequence, Revision
from domain.steps import Step

DUE_POLICIES = ("keep", "recompute")
BATCH = 500  # enrollments per transaction
MAX_LISTED = 1000  # conflicts listed in a plan (all are counted)


def migration_id(sequence_id: UUID, revision: int) -> UUID:
    return ids.derive("migration", str(sequence_id), str(revision))


@dataclass(frozen=True)
class MigrateSpec:
    """A validated ``migrate`` object: old step id → new step id, or None to exit."""

    step_map: dict[UUID, UUID | None]
    due: str = "keep"

    @classmethod
    def from_dict(cls, data: object, new: Revision, where: str = "migrate") -> MigrateSpec:
        d = v.require_mapping(data, where)
        v.reject_unknown(d, {"step_map", "due"}, where)
        due = v.choice(d.get("due", "keep"), f"{where}.due", DUE_POLICIES)
        raw = v.require_mapping(d.get("step_map", {}), f"{where}.step_map")
        if len(raw) > 1000:
            raise InvalidInputError(f"{where}.step_map", "may map at most 1000 steps")
        step_map: dict[UUID, UUID | None] = {}
        for key, value in raw.items():
            at = f"{where}.step_map.{key}"
            old = _uuid(key, at)
            target = v.require_mapping(value, at)
            v.reject_unknown(target, {"to", "exit"}, at)
            if target.get("exit") is True and "to" not in target:
                step_map[old] = None
                continue
            if "to" not in target or "exit" in target:
                raise InvalidInputError(at, 'must be {"to": "<step id>"} or {"exit": true}')
            to = _uuid(target["to"], f"{at}.to")
            if to not in new.steps_by_id:
                raise InvalidInputError(f"{at}.to",
                                        f"revision {new.number} has no step {to}")
            step_map[old] = to
        return cls(step_map, due)

    def to_dict(self) -> dict[str, Any]:
        return {"step_map": {str(k): ({"exit": True} if t is None else {"to": str(t)})
                             for k, t in sorted(self.step_map.items(), key=lambda kv: str(kv[0]))},
                "due": self.due}

    def target(self, step_id: UUID, new: Revision) -> Step | Literal["unmapped"] | None:
        """The new step for enrollments waiting at ``step_id``: a step, None (exit), or
        "unmapped"."""
        if step_id in self.step_map:
            to = self.step_map[step_id]
            return None if to is None else new.steps_by_id[to]
        return new.steps_by_id.get(step_id, "unmapped")


def _uuid(value: object, where: str) -> UUID:
    if not isinstance(value, str):
        raise InvalidInputError(where, "must be a step id (a UUID)")
    try:
        return UUID(value)
    except ValueError:
        raise InvalidInputError(where, f"not a step id (expected a UUID): {value[:80]!r}") from None


Kind = Literal["move", "exit", "conflict", "pinned", "unmapped", "current"]


@dataclass(frozen=True)
class Decision:
    kind: Kind
    from_step: Step | None = None
    to_step: Step | None = None


def decide(e: Enrollment, sequence: DripSequence, spec: MigrateSpec | None,
           new: Revision) -> Decision:
    """What migrating to ``new`` does to ``e`` (nothing is changed here)."""
    if not e.is_open or e.revision >= new.number:
        return Decision("current")
    if not e.waiting:
        return Decision("pinned")  # its last message is settling: nothing is left to move
    old = sequence.pinned(e.revision).step_at(e.current_step_order)
    if old is None or spec is None:
        return Decision("pinned", old)
    target = spec.target(old.id, new)
    if target == "unmapped":
        return Decision("unmapped", old)
    if target is None:
        return Decision("exit", old)
    if e.last_order is not None and target.order <= e.last_order:
        return Decision("conflict", old, target)
    return Decision("move", old, target)


def carry_out(e: Enrollment, decision: Decision, spec: MigrateSpec, new: Revision,
              contact_timezone: str | None, now: datetime) -> None:
    """Apply a ``move`` or ``exit`` decision to ``e``."""
    if decision.from_step is None:
        return
    if decision.kind == "exit":
        e.exit("step_removed", now, detail=f"revision {new.number} has no step "
                                           f"{decision.from_step.id} (migration)")
        return
    if decision.kind != "move" or decision.to_step is None:
        return
    to = decision.to_step
    if spec.due == "recompute":
        base = e.last_step_at or e.enrolled_at
        due = in_window(max(base + to.delay, now), new, contact_timezone)
    else:
        due = e.step_due_at or now
    e.migrate(to_revision=new.number, from_step_id=decision.from_step.id, to_step_id=to.id,
              step_order=to.order, due_at=due, at=now)


@dataclass
class Plan:
    """What a migration would do, counted over the open enrollments."""

    moves: Counter[tuple[str, str | None]] = field(default_factory=Counter)
    conflicts: list[dict[str, str]] = field(default_factory=list)  # the first MAX_LISTED
    pinned: int = 0
    conflict_count: int = 0
    unmapped: Counter[str] = field(default_factory=Counter)

    def count(self, e: Enrollment, d: Decision) -> None:
        if d.kind in ("move", "exit") and d.from_step is not None:
            self.moves[(str(d.from_step.id), str(d.to_step.id) if d.to_step else None)] += 1
        elif d.kind == "conflict" and d.from_step is not None and d.to_step is not None:
            self.conflict_count += 1
            if len(self.conflicts) < MAX_LISTED:
                self.conflicts.append({"enrollment_id": str(e.id),
                                       "from_step": str(d.from_step.id),
                                       "to_step": str(d.to_step.id)})
            self.pinned += 1
        elif d.kind == "unmapped" and d.from_step is not None:
            self.unmapped[str(d.from_step.id)] += 1
        elif d.kind == "pinned":
            self.pinned += 1

    @property
    def total(self) -> int:
        return sum(self.moves.values()) + self.conflict_count

    def planned(self) -> list[dict[str, Any]]:
        return [{"from_step": f, "to_step": t, "count": n}
                for (f, t), n in sorted(self.moves.items(), key=lambda kv: (kv[0][0],
                                                                             kv[0][1] or ""))]


class Migration(Aggregate):
    TOPIC = "dripline.Migration"

    class Event(Aggregate.Event):
        at: datetime

    class Created(Creation, Aggregate.Created):
        TOPIC = "migration.started"
        tenant_id: str
        sequence_id: UUID
        revision: int
        migrate: dict[str, Any]
        total: int  # the enrollments the plan moves, exits or lists as conflicts
        at: datetime

        def apply(self, m: Any) -> None:
            m.tenant_id, m.sequence_id, m.revision = self.tenant_id, self.sequence_id, self.revision
            m.migrate, m.total, m.started_at = self.migrate, self.total, self.at
            m.cursor, m.migrated, m.exited, m.conflicts = "", 0, 0, 0
            m.finished_at, m.end = None, ""

    class Progressed(Event):
        TOPIC = "migration.progressed"
        cursor: str  # the last enrollment id (as text) this batch looked at
        migrated: int
        exited: int
        conflicts: int

        def apply(self, m: Any) -> None:
            m.cursor = self.cursor
            m.migrated += self.migrated
            m.exited += self.exited
            m.conflicts += self.conflicts

    class Finished(Event):
        TOPIC = "migration.finished"
        end: str  # done, superseded (a newer revision was published), archived

        def apply(self, m: Any) -> None:
            m.finished_at, m.end = self.at, self.end

    if TYPE_CHECKING:
        tenant_id: str
        sequence_id: UUID
        revision: int
        migrate: dict[str, Any]
        total: int
        started_at: datetime
        cursor: str
        migrated: int
        exited: int
        conflicts: int
        finished_at: datetime | None
        end: str

    @classmethod
    def start(cls, *, tenant_id: str, sequence_id: UUID, revision: int,
              migrate: dict[str, Any], total: int, at: datetime) -> Migration:
        return cls._create(cls.Created, id=migration_id(sequence_id, revision),
                           tenant_id=tenant_id, sequence_id=sequence_id, revision=revision,
                           migrate=migrate, total=total, at=at, timestamp=at)

    @property
    def done(self) -> bool:
        return self.finished_at is not None

    def progress(self, cursor: str, migrated: int, exited: int, conflicts: int,
                 at: datetime) -> None:
        trigger(self, self.Progressed, {"cursor": cursor, "migrated": migrated,
                                        "exited": exited, "conflicts": conflicts, "at": at})

    def finish(self, end: str, at: datetime) -> None:
        if not self.done:
            trigger(self, self.Finished, {"end": end, "at": at})
