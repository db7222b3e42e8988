"""An invalid command raises a named error and stores nothing at all: the notification log
does not move (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from domain.application import DriplineApp
from domain.clock import ManualClock
from domain.errors import DomainError, InvalidInputError, SequenceHasNoStepsError
from dripline.bootstrap import Runtime
from tests.integration.factories import ONE_STEP, TENANT, active_sequence, crm_event
from tests.integration.store import max_notification_id

STEP = ONE_STEP["steps"][0]


def _stores_nothing(app: DriplineApp, command: Callable[[], Any], error: type[DomainError],
                    match: str) -> None:
    before = max_notification_id(app)
    with pytest.raises(error, match=match):
        command()
    assert max_notification_id(app) == before


def test_a_sequence_whose_third_step_is_invalid_is_not_stored_at_all(runtime: Runtime) -> None:
    app = runtime.app
    app.create_sequence(TENANT, ONE_STEP)  # the log is not empty, so "nothing" is meaningful
    steps = [STEP, STEP | {"order": 1},
             STEP | {"order": 2, "delay_amount": -1}]
    _stores_nothing(app, lambda: app.create_sequence(TENANT, {**ONE_STEP, "steps": steps}),
                    InvalidInputError, r"steps\[2\]\.delay_amount")
    media = STEP | {"order": 2, "message_template": {"type": "media",
                                                      "media_url": "http://x.example/a.png"}}
    _stores_nothing(app, lambda: app.create_sequence(TENANT, {**ONE_STEP, "steps": [
        STEP, STEP | {"order": 1}, media]}), InvalidInputError, "https")
    _stores_nothing(app, lambda: app.create_sequence(TENANT, {**ONE_STEP, "steps": [
        STEP, STEP | {"order": 1}, STEP | {"order": 1}]}), InvalidInputError, r"steps\[2\]")


def test_invalid_changes_to_a_draft_store_nothing(runtime: Runtime) -> None:
    app = runtime.app
    draft = app.create_sequence(TENANT, {"name": "Empty"})
    _stores_nothing(app, lambda: app.activate_sequence(TENANT, draft.id),
                    SequenceHasNoStepsError, "add at least one step")
    _stores_nothing(app, lambda: app.update_sequence(TENANT, draft.id, {
        "name": "New", "trigger_type": "tag_added"}), InvalidInputError, "trigger_data")
    _stores_nothing(app, lambda: app.add_step(TENANT, draft.id, STEP | {
        "conditions": [{"type": "custom_field", "operator": "equals", "value": "x"}]}),
        InvalidInputError, r"conditions\[0\]\.field")
    assert app.get_sequence(TENANT, draft.id).version == 1


def test_a_bulk_enroll_with_one_bad_id_near_the_end_enrolls_nobody(
        runtime: Runtime, clock: ManualClock) -> None:
    app = runtime.app
    sequence_id = active_sequence(app)
    contacts: list[Any] = [f"c-{n}" for n in range(7_000)]
    contacts[6_999] = 42
    _stores_nothing(app, lambda: app.enroll_many(TENANT, sequence_id, contacts),
                    InvalidInputError, r"contact_ids\[6999\]")
    too_many = [f"c-{n}" for n in range(10_001)]
    _stores_nothing(app, lambda: app.enroll_many(TENANT, sequence_id, too_many),
                    InvalidInputError, "at most 10000")
    _stores_nothing(app, lambda: app.record_crm_event(crm_event(
        "e-1", "tag_added", "c-1", clock(), {"color": "red"})), InvalidInputError, "tag_id")
