"""The seed's four usage patterns, told through HTTP only: create, add steps, activate,
enroll (by hand, in bulk, or by a CRM event), then read stats and enrollments."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.examples import LEAD_NURTURE, RE_ENGAGEMENT, WEBINAR_FOLLOW_UP, WELCOME_ONBOARDING
from dripline.bootstrap import Runtime
from tests.api.conftest import V1, build_sequence, envelope, ok


def test_welcome_onboarding_enrolls_new_list_members(acme: TestClient,
                                                     runtime: Runtime) -> None:
    sequence = build_sequence(acme, WELCOME_ONBOARDING)
    joined = ok(acme.post("/api/v1/events", json=envelope(
        "evt-1", "list_joined", "ana", {"list_id": "l-new-users", "list_name": "new-users"})),
        202)
    assert joined["applied"] == 1
    [enrollment_id] = joined["results"][0]["enrolled"]
    enrollment = ok(acme.get(f"{V1}/enrollments/{enrollment_id}"))
    assert (enrollment["contact_id"], enrollment["status"]) == ("ana", "active")
    # Step 0 has no delay: it was requested with the enrollment; step 1 is a day later.
    assert enrollment["next_scheduled_at"] == "2026-11-30T09:00:00Z"
    assert enrollment["current_step_order"] == 1

    runtime.catch_up()
    listed = ok(acme.get(f"{V1}/sequences/{sequence['id']}/enrollments"))
    assert [e["contact_id"] for e in listed["items"]] == ["ana"]
    stats = ok(acme.get(f"{V1}/sequences/{sequence['id']}/stats"))
    assert (stats["total_enrolled"], stats["active_count"]) == (1, 1)


def test_lead_nurture_exits_when_the_lead_replies(acme: TestClient, runtime: Runtime) -> None:
    sequence = build_sequence(acme, LEAD_NURTURE)
    tagged = ok(acme.post("/api/v1/events", json=[envelope(
        "evt-10", "tag_added", "bob", {"tag_id": "t-1", "tag_name": "cold-lead"})]), 202)
    [enrollment_id] = tagged["results"][0]["enrolled"]
    replied = ok(acme.post("/api/v1/events", json=envelope(
        "evt-11", "contact_replied", "bob", {"channel": "whatsapp", "message_id": "m-1"},
        at="2026-11-29T09:00:05Z")), 202)
    assert replied["results"][0]["exited"] == [enrollment_id]

    exited = ok(acme.get(f"{V1}/enrollments/{enrollment_id}"))
    assert (exited["status"], exited["exit_reason"]) == ("exited", "contact_replied")
    runtime.catch_up()
    stats = ok(acme.get(f"{V1}/sequences/{sequence['id']}/stats"))
    assert stats["exited_count"] == 1
    assert stats["exits_by_reason"] == {"contact_replied": 1}
    bobs = ok(acme.get(f"{V1}/contacts/bob/enrollments"))
    assert [(e["id"], e["status"]) for e in bobs["items"]] == [(enrollment_id, "exited")]


def test_re_engagement_enrolls_inactive_contacts_in_bulk(acme: TestClient,
                                                         runtime: Runtime) -> None:
    sequence = build_sequence(acme, RE_ENGAGEMENT)
    url = f"{V1}/sequences/{sequence['id']}"
    bulk = ok(acme.post(f"{url}/enroll/bulk", json={"contact_ids": ["c1", "c2", "c3"]}))
    assert (bulk["enrolled_count"], bulk["skipped_count"]) == (3, 0)
    again = ok(acme.post(f"{url}/enroll", json={"contact_id": "c1"}), 409)
    assert "already enrolled" in again["detail"]
    paused = ok(acme.post(f"/api/v1/automation/enrollments/"
                          f"{bulk['enrolled'][0]['enrollment_id']}/pause"))
    assert paused["status"] == "paused"

    runtime.catch_up()
    stats = ok(acme.get(f"{url}/stats"))
    assert (stats["total_enrolled"], stats["active_count"], stats["paused_count"]) == (3, 2, 1)
    active = ok(acme.get(f"{url}/enrollments", params={"status": "active", "limit": 1}))
    assert (active["total"], len(active["items"]), active["limit"]) == (2, 1, 1)


def test_webinar_follow_up_enrolls_form_submitters_once(acme: TestClient,
                                                        runtime: Runtime) -> None:
    sequence = build_sequence(acme, WEBINAR_FOLLOW_UP)
    submit = envelope("evt-20", "form_submit", "cy", {
        "form_id": "f-webinar", "form_name": "webinar-registration", "fields": {"x": "1"}})
    first = ok(acme.post("/api/v1/events", json=submit), 202)
    retried = ok(acme.post("/api/v1/events", json=submit), 202)
    assert (first["applied"], retried["duplicate"]) == (1, 1)
    [enrollment_id] = first["results"][0]["enrolled"]
    enrollment = ok(acme.get(f"{V1}/enrollments/{enrollment_id}"))
    assert enrollment["next_scheduled_at"] == "2026-11-29T10:00:00Z"  # one hour later
    left = ok(acme.post(f"{V1}/enrollments/{enrollment_id}/exit",
                        json={"reason": "manual_exit"},
                        headers={"If-Match": str(enrollment["version"])}))
    assert (left["status"], left["version"]) == ("exited", enrollment["version"] + 1)
    history = ok(acme.get(f"{V1}/enrollments/{enrollment_id}/history"))
    assert [h["type"] for h in history["items"]] == [
        "sequence.contact_enrolled", "sequence.enrollment_exited"]

    runtime.catch_up()
    listed = ok(acme.get(f"{V1}/sequences", params={"trigger_type": "form_submit"}))
    assert [s["id"] for s in listed["items"]] == [sequence["id"]]
    stats = ok(acme.get(f"{V1}/sequences/{sequence['id']}/stats"))
    assert (stats["total_enrolled"], stats["exits_by_reason"]) == (1, {"manual_exit": 1})
