"""Replacing a draft's steps on SQLite and PostgreSQL: the events of one replacement are
stored together or not at all, a concurrent writer decides again on what is stored, and
read models rebuilt from the log equal the ones that followed it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from domain.clock import ManualClock
from domain.errors import ConcurrencyConflictError, InvalidInputError
from dripline.bootstrap import Runtime
from projections import replay
from projections.checksum import checksum
from tests.integration.factories import TENANT, another_app
from tests.integration.store import max_notification_id, notifications

STEPS = [{"order": n, "name": f"s{n}", "delay_amount": n, "delay_unit": "hours",
          "message_template": {"type": "text", "content": f"step {n}"}} for n in range(3)]


def _listed(sequence: Any) -> list[dict[str, Any]]:
    return [{k: v for k, v in step.to_dict().items() if k != "source_template"}
            for step in sequence.steps]


def test_a_replacement_is_stored_whole_or_not_at_all_and_a_racer_decides_again(
        runtime: Runtime, database_url: str, clock: ManualClock) -> None:
    app = runtime.app
    sequence = app.create_sequence(TENANT, {"name": "Race", "steps": STEPS})
    s0, s1, s2 = _listed(sequence)
    with another_app(database_url, clock) as second:
        stale = second.get_sequence(TENANT, sequence.id)
        # Three steps rotate (three updates) and one is added: four events in one write.
        app.replace_steps(TENANT, sequence.id, [
            {**s2, "order": 0}, {**s0, "order": 1}, {**s1, "order": 2},
            {**STEPS[0], "order": 3, "name": "new"}])
        before = max_notification_id(app)
        stored = app.get_sequence(TENANT, sequence.id)
        assert [(s.name, s.order) for s in stored.steps] == [
            ("s2", 0), ("s0", 1), ("s1", 2), ("new", 3)]
        # A copy loaded before it: its replacement (several events) is refused whole.
        stale.replace_steps([replace(stale.steps[1], order=0)], clock())
        with pytest.raises(IntegrityError):
            second.save(stale)
        assert max_notification_id(second) == before
        # Through the command, the racer decides again on what is stored: without If-Match
        # its list is checked against the new steps; with the version it read, 412.
        with pytest.raises(ConcurrencyConflictError):
            second.replace_steps(TENANT, sequence.id, [s0], expected_version=sequence.version)
        again = second.replace_steps(TENANT, sequence.id, [{**s0, "order": 7}])
        assert [(str(s.id), s.order) for s in again.steps] == [(s0["id"], 7)]
        with pytest.raises(InvalidInputError) as refused:
            app.replace_steps(TENANT, sequence.id, [s1])  # removed by the racer
        assert refused.value.field == "steps[0].id"
    # The racer's write: three removals, one change, stored after the first write.
    assert [n.topic for n in notifications(app)[-4:]] == [
        "sequence.step_removed"] * 3 + ["sequence.step_updated"]


def test_read_models_rebuilt_from_the_log_equal_the_followed_ones(runtime: Runtime) -> None:
    app = runtime.app
    sequence = app.create_sequence(TENANT, {"name": "Rebuilt", "steps": STEPS})
    _, s1, s2 = _listed(sequence)
    runtime.catch_up()
    # A rotation, a removal and an addition at a freed order, then it goes live.
    saved = app.replace_steps(TENANT, sequence.id, [
        {**s1, "order": 0}, {**s2, "order": 1}, {**STEPS[0], "order": 2, "name": "new"}])
    runtime.catch_up()
    app.replace_steps(TENANT, sequence.id, [
        {**_listed(saved)[2], "order": 0}, {**s1, "order": 1}, {**s2, "order": 2}])
    app.activate_sequence(TENANT, sequence.id)
    runtime.catch_up()
    read_models = runtime.read_models
    followed = {m.name: checksum(read_models.db, m) for m in read_models.models}
    replay.rebuild_many(read_models, read_models.names())
    assert {m.name: checksum(read_models.db, m) for m in read_models.models} == followed
