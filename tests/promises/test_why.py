""""Why is this contact waiting?" (CAPABILITIES §7) through the public API, with the injected
clock: an enrollment held by a send window, one waiting for a retry, one that ended on a
failed condition, each explains itself; another tenant's is 404; a replay of every read
model changes nothing in the answer but the seconds overdue.

A frequency cap's deferral (acceptance check 3) is recorded by the caps capability as
``enrollment.rescheduled`` with reason ``frequency_cap``; its test belongs here once that
capability is merged: ``test_a_capped_enrollment_says_frequency_cap`` below is the place
(build a sequence with a cap rule, enroll twice, ask ``why`` of the deferred one)."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from domain.app_why import Overdue
from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from dripline.cli import app as cli
from projections.heartbeats import Heartbeats
from projections.stuck import StuckDetector
from tests.api.conftest import V1, build_sequence, globex, ok
from tests.promises.support import at, post_event, run_scheduler, step

__all__ = ["globex"]  # another tenant's client (a fixture)


def _enroll(client: TestClient, runtime: Runtime, body: dict[str, Any],
            contact: str = "ana") -> str:
    sequence = build_sequence(client, body)
    enrolled = ok(client.post(f"{V1}/sequences/{sequence['id']}/enroll",
                              json={"contact_id": contact}), 201)
    run_scheduler(runtime)
    return str(enrolled["id"])


def _why(client: TestClient, enrollment_id: str) -> dict[str, Any]:
    return dict(ok(client.get(f"{V1}/enrollments/{enrollment_id}/why")))


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


def test_a_step_held_by_the_send_window_says_send_window_until_it_opens(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    """Office hours 9 to 17 in Berlin. The second step's delay makes it due at 22:10 UTC
    (23:10 in Berlin): it waits for the window to open at 09:00 Berlin, 08:00 UTC."""
    body = {"name": "Berlin office hours",
            "send_window": {"hours": list(range(9, 17)), "timezone": "Europe/Berlin"},
            "steps": [step(0, "Hello"), step(1, "Case study", minutes=13 * 60 + 10)]}
    enrollment_id = _enroll(acme, runtime, body)
    why = _why(acme, enrollment_id)

    assert why["status"] == "active"
    assert why["current_step"]["order"] == 1
    assert why["current_step"]["name"] == "Step 1"
    assert _time(why["next_due_at"]) == at("08:00") + timedelta(days=1)
    assert _time(why["nominal_due_at"]) == at("22:10")
    waiting = why["waiting"]
    assert waiting["reason"] == "send_window"
    assert _time(waiting["until"]) == at("08:00") + timedelta(days=1)
    assert _time(waiting["since"]) == at("09:00")
    assert waiting["detail"]["timezone"] == "Europe/Berlin"
    assert waiting["detail"]["local_due"] == "23:10"
    assert why["overdue_seconds"] == 0
    assert [e["type"] for e in why["timeline"]] == ["sequence.contact_enrolled",
                                                    "enrollment.step_executed"]
    assert why["timeline"][0]["summary"].startswith("enrolled by manual")
    assert "Hello" not in json.dumps(why)  # never the message itself


def test_after_a_transient_failure_it_waits_for_the_retry_with_attempt_and_error(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    """The first message fails at 09:00:30 (transient): attempt 2 is due a minute later.
    The sender's error names the address: the view masks it."""
    body = {"name": "Two steps", "steps": [step(0, "Hi"), step(1, "Later", minutes=24 * 60)]}
    enrollment_id = _enroll(acme, runtime, body)
    failed_at = at("09:00") + timedelta(seconds=30)
    clock.set(failed_at)
    post_event(acme, "evt-failed", "message_failed", "ana",
               {"message_id": f"{enrollment_id}:0:1",
                "error": "mailbox ana@example.com is full", "permanent": False}, failed_at)
    why = _why(acme, enrollment_id)

    waiting = why["waiting"]
    assert waiting["reason"] == "retry_backoff"
    assert waiting["detail"]["attempt"] == 2
    assert waiting["detail"]["last_error"] == "mailbox [email] is full"
    assert _time(waiting["until"]) == failed_at + timedelta(minutes=1)
    assert _time(why["next_due_at"]) == failed_at + timedelta(minutes=1)
    assert "ana@example.com" not in json.dumps(why)

    clock.set(failed_at + timedelta(minutes=1))
    run_scheduler(runtime)  # attempt 2 goes out: it waits for step 1's delay again
    assert _why(acme, enrollment_id)["waiting"]["reason"] == "delay"


