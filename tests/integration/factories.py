"""Sequence bodies and small builders shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.application import DriplineApp
from domain.clock import Clock
from domain.crm import CrmEvent
from dripline.bootstrap import bootstrap
from dripline.settings import Settings

TENANT = "acme"

ONE_STEP: dict[str, Any] = {
    "name": "Welcome",
    "steps": [{"order": 0, "name": "hello", "delay_amount": 1, "delay_unit": "hours",
               "message_template": {"type": "text", "content": "Hi {{contact.name}}"}}],
}


def active_sequence(app: DriplineApp, reenrollment: str = "never") -> UUID:
    body = {**ONE_STEP, "reenrollment": {"policy": reenrollment, "cooldown_seconds": 0}}
    sequence = app.create_sequence(TENANT, body)
    app.activate_sequence(TENANT, sequence.id)
    return sequence.id


def crm_event(event_id: str, kind: str, contact: str, at: datetime,
              data: dict[str, Any] | None = None) -> CrmEvent:
    return CrmEvent(event_id=event_id, type=kind, tenant_id=TENANT, contact_id=contact,
                    occurred_at=at, data=data or {})


@contextmanager
def another_app(url: str, clock: Clock) -> Iterator[DriplineApp]:
    """A second, independent application on the same database (as another process has)."""
    runtime = bootstrap(Settings(database_url=url), clock=clock)
    try:
        yield runtime.app
    finally:
        runtime.close()
