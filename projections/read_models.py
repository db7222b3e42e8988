"""The read models of one process, built by the composition root: their database, the
projector that feeds them, the queries and lookups that read them, runners and replay."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from projections import generations as gens
from projections.db import ReadDb
from projections.models.base import ReadModel
from projections.models.contacts import ContactsModel
from projections.models.conversions import ConversionsModel
from projections.models.due_enrollments import DueEnrollmentsModel
from projections.models.engagement_buckets import EngagementBucketsModel
from projections.models.enrollments import EnrollmentsModel
from projections.models.experiment_stats import ExperimentStatsModel
from projections.models.messages import MessagesModel
from projections.models.sequence_stats import SequenceStatsModel
from projections.models.sequences import SequencesModel
from projections.models.templates import TemplatesModel
from projections.projector import Projector
from projections.runner import ReadModelRunner
from projections.sql_lookups import SqlLookups
from projections.sql_queries import SqlQueries


def all_models() -> list[ReadModel]:
    return [SequencesModel(), EnrollmentsModel(), DueEnrollmentsModel(),
            SequenceStatsModel(), MessagesModel(), ContactsModel(), EngagementBucketsModel(),
            ConversionsModel(), ExperimentStatsModel(), TemplatesModel()]


@dataclass(frozen=True)
class ModelStatus:
    name: str
    generation: int
    status: str  # live | building
    position: int
    head: int

    @property
    def lag(self) -> int:
        return max(self.head - self.position, 0)


class ReadModels:
    def __init__(self, database_url: str, *, batch_size: int = 500) -> None:
        self.db = ReadDb(database_url)
        self.models = all_models()
        self.batch_size = batch_size
        gens.setup(self.db, self.models)
        self.queries = SqlQueries(self.db)
        self._projector: Projector | None = None

    def names(self) -> list[str]:
        return [m.name for m in self.models]

    def model(self, name: str) -> ReadModel:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(f"no read model {name!r}; known: {', '.join(self.names())}")

    def attach(self, app: Any) -> None:
        """Read events from this application's store (set once the app exists)."""
        self._projector = Projector(self.db, self.models, app, self.batch_size)

    @property
    def projector(self) -> Projector:
        if self._projector is None:
            raise RuntimeError("ReadModels.attach(app) must be called before projecting")
        return self._projector

    def lookups(self, *, catch_up: bool) -> SqlLookups:
        return SqlLookups(self.db, self._reach if catch_up else self._await)

    def _reach(self, names: list[str], position: int) -> None:
        """Bring the named models to at least ``position``: project here, then (a rebuild may
        hold the live generation back) wait for whoever else projects."""
        self.catch_up(names)
        self.wait_for(position, names)

    def _await(self, names: list[str], position: int) -> None:
        self.wait_for(position, names)

    def catch_up(self, names: Sequence[str] | None = None) -> None:
        """Project everything recorded so far into the live read models (all, or ``names``)."""
        self.projector.catch_up(names)

    def wait_for(self, position: int, names: Sequence[str] | None = None,
                 timeout: float = 10.0) -> None:
        """Block until the live read models (all, or ``names``) have processed ``position``
        (a notification id, e.g. the store's head after a write) when another process runs
        the projections; raises TimeoutError."""
        deadline = time.monotonic() + timeout
        wanted = set(names or self.names())
        while any(g.position < position for g in gens.all_generations(self.db)
                  if g.name in wanted and g.status == "live"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"read models not at position {position} after {timeout}s")
            time.sleep(0.01)

    def status(self) -> list[ModelStatus]:
        head = self.projector.head()
        return [ModelStatus(g.name, g.generation, g.status, g.position, head)
                for g in gens.all_generations(self.db) if g.name in self.names()]

    def runner(self, poll_interval: float = 0.5) -> ReadModelRunner:
        recorder = self.projector.recorder
        channel = getattr(recorder, "channel_name", None)
        conninfo = self.db.conninfo if self.db.is_postgres else None
        return ReadModelRunner(self.projector, conninfo=conninfo, channel=channel,
                                poll_interval=poll_interval)

    def close(self) -> None:
        self.db.close()
