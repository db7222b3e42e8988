"""The engine's Prometheus metrics and its JSON logs: what an operator scrapes and reads."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from consumers.scheduler import Scheduler
from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from dripline.logs import JsonFormatter
from dripline.metrics import ProjectionLagCollector, SchedulerCollector

STEP = {"order": 0, "name": "hi", "delay_amount": 1, "delay_unit": "minutes",
        "message_template": {"type": "text", "content": "Hi {{ contact.name }}"}}


def _scrape(registry: CollectorRegistry) -> str:
    return generate_latest(registry).decode()


def test_steps_lateness_and_projection_lag_are_exported(runtime: Runtime,
                                                         clock: ManualClock) -> None:
    app = runtime.app
    sequence = app.create_sequence("acme", {"name": "s", "steps": [STEP]})
    app.activate_sequence("acme", sequence.id)
    app.enroll_many("acme", sequence.id, ["c-1", "c-2", "c-3"])
    scheduler = Scheduler(app)
    registry = CollectorRegistry()
    registry.register(SchedulerCollector(scheduler))
    registry.register(ProjectionLagCollector(runtime.read_models.status))

    clock.advance(timedelta(minutes=1, seconds=2))
    assert scheduler.run_once() == 3
    text = _scrape(registry)
    assert 'dripline_steps_executed_total{result="requested"} 3.0' in text
    assert 'dripline_step_lateness_seconds{quantile="0.99"} 2.0' in text
    # The scheduler's own writes are not projected yet: the lag says so, then clears.
    assert 'dripline_projection_lag_events{model="messages",state="live"} 0.0' not in text
    runtime.catch_up()
    assert 'dripline_projection_lag_events{model="messages",state="live"} 0.0' in _scrape(
        registry)


def test_json_logs_carry_ids_and_nothing_else_passed_along() -> None:
    record = logging.LogRecord("dripline.scheduler", logging.INFO, __file__, 1,
                               "exited %s", ("contact_replied",), None)
    record.contact_id = "c-42"
    record.enrollment_id = "e-1"
    record.email = "someone@example.com"  # not an id field: must not reach the log
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "exited contact_replied"
    assert entry["contact_id"] == "c-42"
    assert entry["enrollment_id"] == "e-1"
    assert "someone@example.com" not in json.dumps(entry)
    assert entry["level"] == "info"


def test_scheduler_logs_exits_with_ids_only(runtime: Runtime, clock: ManualClock,
                                             caplog: pytest.LogCaptureFixture) -> None:
    app = runtime.app
    step = {**STEP, "conditions": [{"type": "tag", "operator": "has", "value": "vip"}]}
    sequence = app.create_sequence("acme", {"name": "s", "steps": [step]})
    app.activate_sequence("acme", sequence.id)
    app.enroll("acme", sequence.id, "c-9")
    clock.advance(timedelta(minutes=1))
    with caplog.at_level(logging.INFO, logger="dripline.scheduler"):
        Scheduler(app).run_once()
    exits = [r for r in caplog.records if getattr(r, "result", None) == "exited"]
    assert len(exits) == 1
    entry = json.loads(JsonFormatter().format(exits[0]))
    assert entry["contact_id"] == "c-9"
    assert entry["tenant_id"] == "acme"
    assert "Hi" not in json.dumps(entry)  # the step's content never reaches the log