def test_an_enrollment_ended_by_a_failed_condition_names_the_condition_and_the_value(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    post_event(acme, "evt-plan", "contact_updated", "ana",
               {"custom_fields": {"plan": "free"}}, clock())
    pro_only = {**step(1, "Upgrade tips"), "conditions": [
        {"type": "custom_field", "field": "plan", "operator": "equals", "value": "pro"}]}
    enrollment_id = _enroll(acme, runtime, {"name": "Pro tips",
                                            "steps": [step(0, "Welcome"), pro_only]})
    why = _why(acme, enrollment_id)

    assert why["status"] == "exited"
    assert why["next_due_at"] is None
    waiting = why["waiting"]
    assert waiting["reason"] == "ended"
    assert waiting["detail"]["reason"] == "condition_not_met"
    assert waiting["detail"]["detail"] == "step 1: custom_field plan equals 'pro' (was 'free')"
    assert why["timeline"][-1]["type"] == "sequence.enrollment_exited"


def test_without_a_scheduler_it_is_due_then_stuck_and_listed_until_one_runs(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    # A first step with no delay would be executed by the enrollment itself: one minute.
    sequence = build_sequence(acme, {"name": "Soon", "steps": [step(0, "Hi", minutes=1),
                                                                  step(1, "Later", minutes=60)]})
    enrollment_id = ok(acme.post(f"{V1}/sequences/{sequence['id']}/enroll",
                                 json={"contact_id": "ana"}), 201)["id"]
    runtime.catch_up()
    clock.set(at("09:03"))
    why = _why(acme, enrollment_id)
    assert why["waiting"]["reason"] == "due"
    assert why["waiting"]["detail"]["behind_seconds"] == 120
    assert ok(acme.get(f"{V1}/ops/stuck"))["total"] == 0

    clock.set(at("09:07"))
    why = _why(acme, enrollment_id)
    assert why["waiting"]["reason"] == "stuck"
    assert why["waiting"]["detail"]["suspected_cause"] == "no_scheduler"
    stuck = ok(acme.get(f"{V1}/ops/stuck"))
    assert [(i["enrollment_id"], i["suspected_cause"], i["overdue_seconds"], i["step_order"])
            for i in stuck["items"]] == [(enrollment_id, "no_scheduler", 360, 0)]
    assert ok(acme.get(f"{V1}/ops/stuck", params={"older_than": 400}))["total"] == 0
    assert _gauges(acme) == {'dripline_enrollments_overdue{older_than="300"}': 1.0,
                             "dripline_enrollment_oldest_overdue_seconds": 360.0}

    run_scheduler(runtime)
    assert ok(acme.get(f"{V1}/ops/stuck"))["total"] == 0  # the read model still lags: no alarm
    runtime.catch_up()
    listed = ok(acme.get(f"{V1}/ops/stuck"))
    assert listed["total"] == 0
    assert listed["projection_lag"]["contradicted"] == 0
    assert _why(acme, enrollment_id)["waiting"]["reason"] == "delay"
    clock.set(at("09:07") + timedelta(seconds=30))  # the gauges are measured every 30 s
    assert _gauges(acme) == {'dripline_enrollments_overdue{older_than="300"}': 0.0,
                             "dripline_enrollment_oldest_overdue_seconds": 0.0}


def test_half_a_second_past_the_threshold_the_why_view_and_the_list_agree_it_is_stuck(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    sequence = build_sequence(acme, {"name": "Soon", "steps": [step(0, "Hi", minutes=1)]})
    enrollment_id = ok(acme.post(f"{V1}/sequences/{sequence['id']}/enroll",
                                 json={"contact_id": "ana"}), 201)["id"]
    runtime.catch_up()
    clock.set(at("09:06") + timedelta(milliseconds=500))  # 300.5 s past its due time
    waiting = _why(acme, enrollment_id)["waiting"]
    assert (waiting["reason"], waiting["detail"]["behind_seconds"]) == ("stuck", 300)
    listed = ok(acme.get(f"{V1}/ops/stuck"))
    assert [i["enrollment_id"] for i in listed["items"]] == [enrollment_id]


def test_a_pause_committed_while_the_view_reads_cannot_make_it_disagree_with_itself(
        acme: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """The enrollment is paused just as the view reads its events: its status and its
    timeline come from the same read, so both show the pause or neither does."""
    enrollment_id = _enroll(acme, runtime, {"name": "Two", "steps": [
        step(0, "Hi"), step(1, "Later", minutes=60)]})
    read = runtime.app.why.events

    def paused_meanwhile(aggregate_id: UUID) -> list[Any]:
        runtime.app.pause_enrollment("acme", aggregate_id)
        return read(aggregate_id)

    monkeypatch.setattr(runtime.app.why, "events", paused_meanwhile)
    why = _why(acme, enrollment_id)
    assert (why["status"], why["timeline"][-1]["type"]) == ("paused", "sequence.enrollment_paused")
    assert why["waiting"]["reason"] == "paused"


def test_the_timeline_shows_the_newest_events_and_says_how_many_it_left_out(
        acme: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    enrollment_id = _enroll(acme, runtime, {"name": "Two", "steps": [
        step(0, "Hi"), step(1, "Later", minutes=60)]})
    ok(acme.post(f"{V1}/enrollments/{enrollment_id}/pause"))
    ok(acme.post(f"{V1}/enrollments/{enrollment_id}/resume"))
    full = _why(acme, enrollment_id)
    assert (len(full["timeline"]), full["timeline_omitted"]) == (4, 0)
    monkeypatch.setattr("domain.why.TIMELINE_LIMIT", 2)
    capped = _why(acme, enrollment_id)
    assert capped["timeline"] == full["timeline"][-2:]
    assert capped["timeline_omitted"] == 2


def test_projection_lag_is_blamed_only_for_an_enrollment_whose_latest_event_is_unprojected(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    """A scheduler beats but executes nothing. Ana's enrollment is stuck while the read
    model has all of its events (the log grows with another contact's): ``unknown``. Paused
    and resumed (her latest events, not yet projected) it is stuck again: ``projection_lag``."""
    sequence = build_sequence(acme, {"name": "Soon", "steps": [step(0, "Hi", minutes=1)]})
    enroll = f"{V1}/sequences/{sequence['id']}/enroll"
    ana = UUID(ok(acme.post(enroll, json={"contact_id": "ana"}), 201)["id"])
    runtime.catch_up()
    ok(acme.post(enroll, json={"contact_id": "bob"}), 201)  # the log's head moves on
    clock.set(at("09:07"))
    beats = Heartbeats(runtime.read_models.db)
    beats.beat(clock())
    listed = ok(acme.get(f"{V1}/ops/stuck", params={"older_than": 300}))
    assert listed["projection_lag"]["behind_events"] > 0
    assert [(i["enrollment_id"], i["suspected_cause"]) for i in listed["items"]] == [
        (str(ana), "unknown")]
    assert _why(acme, str(ana))["waiting"]["detail"]["suspected_cause"] == "unknown"

    runtime.app.pause_enrollment("acme", ana)
    runtime.app.resume_enrollment("acme", ana)  # due at once: 09:07
    clock.set(at("09:13"))
    beats.beat(clock())
    listed = ok(acme.get(f"{V1}/ops/stuck", params={"older_than": 300}))
    assert [(i["enrollment_id"], i["suspected_cause"]) for i in listed["items"]] == [
        (str(ana), "projection_lag")]
    assert _why(acme, str(ana))["waiting"]["detail"]["suspected_cause"] == "projection_lag"


def test_the_gauges_confirm_the_oldest_hundred_only_and_are_measured_every_30_seconds(
        acme: TestClient, runtime: Runtime, clock: ManualClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """120 stuck enrollments: a scrape counts them in the read model and confirms the oldest
    100 on their aggregates; a scrape within 30 s measures nothing again; the stuck list's
    first page of one confirms one, and its total counts the candidates past it."""
    sequence = build_sequence(acme, {"name": "Soon", "steps": [step(0, "Hi", minutes=1)]})
    enrolled = runtime.app.enroll_many("acme", UUID(sequence["id"]),
                                       [f"c-{n:03d}" for n in range(120)])
    assert len(enrolled.enrolled) == 120
    runtime.catch_up()
    confirmed: list[int] = []
    confirm = runtime.app.why.confirm_overdue

    def counted(tenant_id: str | None, candidates: Collection[UUID],
                older_than: timedelta) -> list[Overdue]:
        confirmed.append(len(candidates))
        return confirm(tenant_id, candidates, older_than)

    monkeypatch.setattr(runtime.app.why, "confirm_overdue", counted)
    clock.set(at("09:07"))
    stuck = {'dripline_enrollments_overdue{older_than="300"}': 120.0,
             "dripline_enrollment_oldest_overdue_seconds": 360.0}
    assert _gauges(acme) == stuck
    assert confirmed == [100]
    clock.set(at("09:07") + timedelta(seconds=29))
    assert _gauges(acme) == stuck
    assert confirmed == [100]  # the last measure, not a new one
    clock.set(at("09:07") + timedelta(seconds=30))
    assert _gauges(acme)["dripline_enrollment_oldest_overdue_seconds"] == 390.0
    assert confirmed == [100, 100]

    confirmed.clear()
    first = ok(acme.get(f"{V1}/ops/stuck", params={"limit": 1}))
    assert (len(first["items"]), first["total"], confirmed) == (1, 120, [1])
    confirmed.clear()
    second = ok(acme.get(f"{V1}/ops/stuck", params={"limit": 50, "page": 2}))
    assert (len(second["items"]), second["total"], sum(confirmed)) == (50, 120, 100)
    last = ok(acme.get(f"{V1}/ops/stuck", params={"limit": 50, "page": 3}))
    assert (len(last["items"]), last["total"]) == (20, 120)


def test_a_failing_stuck_detector_leaves_its_gauges_out_and_the_scrape_succeeds(
        acme: TestClient, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    def broken(self: StuckDetector, older_than: timedelta) -> None:
        raise RuntimeError("the read model's database is gone")

    monkeypatch.setattr(StuckDetector, "gauges", broken)
    ok(acme.get(f"{V1}/sequences"))  # a request the HTTP metrics count
    scraped = acme.get("/metrics")
    assert scraped.status_code == 200
    assert "dripline_http_requests_total" in scraped.text
    assert _gauges(acme) == {}
    assert "stuck detector" in caplog.text


def _gauges(client: TestClient) -> dict[str, float]:
    """The stuck detector's samples on /metrics (no scheduler ever ran here: no heartbeat)."""
    lines = client.get("/metrics").text.splitlines()
    return {name: float(value) for name, value in (line.rsplit(" ", 1) for line in lines)
            if name.startswith(("dripline_enrollments_overdue", "dripline_enrollment_oldest",
                                "dripline_scheduler_heartbeat"))}


def test_another_tenants_enrollment_is_404(acme: TestClient, globex: TestClient,
                                            runtime: Runtime) -> None:
    enrollment_id = _enroll(acme, runtime, {"name": "One", "steps": [step(0, "Hi")]})
    answer = globex.get(f"{V1}/enrollments/{enrollment_id}/why")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_the_stuck_list_shows_a_tenant_its_own_stuck_enrollments_only(
        acme: TestClient, globex: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    """No scheduler runs: acme's enrollment is stuck six minutes after its step fell due;
    globex, asking for everything overdue by a second, sees nothing of it."""
    sequence = build_sequence(acme, {"name": "Soon", "steps": [step(0, "Hi", minutes=1)]})
    enrollment_id = ok(acme.post(f"{V1}/sequences/{sequence['id']}/enroll",
                                 json={"contact_id": "ana"}), 201)["id"]
    runtime.catch_up()
    clock.set(at("09:07"))
    theirs = ok(globex.get(f"{V1}/ops/stuck", params={"older_than": 1}))
    assert (theirs["items"], theirs["total"]) == ([], 0)
    ours = ok(acme.get(f"{V1}/ops/stuck", params={"older_than": 1}))
    assert [i["enrollment_id"] for i in ours["items"]] == [enrollment_id]


def test_after_replaying_every_read_model_the_answer_is_the_same(
        acme: TestClient, runtime: Runtime, clock: ManualClock, database_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    body = {"name": "Berlin", "send_window": {"hours": list(range(9, 17)),
                                              "timezone": "Europe/Berlin"},
            "steps": [step(0, "Hello"), step(1, "Case study", minutes=13 * 60 + 10)]}
    enrollment_id = _enroll(acme, runtime, body)
    clock.set(at("09:00") + timedelta(seconds=30))
    post_event(acme, "evt-failed", "message_failed", "ana",
               {"message_id": f"{enrollment_id}:0:1", "error": "timeout"}, clock())
    runtime.catch_up()
    before = _why_bytes(acme, enrollment_id)

    monkeypatch.setenv("DRIPLINE_DATABASE_URL", database_url)
    replayed = CliRunner().invoke(cli, ["replay", "--all"], terminal_width=200)
    assert replayed.exit_code == 0, replayed.output

    assert json.loads(before)["waiting"]["reason"] == "retry_backoff"
    assert len(json.loads(before)["timeline"]) == 3
    assert _why_bytes(acme, enrollment_id) == before


def _why_bytes(client: TestClient, enrollment_id: str) -> bytes:
    """The why answer's bytes as sent, ``overdue_seconds`` (which moves with the clock) set
    to 0."""
    answer = client.get(f"{V1}/enrollments/{enrollment_id}/why")
    assert answer.status_code == 200, answer.text
    return re.sub(rb'"overdue_seconds":\d+,', b'"overdue_seconds":0,', answer.content)


def test_the_send_window_is_explained_in_the_zone_it_was_read_in_when_scheduled(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    """Scheduled in Berlin (the window's zone: the contact has none); then the CRM says the
    contact lives in New York. The due time was not moved again, and neither is the answer."""
    body = {"name": "Berlin office hours",
            "send_window": {"hours": list(range(9, 17)), "timezone": "Europe/Berlin"},
            "steps": [step(0, "Hello"), step(1, "Case study", minutes=13 * 60 + 10)]}
    enrollment_id = _enroll(acme, runtime, body)
    before = _why_bytes(acme, enrollment_id)
    assert json.loads(before)["waiting"]["detail"]["timezone"] == "Europe/Berlin"

    post_event(acme, "evt-moved", "contact_updated", "ana",
               {"timezone": "America/New_York"}, clock())
    runtime.catch_up()
    assert _why_bytes(acme, enrollment_id) == before


def test_the_cli_explains_an_enrollment_as_the_api_does(
        acme: TestClient, runtime: Runtime, database_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI reads the system clock: the second step is due in two years of the test's.
    later = {**step(1, "Later"), "delay_amount": 2 * 365, "delay_unit": "days"}
    enrollment_id = _enroll(acme, runtime, {"name": "Two", "steps": [step(0, "Hi"), later]})
    monkeypatch.setenv("DRIPLINE_DATABASE_URL", database_url)
    runtime.catch_up()
    by_id = CliRunner().invoke(cli, ["enrollments", "why", enrollment_id, "--json"])
    assert by_id.exit_code == 0, by_id.output
    explained = json.loads(by_id.output)
    assert explained["waiting"]["reason"] == "delay"
    assert explained["enrollment_id"] == enrollment_id
    by_contact = CliRunner().invoke(cli, ["why", "acme", "ana", "--json"])
    assert by_contact.exit_code == 0, by_contact.output
    assert json.loads(by_contact.output.splitlines()[0])["enrollment_id"] == enrollment_id
    not_an_id = CliRunner().invoke(cli, ["why", "ana"])
    assert not_an_id.exit_code == 2


def test_a_paused_enrollment_says_paused_and_one_of_a_paused_sequence_sequence_paused(
        acme: TestClient, runtime: Runtime) -> None:
    body = {"name": "Two", "steps": [step(0, "Hi"), step(1, "Later", minutes=60)]}
    by_hand = _enroll(acme, runtime, body)
    ok(acme.post(f"{V1}/enrollments/{by_hand}/pause"))
    waiting = _why(acme, by_hand)["waiting"]
    assert (waiting["reason"], waiting["until"]) == ("paused", None)
    ok(acme.post(f"{V1}/enrollments/{by_hand}/resume"))
    assert _why(acme, by_hand)["waiting"]["reason"] == "delay"

    with_sequence = _enroll(acme, runtime, {**body, "name": "Paused later"})
    sequence_id = _why(acme, with_sequence)["sequence_id"]
    ok(acme.post(f"{V1}/sequences/{sequence_id}/pause"))
    assert _why(acme, with_sequence)["waiting"]["reason"] == "sequence_paused"


def test_while_a_revision_migration_runs_the_enrollment_says_migration(
        acme: TestClient, runtime: Runtime) -> None:
    """Published with a migration: it runs in the scheduler between scans, not yet here."""
    enrollment_id = _enroll(acme, runtime, {"name": "Revised", "steps": [
        step(0, "Hi"), step(1, "Later", minutes=60)]})
    sequence_id = _why(acme, enrollment_id)["sequence_id"]
    ok(acme.post(f"{V1}/sequences/{sequence_id}/revisions"), 201)
    ok(acme.post(f"{V1}/sequences/{sequence_id}/revisions/2/publish",
                 json={"migrate": {"step_map": {}}}))
    waiting = _why(acme, enrollment_id)["waiting"]
    assert waiting["reason"] == "migration"
    assert waiting["detail"] == {"from_revision": 1, "to_revision": 2}

    runtime.app.revisions.run_migrations()  # what the scheduler does between scans
    why = _why(acme, enrollment_id)
    assert why["revision"] == 2
    assert why["waiting"]["reason"] == "delay"
    assert why["timeline"][-1]["type"] == "enrollment.migrated"
