"""Reading the ``experiment_stats`` read model: the experiments anyone was assigned to, and
one experiment's per-arm counts as ``domain.trials.tally`` defines them, counted by the
database (for the looks the scheduler takes and for the API's view of an experiment)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from domain.trials import Tally
from projections import generations as gens
from projections.db import ReadDb
from projections.models.base import table_name
from projections.models.experiment_stats import SUCCESS_COLUMNS

MODEL = "experiment_stats"


def _members_table(db: ReadDb) -> str:
    return table_name("experiment_members", gens.live_generation(db, MODEL).generation)


def experiments(db: ReadDb) -> list[tuple[str, UUID, int, str]]:
    table = table_name("experiment_index", gens.live_generation(db, MODEL).generation)
    found = db.read(f"SELECT tenant_id, sequence_id, revision, experiment_id FROM {table} "
                    "ORDER BY tenant_id, sequence_id, revision, experiment_id")
    return [(r["tenant_id"], UUID(r["sequence_id"]), int(r["revision"]), r["experiment_id"])
            for r in found]


def _after(db: ReadDb, column: str, window: timedelta) -> tuple[str, list[object]]:
    """SQL for ``column + window`` (a whole number of seconds), exact on either store (the
    SQLite form keeps the stored fraction of a second: its times are fixed-width UTC)."""
    seconds = int(window.total_seconds())
    if db.is_postgres:
        return f"{column} + %s * INTERVAL '1 second'", [seconds]
    return (f"strftime('%Y-%m-%dT%H:%M:%S', substr({column}, 1, 19), %s) "
            f"|| substr({column}, 20)", [f"+{seconds} seconds"])


def counts(db: ReadDb, tenant_id: str, sequence_id: UUID, revision: int, experiment_id: str,
           arms: Sequence[str], metric: str, window: timedelta,
           now: datetime) -> dict[str, Tally]:
    """Per arm: assigned and exposed (all), matured and successful (split ones only): an
    exposure matured when ``exposed_at + window <= now``, a success counts when
    ``exposed_at <= success <= exposed_at + window``. One grouped statement."""
    success = SUCCESS_COLUMNS[metric]
    end, end_params = _after(db, "exposed_at", window)
    matured = "NOT by_winner AND exposed_at IS NOT NULL AND exposed_at <= %s"
    found = db.read(
        f"SELECT arm, COUNT(*) AS assigned, COUNT(exposed_at) AS exposures, "
        f"SUM(CASE WHEN {matured} THEN 1 ELSE 0 END) AS matured, "
        f"SUM(CASE WHEN {matured} AND {success} >= exposed_at AND {success} <= {end} "
        f"THEN 1 ELSE 0 END) AS successes FROM {_members_table(db)} WHERE sequence_id = %s "
        "AND revision = %s AND experiment_id = %s AND tenant_id = %s GROUP BY arm",
        [now - window, now - window, *end_params, str(sequence_id), revision, experiment_id,
         tenant_id])
    out = {arm: Tally() for arm in arms}
    for r in found:
        if r["arm"] in out:
            out[r["arm"]] = Tally(assigned=int(r["assigned"]), exposures=int(r["exposures"]),
                                  matured=int(r["matured"] or 0),
                                  successes=int(r["successes"] or 0))
    return out
