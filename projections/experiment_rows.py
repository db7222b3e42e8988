"""Reading the ``experiment_stats`` read model: the experiments anyone was assigned to, and
one experiment's members as ``domain.trials`` counts them (for the looks the scheduler takes
and for the API's view of an experiment)."""

from __future__ import annotations

from uuid import UUID

from domain.trials import Member
from projections import generations as gens
from projections.db import ReadDb, as_datetime
from projections.models.base import table_name
from projections.models.experiment_stats import SUCCESS_COLUMNS

MODEL = "experiment_stats"


def _members_table(db: ReadDb) -> str:
    return table_name("experiment_members", gens.live_generation(db, MODEL).generation)


def experiments(db: ReadDb) -> list[tuple[str, UUID, int, str]]:
    found = db.read(f"SELECT DISTINCT tenant_id, sequence_id, revision, experiment_id "
                    f"FROM {_members_table(db)} ORDER BY tenant_id, sequence_id, revision, "
                    "experiment_id")
    return [(r["tenant_id"], UUID(r["sequence_id"]), int(r["revision"]), r["experiment_id"])
            for r in found]


def members(db: ReadDb, tenant_id: str, sequence_id: UUID, revision: int,
            experiment_id: str) -> list[Member]:
    found = db.read(
        f"SELECT * FROM {_members_table(db)} WHERE sequence_id = %s AND revision = %s "
        "AND experiment_id = %s AND tenant_id = %s ORDER BY member_id",
        [str(sequence_id), revision, experiment_id, tenant_id])
    return [Member(arm=r["arm"], by_winner=bool(r["by_winner"]),
                   exposed_at=as_datetime(r["exposed_at"]),
                   successes={metric: as_datetime(r[column])
                              for metric, column in SUCCESS_COLUMNS.items()})
            for r in found]
