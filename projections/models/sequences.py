"""``sequences``: each sequence's definition and status, per tenant (DESIGN 3.3); how
auto-enrollment finds the active sequences for a trigger."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from domain.sequence import DripSequence
from projections.db import Tx
from projections.models.base import Handler, ReadModel, dumps

S = DripSequence


class SequencesModel(ReadModel):
    name = "sequences"
    table_bases = ("sequences",)
    keys: ClassVar[Mapping[str, str]] = {"sequences": "sequence_id"}
    schema = (
        "CREATE TABLE IF NOT EXISTS {sequences} (sequence_id TEXT PRIMARY KEY, "
        "tenant_id TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL, "
        "status TEXT NOT NULL, trigger_type TEXT NOT NULL, trigger_data TEXT NOT NULL, "
        "exit_on_reply BOOLEAN NOT NULL, reenrollment TEXT NOT NULL, steps TEXT NOT NULL, "
        "cloned_from TEXT, version BIGINT NOT NULL, created_at TIMESTAMPTZ NOT NULL, "
        "updated_at TIMESTAMPTZ NOT NULL, activated_at TIMESTAMPTZ, send_window TEXT NOT NULL, "
        "resume_policy TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS {sequences}_by_trigger "
        "ON {sequences} (tenant_id, status, trigger_type)",
    )

    def build_handlers(self) -> Mapping[type[Any], Handler]:
        return {S.Created: self._created, S.Updated: self._updated,
                S.StepAdded: self._step_put, S.StepUpdated: self._step_put,
                S.StepRemoved: self._step_removed, S.Activated: self._status,
                S.Paused: self._status, S.Resumed: self._status, S.Archived: self._status,
                S.Deleted: self._status}

    def _created(self, tx: Tx, e: Any, t: Mapping[str, str]) -> None:
        tx.execute(
            f"INSERT INTO {t['sequences']} VALUES "
            "(%s, %s, %s, %s, 'draft', %s, %s, %s, %s, '[]', %s, %s, %s, %s, NULL, %s, %s)",
            [e.originator_id, e.tenant_id, e.name, e.description, e.trigger_type,
             dumps(e.trigger_data), e.exit_on_reply, dumps(e.reenrollment),
             e.cloned_from, e.originator_version, e.at, e.at, dumps(e.send_window),
             e.resume_policy])

    def _touch(self, tx: Tx, e: Any, t: Mapping[str, str], sets: str,
               params: list[Any]) -> None:
        tx.execute(f"UPDATE {t['sequences']} SET {sets}, version = %s, updated_at = %s "
                   "WHERE sequence_id = %s", [*params, e.originator_version, e.at,
                                              e.originator_id])

    def _updated(self, tx: Tx, e: Any, t: Mapping[str, str]) -> None:
        columns = {"name", "description", "trigger_type", "exit_on_reply", "resume_policy"}
        sets, params = [], []
        for key, value in sorted(e.changes.items()):
            if key not in {*columns, "trigger_data", "reenrollment", "send_window"}:
                continue  # a setting this model does not show
            sets.append(f"{key} = %s")
            params.append(value if key in columns else dumps(value))
        if sets:
            self._touch(tx, e, t, ", ".join(sets), params)

    def _steps(self, tx: Tx, e: Any, t: Mapping[str, str]) -> list[dict[str, Any]]:
        rows = tx.execute(f"SELECT steps FROM {t['sequences']} WHERE sequence_id = %s",
                          [e.originator_id])
        steps: list[dict[str, Any]] = json.loads(rows[0]["steps"]) if rows else []
        return steps

    def _save_steps(self, tx: Tx, e: Any, t: Mapping[str, str],
                    steps: list[dict[str, Any]]) -> None:
        steps.sort(key=lambda s: s["order"])
        self._touch(tx, e, t, "steps = %s", [dumps(steps)])

    def _step_put(self, tx: Tx, e: Any, t: Mapping[str, str]) -> None:
        steps = [s for s in self._steps(tx, e, t) if s["id"] != e.step["id"]]
        self._save_steps(tx, e, t, [*steps, e.step])

    def _step_removed(self, tx: Tx, e: Any, t: Mapping[str, str]) -> None:
        steps = [s for s in self._steps(tx, e, t) if s["id"] != str(e.step_id)]
        self._save_steps(tx, e, t, steps)

    def _status(self, tx: Tx, e: Any, t: Mapping[str, str]) -> None:
        status = {S.Activated: "active", S.Paused: "paused", S.Resumed: "active",
                  S.Archived: "archived", S.Deleted: "deleted"}[type(e)]
        if isinstance(e, S.Activated):
            self._touch(tx, e, t, "status = %s, activated_at = %s", [status, e.at])
        else:
            self._touch(tx, e, t, "status = %s", [status])
