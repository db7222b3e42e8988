"""A/B test commands (CAPABILITIES §1): the looks the scheduler takes, and a manual
conclusion. A look reads the experiment's members from the ``experiment_stats`` read model
(``Lookups``), decides in ``domain.trials`` and records itself on the sequence with the counts
it used (``sequence.experiment_evaluated``), and the winner if there is one
(``sequence.experiment_concluded``). Evaluators racing on the same sequence meet on its
version: the loser's look is not recorded, and the next round decides again."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from uuid import UUID

from domain import trials
from domain.app_base import Core
from domain.errors import ConcurrencyConflictError, NotFoundError
from domain.sequence import DripSequence, Revision

log = logging.getLogger("dripline.experiments")


def window_of(experiment: dict[str, Any], revision: Revision) -> timedelta:
    """How long an exposure waits for its success: the goal's attribution window for the
    conversion metric, else the experiment's outcome window."""
    if experiment["metric"] == "conversion" and revision.goal:
        return timedelta(hours=int(revision.goal["attribution_window_hours"]))
    return timedelta(hours=int(experiment["auto_winner"]["outcome_window_hours"]))


class ExperimentCommands:
    def __init__(self, core: Core) -> None:
        self.core = core

    def evaluate_due(self) -> int:
        """Take every look that is due now; how many were recorded."""
        at_least = self.core.store.max_notification_id() or 0
        recorded = 0
        for tenant, sequence_id, number, experiment_id in (
                self.core.lookups.experiments_with_members(at_least)):
            try:
                recorded += self._evaluate(tenant, sequence_id, number, experiment_id,
                                           at_least)
            except (ConcurrencyConflictError, NotFoundError):
                log.info("look at experiment %s not recorded (changed meanwhile)",
                         experiment_id, extra={"tenant_id": tenant})
            except Exception:  # one broken experiment must not starve the others
                log.exception("look at experiment %s failed", experiment_id,
                              extra={"tenant_id": tenant})
        return recorded

    def _evaluate(self, tenant: str, sequence_id: UUID, number: int, experiment_id: str,
                  at_least: int) -> int:
        sequence = self.core.read_sequence(tenant, sequence_id)
        revision = sequence.revisions.get(number)
        if sequence.status != "active" or sequence.live_revision != number or revision is None:
            return 0
        experiment = revision.experiment(experiment_id)
        if experiment is None or not self._due(revision, experiment):
            return 0
        now = self.core.clock()
        rules = experiment["auto_winner"]
        tallies = self.core.lookups.experiment_counts(
            tenant, sequence_id, number, experiment_id, [a["key"] for a in experiment["arms"]],
            experiment["metric"], window_of(experiment, revision), now, at_least)
        if any(t.matured < rules["min_exposures_per_arm"] for t in tallies.values()):
            return 0
        found = trials.look(tallies, rules["alpha"], rules["max_looks"])
        looks = revision.trial(experiment_id)["looks"]
        if found.result == trials.INSUFFICIENT and looks and (
                looks[-1]["result"], looks[-1]["counts"]) == (found.result, found.counts):
            return 0  # a quiet test: the same thin look again would only grow the history
        last = trials.counted_looks(looks) + (
            found.result != trials.INSUFFICIENT) >= rules["max_looks"]

        def record(s: DripSequence) -> None:
            s.record_look(number, experiment_id, counts=found.counts,
                          p_values=found.p_values, result=found.result, best=found.best,
                          at=now)
            if found.best is not None and found.result == trials.SIGNIFICANT:
                s.conclude_experiment(number, experiment_id, found.best, "auto", now)
            elif found.best is not None and last and rules["fallback"] == "best_observed":
                s.conclude_experiment(number, experiment_id, found.best, "fallback", now)

        self.core.change_sequence(tenant, sequence_id, sequence.version, record)
        return 1

    def _due(self, revision: Revision, experiment: dict[str, Any]) -> bool:
        rules = experiment["auto_winner"]
        trial = revision.trial(experiment["id"])
        if not rules["enabled"] or trial["winner"] is not None:
            return False
        if trials.counted_looks(trial["looks"]) >= rules["max_looks"]:
            return False
        if trial["looks"]:
            every = timedelta(hours=rules["evaluate_every_hours"])
            return bool(trial["looks"][-1]["at"] + every <= self.core.clock())
        return True

    def conclude(self, tenant_id: str, sequence_id: UUID, experiment_id: str, winner: str,
                 revision: int | None = None) -> DripSequence:
        """Name the winner by hand (any arm): new enrollments get it. 409 when concluded."""
        def change(s: DripSequence) -> None:
            number = revision or s.live_revision or 1
            s.conclude_experiment(number, experiment_id, winner, "manual", self.core.clock())

        return self.core.change_sequence(tenant_id, sequence_id, None, change)[0]
