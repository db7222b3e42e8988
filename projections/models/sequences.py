"""``sequences``: each sequence's definition and status, per tenant (DESIGN 3.3); how
auto-enrollment finds the active sequences for a trigger.

A sequence row shows its live revision's steps and journey settings (revision 1's before
activation), as the aggregate's own properties do, with ``revision`` (live; NULL until
activated) and ``draft_revision``. ``sequence_revisions`` holds every revision's own steps and
settings (CAPABILITIES §8): edits of a draft revision change only its row, and publishing it
copies its definition onto the sequence row.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from domain.sequence import JOURNEY, DripSequence
from projections.db import Tx
from projections.models.base import Handler, ReadModel, dumps

S = DripSequence
# Settings stored as they are; the others (dicts) as JSON text.
_PLAIN = frozenset({"name", "description", "trigger_type", "exit_on_reply", "resume_policy"})
# Read from the aggregate (no column): an update of one of them only moves the version.
_NOT_SHOWN = frozenset({"experiments", "holdout_percent", "frequency_cap_exempt"})
_SEQUENCE_SETTINGS = frozenset({"name", "description", "trigger_type", "trigger_data",
                                "reenrollment"})
_DEFINITION = ("exit_on_reply", "send_window", "resume_policy", "goal", "steps")


def _column(key: str, value: Any) -> Any:
    return value if key in _PLAIN else dumps(value)


class SequencesModel(ReadModel):
    name = "sequences"
    version = 3  # 2: revisions (the row shows the live one, revision rows beside it); 3: goals
    table_bases = ("sequences", "sequence_revisions")
    keys: ClassVar[Mapping[str, str]] = {"sequences": "sequence_id",
                                         "sequence_revisions": "sequence_id, revision"}
    schema = (
        "CREATE TABLE IF NOT EXISTS {sequences} (sequence_id TEXT PRIMARY KEY, "
        "tenant_id TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL, "
        "status TEXT NOT NULL, trigger_type TEXT NOT NULL, trigger_data TEXT NOT NULL, "
        "exit_on_reply BOOLEAN NOT NULL, reenrollment TEXT NOT NULL, steps TEXT NOT NULL, "
        "cloned_from TEXT, version BIGINT NOT NULL, created_at TIMESTAMPTZ NOT NULL, "
        "updated_at TIMESTAMPTZ NOT NULL, activated_at TIMESTAMPTZ, send_window TEXT NOT NULL, "
        "resume_policy TEXT NOT NULL, revision INTEGER, draft_revision INTEGER, "
        "goal TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS {sequences}_by_trigger "
        "ON {sequences} (tenant_id, status, trigger_type)",
        "CREATE TABLE IF NOT EXISTS {sequence_revisions} (sequence_id TEXT NOT NULL, "
        "revision INTEGER NOT NULL, tenant_id TEXT NOT NULL, base_revision INTEGER, "
        "created_at TIMESTAMPTZ NOT NULL, published_at TIMESTAMPTZ, "
        "exit_on_reply BOOLEAN NOT NULL, send_window TEXT NOT NULL, "
        "resume_policy TEXT NOT NULL, steps TEXT NOT NULL, goal TEXT NOT NULL, "
        "PRIMARY KEY (sequence_id, revision))",
    )

    def build_handlers(self) -> Mapping[type[Any], Handler]:
        return {S.Created: self._created, S.Updated: self._updated,
                S.StepAdded: self._step_put, S.StepUpdated: self._step_put,
                S.StepRemoved: self._step_removed, S.Activated: self._activated,
                S.RevisionCreated: self._revision_created,
                S.RevisionPublished: self._revision_published,
                S.RevisionDiscarded: self._revision_discarded,
                S.Paused: self._status, S.Resumed: self._status, S.Archived: self._status,
                S.Deleted: self._status}

    def _created(self, tx: Tx, e: Any, t: Mapping[str, str]) -> None:
        tx.execute(
            f"INSERT INTO {t['sequences']} (sequence_id, tenant_id, name, description, status, "
            "trigger_type, trigger_data, exit_on_reply, reenrollment, steps, cloned_from, "
            "version, created_at, updated_at, activated_at, send_window, resume_policy, "
            "revision, draft_revision, goal) VALUES "
            "(%s, %s, %s, %s, 'draft', %s, %s, %s, %s, '[]', %s, %s, %s, %s, NULL, %s, %s, "
            "NULL, 1, %s)",
            [e.originator_id, e.tenant_id, e.name, e.description, e.trigger_type,
             dumps(e.trigger_data), e.exit_on_reply, dumps(e.reenrollment),
             e.cloned_from, e.originator_version, e.at, e.at, dumps(e.send_window),
             e.resume_policy, dumps(e.goal)])
        tx.execute(
            f"INSERT INTO {t['sequence_revisions']} (sequence_id, revision, tenant_id, "
            "base_revision, created_at, published_at, exit_on_reply, send_window, "
            "resume_policy, steps, goal) VALUES (%s, 1, %s, NULL, %s, NULL, %s, %s, %s, '[]', "
            "%s)",
            [e.originator_id, e.tenant_id, e.at, e.exit_on_reply, dumps(e.send_window),
             e.resume_policy, dumps(e.goal)])

    def _touch(self, tx: Tx, e: Any, t: Mapping[str, str], sets: list[str] | None = None,
               params: list[Any] | None = None) -> None:
        """Every event moves the row's version (and ``updated_at``), as on the aggregate,
        whatever revision it edits: the API sends that version back in If-Match."""
        assignments = ", ".join([*(sets or []), "version = %s", "updated_at = %s"])
        tx.execute(f"UPDATE {t['sequences']} SET {assignments} WHERE sequence_id = %s",
                   [*(params or []), e.originator_version, e.at, e.originator_id])

    def _shown(self, tx: Tx, e: Any, t: Mapping[str, str]) -> int:
        """The revision the sequence row shows: the live one, or 1 before activation."""
        rows = tx.execute(f"SELECT revision FROM {t['sequences']} WHERE sequence_id = %s",
                          [e.originator_id])
        return int(rows[0]["revision"] or 1) if rows else 1

    def _update_revision(self, tx: Tx, e: Any, t: Mapping[str, str], revision: int,
                         sets: list[str], params: list[Any]) -> None:
        tx.execute(f"UPDATE {t['sequence_revisions']} SET {', '.join(sets)} "
                   "WHERE sequence_id = %s AND revision = %s",
                   [*params, e.originator_id, revision])

    def _updated(self, tx: Tx, e: Any, t: Mapping[str, str]) -> None:
        own: list[tuple[str, Any]] = []
        journey: list[tuple[str, Any]] = []
        for key, value in sorted(e.changes.items()):
            if key in JOURNEY and key not in _NOT_SHOWN:
                journey.append((f"{key} = %s", _column(key, value)))
            elif key in _SEQUENCE_SETTINGS:
                own.append((f"{key} = %s", _column(key, value)))
            # any other key is a setting this model does not show
        if journey:
            self._update_revision(tx, e, t, e.revision, [s for s, _ in journey],
                                  [p for _, p in journey])
            if e.revision == self._shown(tx, e, t):
                own += journey
        self._touch(tx, e, t, [s for s, _ in own], [p for _, p in own])

    def _steps(self, tx: Tx, e: Any, t: Mapping[str, str]) -> list[dict[str, Any]]:
        rows = tx.execute(f"SELECT steps FROM {t['sequence_revisions']} "
                          "WHERE sequence_id = %s AND revision = %s",
                          [e.originator_id, e.revision])
        steps: list[dict[str, Any]] = json.loads(rows[0]["steps"]) if rows else []
        return steps

    def _save_steps(self, tx: Tx, e: Any, t: Mapping[str, str],
                    steps: list[dict[str, Any]]) -> None:
        steps.sort(key=lambda s: s["order"])
        text = dumps(steps)
        self._update_revision(tx, e, t, e.revision, ["steps = %s"], [text])
        if e.revision == self._shown(tx, e, t):
            self._touch(tx, e, t, ["steps = %s"], [text])
        else:
            self._touch(tx, e, t)

    def _step_put(self, tx: Tx, e: Any, t: Mapping[str, str]) -> None:
        steps = [s for s in self._steps(tx, e, t) if s["id"] != e.step["id"]]
        self._save_steps(tx, e, t, [*steps, e.step])

    def _step_removed(self, tx: Tx, e: Any, t: Mapping[str, str]) -> None:
        steps = [s for s in self._steps(tx, e, t) if s["id"] != str(e.step_id)]
        self._save_steps(tx, e, t, steps)

    def _activated(self, tx: Tx, e: Any, t: Mapping[str, str]) -> None:
        """Activating publishes revision 1 unless a revision is live already (as the
        aggregate does); revision 1 is what the row showed until now."""
        rows = tx.execute(f"SELECT revision FROM {t['sequences']} WHERE sequence_id = %s",
                          [e.originator_id])
        if rows and rows[0]["revision"] is None:
            self._update_revision(tx, e, t, 1, ["published_at = %s"], [e.at])
            self._touch(tx, e, t, ["status = 'active'", "activated_at = %s", "revision = 1",
                                   "draft_revision = NULL"], [e.at])
        else:
            self._touch(tx, e, t, ["status = 'active'", "activated_at = %s"], [e.at])

    def _revision_created(self, tx: Tx, e: Any, t: Mapping[str, str]) -> None:
        """A copy of the base revision's definition: a new draft."""
        table = t["sequence_revisions"]
        tx.execute(
            f"INSERT INTO {table} (sequence_id, revision, tenant_id, base_revision, created_at, "
            "published_at, exit_on_reply, send_window, resume_policy, steps, goal) "
            "SELECT sequence_id, %s, tenant_id, revision, %s, NULL, exit_on_reply, "
            f"send_window, resume_policy, steps, goal FROM {table} "
            "WHERE sequence_id = %s AND revision = %s",
            [e.revision, e.at, e.originator_id, e.base])
        self._touch(tx, e, t, ["draft_revision = %s"], [e.revision])

    def _revision_published(self, tx: Tx, e: Any, t: Mapping[str, str]) -> None:
        """The revision goes live: the sequence row shows its definition from now on."""
        self._update_revision(tx, e, t, e.revision, ["published_at = %s"], [e.at])
        rows = tx.execute(f"SELECT {', '.join(_DEFINITION)} FROM {t['sequence_revisions']} "
                          "WHERE sequence_id = %s AND revision = %s",
                          [e.originator_id, e.revision])
        sets, params = ["revision = %s", "draft_revision = NULL"], [e.revision]
        if rows:
            sets += [f"{column} = %s" for column in _DEFINITION]
            params += [rows[0][column] for column in _DEFINITION]
        self._touch(tx, e, t, sets, params)

    def _revision_discarded(self, tx: Tx, e: Any, t: Mapping[str, str]) -> None:
        tx.execute(f"DELETE FROM {t['sequence_revisions']} "
                   "WHERE sequence_id = %s AND revision = %s", [e.originator_id, e.revision])
        self._touch(tx, e, t, ["draft_revision = NULL"])

    def _status(self, tx: Tx, e: Any, t: Mapping[str, str]) -> None:
        status = {S.Paused: "paused", S.Resumed: "active", S.Archived: "archived",
                  S.Deleted: "deleted"}[type(e)]
        self._touch(tx, e, t, ["status = %s"], [status])
