"""Read-model rows shaped like the API's resources (DESIGN 3.3): ids as strings, times as
aware datetimes, JSON columns decoded, booleans as booleans on both databases."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from projections.db import as_datetime
from projections.queries import DueEnrollment

Row = dict[str, Any]


def _times(row: Row, *columns: str) -> None:
    for column in columns:
        row[column] = as_datetime(row[column])


def sequence(r: Row) -> Row:
    out = {"id": r["sequence_id"], **{k: r[k] for k in (
        "tenant_id", "name", "description", "status", "trigger_type", "cloned_from",
        "version", "created_at", "updated_at", "activated_at", "resume_policy")}}
    out["exit_on_reply"] = bool(r["exit_on_reply"])
    for column in ("trigger_data", "reenrollment", "steps", "send_window"):
        out[column] = json.loads(r[column])
    _times(out, "created_at", "updated_at", "activated_at")
    return out


def enrollment(r: Row) -> Row:
    out = {"id": r["enrollment_id"], **{k: r[k] for k in (
        "tenant_id", "sequence_id", "contact_id", "number", "source", "status",
        "current_step_order", "next_scheduled_at", "enrolled_at", "completed_at", "exited_at",
        "exit_reason", "exit_detail", "version", "updated_at", "entered_at")}}
    out["paused_by_sequence"] = bool(r["paused_by_sequence"])
    _times(out, "next_scheduled_at", "enrolled_at", "completed_at", "exited_at", "updated_at",
           "entered_at")
    return out


def message(r: Row) -> Row:
    out = dict(r)
    out["variables"] = json.loads(r["variables"])
    _times(out, "requested_at", "updated_at")
    return out


def stats(head: Row, exits: list[Row], steps: list[Row], skips: list[Row]) -> Row:
    total, completed = int(head["total_enrolled"]), int(head["completed_count"])
    skipped: dict[int, dict[str, int]] = {}
    for s in skips:
        skipped.setdefault(s["step_order"], {})[s["reason"]] = int(s["n"])
    return {
        "sequence_id": head["sequence_id"],
        "total_enrolled": total,
        "active_count": int(head["active_count"]),
        "paused_count": int(head["paused_count"]),
        "completed_count": completed,
        "exited_count": int(head["exited_count"]),
        "completion_rate": completed / total if total else 0.0,
        "exits_by_reason": {e["reason"]: int(e["n"]) for e in sorted(
            exits, key=lambda e: str(e["reason"]))},
        "avg_completion_seconds": (float(head["completion_seconds"]) / completed
                                   if completed else None),
        "steps": [{"step_order": s["step_order"], "reached": int(s["reached"]),
                   "message_requested": int(s["requested"]),
                   "skipped": skipped.get(s["step_order"], {}), "failed": int(s["failed"]),
                   "delivered": int(s["delivered"])} for s in steps],
    }


def due(r: Row) -> DueEnrollment:
    due_at = as_datetime(r["due_at"])
    if due_at is None:  # the query selects only rows with a due time
        raise ValueError(f"due row {r['enrollment_id']} has no due time")
    return DueEnrollment(enrollment_id=UUID(r["enrollment_id"]), tenant_id=r["tenant_id"],
                         sequence_id=UUID(r["sequence_id"]), contact_id=r["contact_id"],
                         step_order=int(r["step_order"]), due_at=due_at,
                         extra={"retry_step": r["retry_step"]})
