"""Sequence commands: create, update, steps, lifecycle, clone, delete."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, TypeVar
from uuid import UUID, uuid4

from domain import experiments
from domain import validation as v
from domain.app_base import Core
from domain.errors import InvalidInputError
from domain.goals import Goal
from domain.sequence import MAX_STEPS, RESUME_POLICIES, DripSequence
from domain.steps import Step
from domain.triggers import ReEnrollment, validate_trigger
from domain.unit_of_work import UnitOfWork
from domain.windows import SendWindow

T = TypeVar("T")

_CREATE_FIELDS = {"name", "description", "trigger_type", "trigger_data", "exit_on_reply",
                  "reenrollment", "send_window", "resume_policy", "goal", "steps",
                  "experiments", "holdout_percent",
                  "frequency_cap_exempt"}


def validated_settings(data: dict[str, Any], current: DripSequence | None) -> dict[str, Any]:
    """Validate the settings present in ``data``; trigger type and data are checked together."""
    out: dict[str, Any] = {}
    if "name" in data:
        out["name"] = v.text(data["name"], "name", max_len=200).strip()
    if "description" in data:
        out["description"] = v.text(data["description"], "description", max_len=2000,
                                    required=False)
    if "exit_on_reply" in data:
        out["exit_on_reply"] = v.boolean(data["exit_on_reply"], "exit_on_reply")
    if "frequency_cap_exempt" in data:
        out["frequency_cap_exempt"] = v.boolean(data["frequency_cap_exempt"],
                                                "frequency_cap_exempt")
    if "reenrollment" in data:
        out["reenrollment"] = ReEnrollment.from_dict(data["reenrollment"]).to_dict()
    if "send_window" in data:
        window = SendWindow.from_dict(data["send_window"])
        out["send_window"] = window.to_dict() if window else None
    if "resume_policy" in data:
        out["resume_policy"] = v.choice(data["resume_policy"], "resume_policy", RESUME_POLICIES)
    if "goal" in data:
        goal = Goal.from_dict(data["goal"])
        out["goal"] = goal.to_dict() if goal else None
    if "experiments" in data:
        out["experiments"] = experiments.validated(data["experiments"])
    if "holdout_percent" in data:
        out["holdout_percent"] = experiments.validated_holdout(data["holdout_percent"])
    if "trigger_type" in data or "trigger_data" in data:
        kind = data.get("trigger_type", current.trigger_type if current else "manual")
        if "trigger_data" in data:
            raw = data["trigger_data"]
        else:
            same = current is not None and kind == current.trigger_type
            raw = current.trigger_data if same and current else {}
        out["trigger_type"], out["trigger_data"] = validate_trigger(kind, raw)
    return out


def _validated_steps(raw: object) -> list[Step]:
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_STEPS:
        raise InvalidInputError("steps", f"must be a list of at most {MAX_STEPS} steps")
    steps = [Step.from_dict(uuid4(), item, f"steps[{i}]") for i, item in enumerate(raw)]
    seen: dict[int, int] = {}
    for i, step in enumerate(steps):
        if step.order in seen:
            raise InvalidInputError(
                f"steps[{i}].order", f"order {step.order} is also used by steps[{seen[step.order]}]"
            )
        seen[step.order] = i
    return steps


def _listed_step(item: object, where: str) -> tuple[Step, bool]:
    """A step written out in a list, and whether it is new: with the ``id`` of the step it
    keeps, or without one for a new step."""
    data = dict(v.require_mapping(item, where))
    raw = data.pop("id", None)
    if raw is None:
        return Step.from_dict(uuid4(), data, where), True
    try:
        step_id = UUID(v.text(raw, f"{where}.id", max_len=36))
    except ValueError:
        raise InvalidInputError(f"{where}.id", f"must be a step id (a UUID); got {raw!r}"
                                ) from None
    return Step.from_dict(step_id, data, where), False


class SequenceCommands:
    def __init__(self, core: Core) -> None:
        self.core = core

    def _write(self, decision: Callable[[UnitOfWork], T]) -> T:
        return self.core.decide(decision)[0]

    def create_sequence(self, tenant_id: str, data: dict[str, Any]) -> DripSequence:
        """Create a draft sequence, with its steps if given, in one atomic write."""
        v.reject_unknown(data, _CREATE_FIELDS, "")
        if "name" not in data:
            raise InvalidInputError("name", "is required")
        tenant = v.tenant_id(tenant_id)
        settings = validated_settings({"trigger_type": "manual", **data}, None)
        steps = _validated_steps(data.get("steps"))

        def decide(uow: UnitOfWork) -> DripSequence:
            now = self.core.clock()
            sequence = DripSequence.start(
                id=uuid4(), tenant_id=tenant, name=settings["name"],
                description=settings.get("description", ""),
                trigger_type=settings["trigger_type"], trigger_data=settings["trigger_data"],
                exit_on_reply=settings.get("exit_on_reply", True),
                reenrollment=settings.get("reenrollment", ReEnrollment().to_dict()),
                at=now, cloned_from=None, send_window=settings.get("send_window"),
                resume_policy=settings.get("resume_policy", "send_late"),
                goal=settings.get("goal"),
                frequency_cap_exempt=settings.get("frequency_cap_exempt", False),
            )
            for step in steps:
                sequence.add_step(step, now)
            tests: dict[str, Any] = {k: settings[k] for k in ("experiments", "holdout_percent")
                                     if k in settings}
            if tests:
                sequence.update(tests, now)
            uow.add(sequence)
            return sequence

        return self._write(decide)

    def update_sequence(self, tenant_id: str, sequence_id: UUID, data: dict[str, Any],
                        expected_version: int | None = None) -> DripSequence:
        v.reject_unknown(data, _CREATE_FIELDS - {"steps"}, "")

        def decide(uow: UnitOfWork) -> DripSequence:
            sequence = self._editable(uow, tenant_id, sequence_id, expected_version)
            changes = validated_settings(data, sequence)
            if changes:
                sequence.update(changes, self.core.clock())
            return sequence

        return self._write(decide)

    def add_step(self, tenant_id: str, sequence_id: UUID, data: dict[str, Any],
                 expected_version: int | None = None, revision: int | None = None,
                 step: Step | None = None) -> tuple[DripSequence, Step]:
        """Add a step to a draft sequence, or to its draft ``revision``: ``data``, or
        ``step`` when it was made otherwise (from a template)."""
        step = step or Step.from_dict(uuid4(), data)

        def decide(uow: UnitOfWork) -> DripSequence:
            sequence = self._editable(uow, tenant_id, sequence_id, expected_version)
            sequence.add_step(step, self.core.clock(), revision)
            return sequence

        return self._write(decide), step

    def update_step(self, tenant_id: str, sequence_id: UUID, step_id: UUID,
                    data: dict[str, Any], expected_version: int | None = None,
                    revision: int | None = None) -> tuple[DripSequence, Step]:
        """Change the fields given; the others keep their values (the seed's partial update)."""
        def decide(uow: UnitOfWork) -> tuple[DripSequence, Step]:
            sequence = self._editable(uow, tenant_id, sequence_id, expected_version)
            source = sequence.current if revision is None else sequence.revision(revision)
            before = source.step(step_id)
            current = before.to_dict()
            del current["id"]
            current.pop("source_template", None)  # provenance stays; it is not authored
            step = replace(Step.from_dict(step_id, {**current, **data}),
                           source_template=before.source_template)
            sequence.update_step(step, self.core.clock(), revision)
            return sequence, step

        return self._write(decide)

    def remove_step(self, tenant_id: str, sequence_id: UUID, step_id: UUID,
                    expected_version: int | None = None, revision: int | None = None,
                    ) -> DripSequence:
        def decide(uow: UnitOfWork) -> DripSequence:
            sequence = self._editable(uow, tenant_id, sequence_id, expected_version)
            sequence.remove_step(step_id, self.core.clock(), revision)
            return sequence

        return self._write(decide)

    def replace_steps(self, tenant_id: str, sequence_id: UUID, items: object,
                      expected_version: int | None = None, revision: int | None = None,
                      from_template: Callable[[Mapping[str, Any], str], Step] | None = None,
                      ) -> DripSequence:
        """Replace the steps of a draft sequence, or of its draft ``revision``, with
        ``items`` in one write: an item with the ``id`` of a step of the draft keeps that
        step (all its fields as given), one without is a new step, and a step not listed is
        removed. ``from_template`` makes the new step of a ``{template_id, order,
        overrides}`` item. All or nothing; errors name the item (``steps[2].delay_amount``),
        the first one that is wrong."""
        if not isinstance(items, list) or len(items) > MAX_STEPS:
            raise InvalidInputError("steps", f"must be a list of at most {MAX_STEPS} steps")
        steps: list[Step] = []
        new: set[UUID] = set()
        for i, item in enumerate(items):
            where = f"steps[{i}]"
            if from_template and isinstance(item, Mapping) and "template_id" in item:
                step, is_new = from_template(item, where), True
            else:
                step, is_new = _listed_step(item, where)
            steps.append(step)
            if is_new:
                new.add(step.id)

        def decide(uow: UnitOfWork) -> DripSequence:
            sequence = self._editable(uow, tenant_id, sequence_id, expected_version)
            sequence.replace_steps(steps, self.core.clock(), revision, new)
            return sequence

        return self._write(decide)

    def delete_sequence(self, tenant_id: str, sequence_id: UUID,
                        expected_version: int | None = None) -> None:
        def decide(uow: UnitOfWork) -> None:
            sequence = self._editable(uow, tenant_id, sequence_id, expected_version)
            sequence.delete(self.core.clock())

        self._write(decide)

    def clone_sequence(self, tenant_id: str, sequence_id: UUID, name: str | None = None,
                       target_tenant_id: str | None = None) -> DripSequence:
        """A new draft with the settings of the source's live revision (of revision 1 before
        it is activated) and copies of its steps under new step ids, in this tenant or in
        ``target_tenant_id``: its experiments name the copies' ids (a path experiment's arms
        get new step ids too) and keep their arms, metric and rules, with the holdout; the
        source's looks and winners stay with the source."""
        new_name = v.text(name, "name", max_len=200).strip() if name is not None else None
        tenant = v.tenant_id(target_tenant_id or tenant_id)

        def decide(uow: UnitOfWork) -> DripSequence:
            source = self.core.sequence(uow, tenant_id, sequence_id)
            now = self.core.clock()
            clone = DripSequence.start(
                id=uuid4(), tenant_id=tenant, name=new_name or f"{source.name} (copy)"[:200],
                description=source.description, trigger_type=source.trigger_type,
                trigger_data=source.trigger_data, exit_on_reply=source.exit_on_reply,
                reenrollment=source.reenrollment.to_dict(), at=now, cloned_from=source.id,
                send_window=source.send_window, resume_policy=source.resume_policy,
                goal=source.goal, frequency_cap_exempt=source.frequency_cap_exempt,
            )
            live = source.current
            step_ids: dict[str, str] = {}
            for step in live.steps:
                body = step.to_dict()
                step_ids[body["id"]] = body["id"] = str(uuid4())
                clone.add_step(Step.from_stored(body), now)
            tests: dict[str, Any] = {}
            if live.experiments:
                tests["experiments"] = experiments.copied(live.experiments, step_ids)
            if live.holdout_percent:
                tests["holdout_percent"] = live.holdout_percent
            if tests:
                clone.update(tests, now)
            uow.add(clone)
            return clone

        return self._write(decide)

    def _editable(self, uow: UnitOfWork, tenant_id: str, sequence_id: UUID,
                  expected_version: int | None) -> DripSequence:
        sequence = self.core.sequence(uow, tenant_id, sequence_id)
        self.core.check_version(sequence, expected_version)
        return sequence
