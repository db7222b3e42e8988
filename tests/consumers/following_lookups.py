"""``domain.lookups.Lookups`` answered from memory, kept current by reading the notification
log forward before each answer.

Test support for the in-memory broker tests, which run the intake without read models (the
intake process itself uses the read models' lookups). The answers
are candidates: the application re-checks every one against the aggregates (status, trigger,
tenant), so listing a sequence that has since been paused is harmless, and reading the log
up to its head before answering means nothing committed before the question is missed.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from domain.enrollment import Enrollment
from domain.sequence import DripSequence

_TOPICS = (DripSequence.Created.TOPIC, DripSequence.Updated.TOPIC, Enrollment.Created.TOPIC,
           Enrollment.Completed.TOPIC, Enrollment.Exited.TOPIC)


class FollowingLookups:
    def __init__(self, app: Any, page: int = 5000) -> None:
        self.app = app
        self.page = page
        self.position = 0
        self._lock = threading.Lock()
        self._sequences: dict[UUID, tuple[str, str]] = {}  # id -> (tenant, trigger type)
        self._enrollments: dict[UUID, tuple[str, str, UUID]] = {}  # open: id -> (t, c, seq)
        self._by_contact: dict[tuple[str, str], set[UUID]] = defaultdict(set)
        self._held = threading.local()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Read the log forward once, then answer from memory until the block ends (one
        query per batch of CRM events instead of one per event)."""
        self.refresh(force=True)
        self._held.on = True
        try:
            yield
        finally:
            self._held.on = False

    def refresh(self, force: bool = False) -> None:
        if not force and getattr(self._held, "on", False):
            return
        with self._lock:
            while True:
                notes = self.app.recorder.select_notifications(
                    start=self.position + 1, limit=self.page, topics=_TOPICS)
                for note in notes:
                    self._apply(self.app.mapper.to_domain_event(note))
                    self.position = note.id
                if len(notes) < self.page:
                    return

    def _apply(self, e: Any) -> None:
        if isinstance(e, DripSequence.Created):
            self._sequences[e.originator_id] = (e.tenant_id, e.trigger_type)
        elif isinstance(e, DripSequence.Updated) and "trigger_type" in e.changes:
            known = self._sequences.get(e.originator_id)
            if known:
                self._sequences[e.originator_id] = (known[0], e.changes["trigger_type"])
        elif isinstance(e, Enrollment.Created):
            self._enrollments[e.originator_id] = (e.tenant_id, e.contact_id, e.sequence_id)
            self._by_contact[(e.tenant_id, e.contact_id)].add(e.originator_id)
        elif isinstance(e, Enrollment.Completed | Enrollment.Exited):
            ended = self._enrollments.pop(e.originator_id, None)
            if ended:
                self._by_contact[(ended[0], ended[1])].discard(e.originator_id)

    def active_sequences_for_trigger(self, tenant_id: str, trigger_type: str) -> list[UUID]:
        self.refresh()
        return [sid for sid, (tenant, trigger) in self._sequences.items()
                if tenant == tenant_id and trigger == trigger_type]

    def open_enrollments_of_contact(self, tenant_id: str, contact_id: str) -> list[UUID]:
        self.refresh()
        return sorted(self._by_contact.get((tenant_id, contact_id), ()))

    def open_enrollments_of_sequence(self, sequence_id: UUID) -> list[UUID]:
        self.refresh()
        return [eid for eid, (_, _, seq) in self._enrollments.items() if seq == sequence_id]

    def contacts_matching_trigger(self, tenant_id: str, trigger_type: str,
                                  trigger_data: Mapping[str, str]) -> list[str]:
        """Not needed by the intake (activation runs in the API process, on read models)."""
        return []
