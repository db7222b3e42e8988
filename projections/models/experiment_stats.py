"""``experiment_stats``: one row per enrollment and experiment it was assigned to
(CAPABILITIES §1): the arm and how it got it (split, or the winner), its exposure (the
first-attempt request of the experiment's step, or of a path arm's first step: when, and
which message) and when each kind of success first happened (human open, human click, reply
attributed to a message carrying the arm, conversion; CRM time). Whether an exposure has
*matured*, and whether a success fell inside its window, depend on the metric and on the
time asked about: they are computed from these rows when read (``domain.trials``), so the
rows follow events alone.

``experiment_index`` is one row per experiment anyone was assigned to (what the
scheduler's looks go through, without reading members). ``experiment_links`` finds a member
from a message id (its exposure) or an enrollment id
(its conversions), since events name only those.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from domain import ids
from domain.enrollment import Enrollment
from projections.batch import Batch
from projections.models.base import Handler, ReadModel, dumps

E = Enrollment
SUCCESS_COLUMNS = {"open": "opened_at", "click": "clicked_at", "reply": "replied_at",
                   "conversion": "converted_at"}


def member_key(enrollment_id: object, experiment_id: str) -> str:
    return f"{enrollment_id}/{experiment_id}"  # an enrollment id is a UUID: no ambiguity


class ExperimentStatsModel(ReadModel):
    name = "experiment_stats"
    table_bases = ("experiment_members", "experiment_links", "experiment_index")
    keys: ClassVar[Mapping[str, str]] = {"experiment_members": "member_id",
                                         "experiment_links": "link_id",
                                         "experiment_index": "experiment_key"}
    schema = (
        "CREATE TABLE IF NOT EXISTS {experiment_members} (member_id TEXT PRIMARY KEY, "
        "tenant_id TEXT NOT NULL, sequence_id TEXT NOT NULL, revision INTEGER NOT NULL, "
        "experiment_id TEXT NOT NULL, arm TEXT NOT NULL, by_winner BOOLEAN NOT NULL, "
        "enrollment_id TEXT NOT NULL, message_id TEXT, exposed_at TIMESTAMPTZ, "
        "opened_at TIMESTAMPTZ, clicked_at TIMESTAMPTZ, replied_at TIMESTAMPTZ, "
        "converted_at TIMESTAMPTZ)",
        "CREATE INDEX IF NOT EXISTS {experiment_members}_by_experiment "
        "ON {experiment_members} (sequence_id, revision, experiment_id)",
        "CREATE TABLE IF NOT EXISTS {experiment_links} (link_id TEXT PRIMARY KEY, "
        "member_ids TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {experiment_index} (experiment_key TEXT PRIMARY KEY, "
        "tenant_id TEXT NOT NULL, sequence_id TEXT NOT NULL, revision INTEGER NOT NULL, "
        "experiment_id TEXT NOT NULL)",
    )

    def build_handlers(self) -> Mapping[type[Any], Handler]:
        return {E.Created: self._enrolled, E.StepExecuted: self._executed,
                E.MessageOpened: self._opened, E.MessageClicked: self._clicked,
                E.ReplyAttributed: self._replied, E.GoalReached: self._converted}

    def prefetch(self, batch: Batch, events: Sequence[Any], t: Mapping[str, str]) -> None:
        batch.rows(t["experiment_links"], "link_id").prefetch(
            [e.message_id for e in events
             if isinstance(e, E.MessageOpened | E.MessageClicked | E.ReplyAttributed)]
            + [e.originator_id for e in events if isinstance(e, E.GoalReached)])

    def _enrolled(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        if not e.assignments:
            return
        members = b.rows(t["experiment_members"], "member_id")
        keys = []
        for experiment_id, assigned in sorted(e.assignments.items()):
            key = member_key(e.originator_id, experiment_id)
            keys.append(key)
            members.put(key, {
                "member_id": key, "tenant_id": e.tenant_id, "sequence_id": str(e.sequence_id),
                "revision": e.revision, "experiment_id": experiment_id, "arm": assigned["arm"],
                "by_winner": assigned.get("by") == "winner",
                "enrollment_id": str(e.originator_id), "message_id": None, "exposed_at": None,
                "opened_at": None, "clicked_at": None, "replied_at": None,
                "converted_at": None})
        tested = b.rows(t["experiment_index"], "experiment_key")
        for experiment_id in sorted(e.assignments):
            key = f"{e.sequence_id}/{e.revision}/{experiment_id}"
            tested.put(key, {"experiment_key": key, "tenant_id": e.tenant_id,
                             "sequence_id": str(e.sequence_id), "revision": e.revision,
                             "experiment_id": experiment_id})
        b.rows(t["experiment_links"], "link_id").put(e.originator_id, {
            "link_id": str(e.originator_id), "member_ids": dumps(keys)})

    def _executed(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        """Every message carrying the arm is linked (its retries; a path arm's later
        steps); the first first-attempt one is the exposure."""
        if e.experiment_id is None:
            return
        members = b.rows(t["experiment_members"], "member_id")
        key = member_key(e.originator_id, e.experiment_id)
        row = members.get(key)
        if row is None:
            return
        message_id = ids.message_id(e.originator_id, e.step_order, e.attempt)
        b.rows(t["experiment_links"], "link_id").put(message_id, {
            "link_id": message_id, "member_ids": dumps([key])})
        if row["exposed_at"] is None and e.attempt == 1:
            members.put(key, {**row, "exposed_at": e.at, "message_id": message_id})

    def _opened(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        if not e.machine:
            self._first(b, t, e.message_id, "opened_at", e.occurred_at)

    def _clicked(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        if e.first and not e.bot:
            self._first(b, t, e.message_id, "clicked_at", e.occurred_at)

    def _replied(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        self._first(b, t, e.message_id, "replied_at", e.occurred_at)

    def _converted(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        self._first(b, t, e.originator_id, "converted_at", e.occurred_at)

    @staticmethod
    def _first(b: Batch, t: Mapping[str, str], link: object, column: str,
               when: Any) -> None:
        found = b.rows(t["experiment_links"], "link_id").get(link)
        if found is None:
            return  # a message or an enrollment outside every experiment
        members = b.rows(t["experiment_members"], "member_id")
        for key in json.loads(found["member_ids"]):
            row = members.get(key)
            if row is not None and row[column] is None:
                members.put(key, {**row, column: when})
