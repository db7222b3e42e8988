"""Kafka positions as tracking: a partition of ``crm.events`` is the "upstream" of the
events its records cause, tracked as ``kafka:{topic}:{partition}`` with position = the next
offset to read (offset + 1), recorded in the same transaction as those events
(``domain.unit_of_work``). A position already recorded raises IntegrityError and writes
nothing (DESIGN 1, "Kafka input is exactly-once in effect")."""

from __future__ import annotations

from domain.application import DriplineApp


def tracking_name(topic: str, partition: int) -> str:
    return f"kafka:{topic}:{partition}"


def position(app: DriplineApp, name: str) -> int:
    """The next offset to apply for a tracked source (0 when nothing was recorded)."""
    return app.recorder.max_tracking_id(name) or 0  # type: ignore[attr-defined]
