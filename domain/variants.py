"""What an enrollment's A/B assignment changes when its steps are executed
(CAPABILITIES §1): a held-out enrollment requests nothing and, at its one due time, completes
with the step skipped ``holdout``; an enrollment in an arm of a content experiment gets that
arm's ``message_template`` at the experiment's step, as long as the revision it follows has
the experiment (it keeps its arm after a winner: only new enrollments get the winner). In a
path experiment the enrollment follows its arm's steps (``Revision.journey``), each message
carrying the arm."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from domain.enrollment import Enrollment
from domain.experiments import arm_of
from domain.sequence import Revision
from domain.steps import MessageTemplate, Step

HOLDOUT = "holdout"  # the skip reason of a held-out enrollment's step


def hold_out(e: Enrollment, step: Step, now: datetime) -> None:
    """The held-out enrollment's one due time came: nothing is sent, it completes."""
    e.skip_step(step.order, HOLDOUT, now, detail="held out of the sequence's experiments",
                step_id=step.id)
    e.complete(now)


def with_variant(e: Enrollment, plan: Revision, step: Step,
                 ) -> tuple[Step, tuple[str, str] | None]:
    """The step as this enrollment receives it, and (experiment id, arm) when an arm's
    content replaces the step's."""
    for experiment in plan.experiments:
        if experiment["kind"] == "path":  # every step of the arm carries it
            assigned = e.assignments.get(experiment["id"])
            return step, ((experiment["id"], assigned["arm"]) if assigned else None)
        if experiment["step_id"] != str(step.id):
            continue
        assigned = e.assignments.get(experiment["id"])
        arm = arm_of(experiment, assigned["arm"]) if assigned else None
        if arm is None:
            return step, None
        template = MessageTemplate(**arm["message_template"])
        return replace(step, message_template=template), (experiment["id"], arm["key"])
    return step, None
