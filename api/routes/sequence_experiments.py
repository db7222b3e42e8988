"""A sequence's A/B tests (CAPABILITIES §1): each experiment of a revision with its arms'
counts (assigned, exposed, matured, successful), the looks taken with the p-values they
found, its status and winner, and the holdout's conversions; and a manual conclusion."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from api.auth import Tenant
from api.deps import Core, ReadModels
from api.problems import responses
from api.routes import API, etag
from api.schemas.common import Page
from api.schemas.experiments import (
    ArmStats,
    ConcludeIn,
    ExperimentView,
    HoldoutStats,
    LookOut,
)
from domain import trials
from domain.app_experiments import window_of
from domain.application import DriplineApp
from domain.errors import ExperimentNotFoundError
from domain.sequence import DripSequence, Revision
from projections.queries import Queries

router = APIRouter(prefix=API + "/automation/sequences/{sequence_id}/experiments",
                   tags=["experiments"], responses=responses(401, 404, 422))
ExperimentId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,32}$")]


def _rounded(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def _view(core: DriplineApp, queries: Queries, sequence: DripSequence, revision: Revision,
          experiment_id: str) -> ExperimentView:
    experiment = revision.experiment(experiment_id)
    if experiment is None:
        raise ExperimentNotFoundError(f"revision {revision.number} has no experiment "
                                      f"{experiment_id}")
    trial = revision.trial(experiment_id)
    tallies = queries.experiment_counts(
        sequence.tenant_id, sequence.id, revision.number, experiment_id,
        [a["key"] for a in experiment["arms"]], experiment["metric"],
        window_of(experiment, revision), core.clock())
    counted = [x for x in trial["looks"] if x["result"] != trials.INSUFFICIENT]
    last = counted[-1]["p_values"] if counted else {}
    held = queries.conversion_stats(sequence.tenant_id, sequence.id,
                                    revision.number)["holdout"]
    return ExperimentView(
        id=experiment_id, kind=experiment["kind"], step_id=experiment["step_id"],
        metric=experiment["metric"], revision=revision.number,
        status=trials.status(trial, experiment["auto_winner"]["max_looks"]),  # type: ignore[arg-type]
        winner=trial["winner"], concluded_by=trial["by"], concluded_at=trial["concluded_at"],
        looks=[LookOut(n=x["n"], at=x["at"], result=x["result"], best=x.get("best"),
                       counts=x["counts"], p_values=x["p_values"]) for x in trial["looks"]],
        arms=[ArmStats(key=a["key"], weight=a["weight"], assigned=t.assigned,
                       exposures=t.exposures, matured=t.matured, successes=t.successes,
                       rate=_rounded(t.rate), p_value_vs_best=last.get(a["key"]))
              for a in experiment["arms"] for t in [tallies[a["key"]]]],
        holdout=HoldoutStats(assigned=held["enrolled"], converted=held["converted"],
                             conversion_rate=held["conversion_rate"]))


@router.get("", response_model=Page[ExperimentView], responses=responses(503),
            summary="A revision's A/B tests with per-arm counts, looks and p-values")
def list_experiments(
    tenant: Tenant, core: Core, queries: ReadModels, response: Response, sequence_id: UUID,
    revision: Annotated[int | None, Query(ge=1, le=1_000_000, description=(
        "The revision (default: the live one, or 1 before activation)"))] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[ExperimentView]:
    sequence = core.get_sequence(tenant, sequence_id)
    chosen = sequence.revision(revision) if revision is not None else sequence.current
    ids = [x["id"] for x in chosen.experiments]
    items = [_view(core, queries, sequence, chosen, i)
             for i in ids[(page - 1) * limit:page * limit]]
    etag(response, sequence.version)
    return Page[ExperimentView](items=items, total=len(ids), page=page, limit=limit)


@router.post("/{experiment_id}/conclude", response_model=ExperimentView,
             responses=responses(409, 503),
             summary="Name the winner by hand: new enrollments get it (409 if concluded)")
def conclude_experiment(tenant: Tenant, core: Core, queries: ReadModels, response: Response,
                        sequence_id: UUID, experiment_id: ExperimentId,
                        data: ConcludeIn) -> ExperimentView:
    sequence = core.experiments.conclude(tenant, sequence_id, experiment_id, data.winner)
    etag(response, sequence.version)
    return _view(core, queries, sequence, sequence.current, experiment_id)
