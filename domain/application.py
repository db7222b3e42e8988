"""The Dripline application: every command and query of the core, in one object.

Built by the composition root (``dripline.bootstrap``) with the persistence settings, a clock
and the read-model lookups; nothing here touches HTTP, Kafka or SQL directly.
"""

from __future__ import annotations

from domain.app_execution import ExecutionCommands
from domain.app_sequences import SequenceCommands


class DriplineApp(ExecutionCommands, SequenceCommands):
    """Sequences, enrollments and contacts: create, change, enroll, exit, record CRM events,
    execute due steps."""

    # Set on the concrete class: the library gives every subclass its own class name unless
    # the subclass sets one, and the name picks the tables (dripline_events, ...).
    name = "dripline"
