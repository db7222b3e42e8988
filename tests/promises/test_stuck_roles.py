"""The stuck detector against real processes on PostgreSQL (CAPABILITIES §7, check 4):
``dripline api`` and ``dripline project`` run, no scheduler. Two contacts are enrolled in a
sequence whose first step is due a minute later (a step with no delay would be executed by
the enrollment itself). Once they are overdue past the threshold (2 s here), ``/ops/stuck``
lists exactly them as ``no_scheduler``, the metric says 2 and ``dripline enrollments stuck``
exits 3. Then the projector is frozen and ``dripline schedule`` starts: the scheduler
executes both, so the read model's rows are stale: the detector reports them as projection
lag, not as stuck, the metric is 0 and the CLI exits 0. Thawed, the projector catches up."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import build_sequence
from tests.e2e.server import dripline_command, poll
from tests.promises.role_processes import Deployment, deployment, metric_total, ok

pytestmark = pytest.mark.postgres
V1 = "/api/v1/automation"
STUCK_AFTER = "2"
WAIT = 180.0  # seconds any one wait may take at most (the steps fall due after a minute)


def _stuck(http: httpx.Client) -> dict[str, Any]:
    return dict(ok(http.get(f"{V1}/ops/stuck")))


def _metrics(http: httpx.Client) -> str:
    return http.get("/metrics").text


def _step(http: httpx.Client, enrollment_id: str) -> int:
    """The step the enrollment's aggregate waits at (the why view reads no read model)."""
    return int(ok(http.get(f"{V1}/enrollments/{enrollment_id}/why"))["current_step"]["order"])


def _cli(roles: Deployment, *args: str) -> tuple[int, Any]:
    done = subprocess.run([*dripline_command(), *args, "--json"], capture_output=True,
                          env={**roles.env, "DRIPLINE_STUCK_AFTER_SECONDS": STUCK_AFTER},
                          timeout=120, check=False)
    return done.returncode, json.loads(done.stdout.decode())


def test_without_a_scheduler_they_are_stuck_and_a_frozen_projector_is_lag_not_stuck(
        postgres_url: str, tmp_path: Path) -> None:
    with deployment(postgres_url, tmp_path) as roles:
        roles.env["DRIPLINE_STUCK_AFTER_SECONDS"] = STUCK_AFTER
        http = roles.start_api()
        roles.start("project")
        sequence = build_sequence(http, {"name": "In a minute", "steps": [  # type: ignore[arg-type]
            {"order": 0, "name": "First", "delay_amount": 1, "delay_unit": "minutes",
             "message_template": {"type": "text", "content": "Hi"}},
            {"order": 1, "name": "Second", "delay_amount": 1, "delay_unit": "days",
             "message_template": {"type": "text", "content": "Again"}}]})
        enrolled = {ok(http.post(f"{V1}/sequences/{sequence['id']}/enroll",
                                 json={"contact_id": contact}), 201)["id"]
                    for contact in ("ana", "bob")}

        listed = poll(lambda: _stuck(http) if _stuck(http)["total"] == 2 else None,
                      "both enrollments to be listed as stuck", timeout=WAIT, interval=0.5)
        assert {(i["enrollment_id"], i["suspected_cause"]) for i in listed["items"]} == {
            (e, "no_scheduler") for e in enrolled}
        assert listed["scheduler_heartbeat_age_seconds"] is None
        assert metric_total(http.get("/metrics").text, "dripline_enrollments_overdue") == 2
        code, report = _cli(roles, "enrollments", "stuck")
        assert code == 3
        assert {i["enrollment_id"] for i in report["items"]} == enrolled
        assert _cli(roles, "stuck")[0] == 3
        why = ok(http.get(f"{V1}/enrollments/{sorted(enrolled)[0]}/why"))
        assert why["waiting"]["reason"] == "stuck"
        assert why["waiting"]["detail"]["suspected_cause"] == "no_scheduler"

        roles.roles["project"].freeze()
        roles.start("schedule")
        poll(lambda: all(_step(http, e) == 1 for e in enrolled) or None,
             "the scheduler to execute both", timeout=WAIT, interval=0.5)
        lagging = _stuck(http)
        assert lagging["items"] == []
        assert lagging["projection_lag"]["contradicted"] == 2
        assert set(lagging["projection_lag"]["contradicted_ids"]) == enrolled
        assert lagging["projection_lag"]["behind_events"] > 0
        assert lagging["scheduler_heartbeat_age_seconds"] is not None
        # The gauges are measured at most every 30 s: the next measure says 0.
        text = poll(lambda: _metrics(http) if metric_total(
            _metrics(http), "dripline_enrollments_overdue") == 0 else None,
            "the overdue gauge to be 0", timeout=WAIT, interval=1.0)
        assert metric_total(text, "dripline_enrollments_overdue") == 0
        assert metric_total(text, "dripline_scheduler_heartbeat_age_seconds") < 60
        code, report = _cli(roles, "enrollments", "stuck")
        assert code == 0
        assert report["items"] == []

        roles.roles["project"].thaw()
        caught_up = poll(lambda: _stuck(http) if _stuck(http)["projection_lag"][
            "contradicted"] == 0 else None, "the projector to catch up", timeout=WAIT,
                         interval=0.5)
        assert caught_up["total"] == 0
