"""Publishing a revision with a step map (CAPABILITIES §8, §6 screen 3), and the enrollment page
of a contact waiting for its send window (§6 acceptance 5, §7). Against the real `dripline
serve` and its real clock: the migration runs in its background, so the checks wait for the
enrollment the API shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from tests.console.browser import Guarded
from tests.console.conftest import STEPS, V1, World, make_sequence
from tests.e2e.server import poll


def _ok(answer: Any, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json()


def _waiting_at_case_study(world: World, name: str, contact: str) -> tuple[str, dict[str, Any]]:
    """An active sequence with one enrollment past its first step, waiting at "Case Study"."""
    sid = make_sequence(world.api, name, activate=True)["id"]
    eid = _ok(world.api.post(f"{V1}/sequences/{sid}/enroll", json={"contact_id": contact}),
              201)["id"]

    def advanced() -> dict[str, Any] | None:
        e = world.get(f"{V1}/enrollments/{eid}")
        return dict(e) if e["current_step_order"] == 1 and e["status"] == "active" else None

    return sid, poll(advanced, "the enrollment waiting at its second step", timeout=30)


def _draft_without_case_study(world: World, sid: str, replacement: bool) -> dict[str, Any]:
    """Revision 2: "Case Study" removed, and with ``replacement`` a new step in its place."""
    draft = _ok(world.api.post(f"{V1}/sequences/{sid}/revisions", json={}), 201)
    [case] = [s for s in draft["steps"] if s["name"] == "Case Study"]
    _ok(world.api.delete(f"{V1}/sequences/{sid}/revisions/2/steps/{case['id']}"))
    if replacement:
        _ok(world.api.post(f"{V1}/sequences/{sid}/revisions/2/steps", json={
            **STEPS[1], "name": "Case Study v2", "order": 1}), 201)
    revision = world.get(f"{V1}/sequences/{sid}/revisions/2", after="head")
    return {"old_step": case["id"], "steps": revision["steps"]}


def _publish_dialog(console: Guarded, sid: str, old_step: str) -> Page:
    page = console.goto(f"/console/sequences/{sid}/revisions/2", ".step-card")
    page.get_by_role("button", name="Publish…").click()
    dialog = page.get_by_role("alertdialog", name="Publish revision 2?")
    dialog.wait_for()
    assert dialog.locator("[data-plan=pinned]").inner_text() == "1"
    dialog.get_by_role("button", name="Move the contacts inside to this revision").click()
    page.locator(f"#map-{old_step}").wait_for()
    assert page.get_by_label("Waiting at 2. Case Study: move to").count() == 1
    return page


def test_a_step_map_moves_the_enrollment_to_the_new_step_after_a_check(
        console: Guarded, world: World) -> None:
    sid, before = _waiting_at_case_study(world, "Migrated", "mig-1")
    draft = _draft_without_case_study(world, sid, replacement=True)
    old_step = draft["old_step"]
    [new] = [s for s in draft["steps"] if s["name"] == "Case Study v2"]
    page = _publish_dialog(console, sid, old_step)
    choice = page.locator(f"#map-{old_step}")
    # Unmapped: the API's 422 shows beside the choice, and nothing is published.
    page.get_by_role("button", name="Publish and move").click()
    error = page.locator(f"li.field:has(#map-{old_step}) #map-{old_step}-error")
    error.wait_for()
    assert "does not have" in error.inner_text()
    assert choice.get_attribute("aria-describedby") == f"map-{old_step}-error"
    assert world.get(f"{V1}/sequences/{sid}")["revision"] == 1
    # Back to a step it already had: the check lists it as a conflict.
    choice.select_option(label="move to 1. Introduction")
    page.get_by_role("button", name="Check").click()
    expect(page.locator("[data-checked=conflicts]")).to_have_text("1")
    expect(page.locator("[data-conflicts] li")).to_contain_text(before["id"][:8])
    # To the new step: one planned move.
    choice.select_option(label="move to 2. Case Study v2")
    page.get_by_role("button", name="Check").click()
    moved = page.locator(f"[data-move='{old_step}']")
    expect(moved.locator("[data-count]")).to_have_text("1")
    expect(moved).to_contain_text("2. Case Study v2")
    expect(page.locator("[data-checked=conflicts]")).to_have_text("0")
    console.check_screen(422)  # the dialog with its step map and check
    assert world.get(f"{V1}/enrollments/{before['id']}")["revision"] == 1  # a check writes nothing
    page.get_by_role("button", name="Publish and move").click()
    page.wait_for_url(f"**/console/sequences/{sid}")
    assert world.get(f"{V1}/sequences/{sid}")["revision"] == 2

    def migrated() -> dict[str, Any] | None:
        e = world.get(f"{V1}/enrollments/{before['id']}")
        return dict(e) if e["revision"] == 2 else None

    after = poll(migrated, "the enrollment on revision 2", timeout=30)
    assert (after["status"], after["current_step_order"]) == ("active", new["order"])
    assert after["next_scheduled_at"] == before["next_scheduled_at"]  # due: keep
    why = world.get(f"{V1}/enrollments/{before['id']}/why")
    assert why["current_step"]["id"] == new["id"]
    assert console.unexpected_errors(422) == []


def test_a_step_mapped_to_exit_lets_its_contacts_leave_with_step_removed(
        console: Guarded, world: World) -> None:
    sid, before = _waiting_at_case_study(world, "Step removed", "gone-1")
    draft = _draft_without_case_study(world, sid, replacement=False)
    page = _publish_dialog(console, sid, draft["old_step"])
    page.locator(f"#map-{draft['old_step']}").select_option(label="exit (step_removed)")
    page.get_by_role("button", name="Check").click()
    expect(page.locator(f"[data-move='{draft['old_step']}']")).to_contain_text(
        "exit (step_removed)")
    page.get_by_role("button", name="Publish and move").click()
    page.wait_for_url(f"**/console/sequences/{sid}")

    def left() -> dict[str, Any] | None:
        e = world.get(f"{V1}/enrollments/{before['id']}")
        return dict(e) if e["status"] != "active" else None

    after = poll(left, "the enrollment leaving", timeout=30)
    assert (after["status"], after["exit_reason"]) == ("exited", "step_removed")
    assert console.errors == []


def test_the_enrollment_page_shows_waiting_for_the_send_window_and_when_it_opens(
        console: Guarded, world: World) -> None:
    now = datetime.now(UTC)
    opens = (now + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    # Open two hours from three hours on: the current hour (and the next two) are outside.
    hours = [opens.hour, (opens.hour + 1) % 24]
    sequence = _ok(world.api.post(f"{V1}/sequences", json={
        "name": "Outside hours", "trigger_type": "tag_added",
        "trigger_data": {"tag_name": "late"}, "steps": STEPS,
        "send_window": {"hours": hours, "timezone": "UTC"}}), 201)
    _ok(world.api.post(f"{V1}/sequences/{sequence['id']}/activate"))
    eid = _ok(world.api.post(f"{V1}/sequences/{sequence['id']}/enroll",
                             json={"contact_id": "late-1"}), 201)["id"]
    why = world.get(f"{V1}/enrollments/{eid}/why")
    assert why["waiting"]["reason"] == "send_window"
    until = datetime.fromisoformat(why["waiting"]["until"])
    assert until == opens
    page = console.goto(f"/console/enrollments/{eid}", "[data-why=reason]")
    assert page.locator("[data-why=reason]").inner_text() == "send_window"
    shown = page.locator("[data-why=until] time")
    assert datetime.fromisoformat(shown.get_attribute("datetime") or "") == until
    # The text is that instant in the reader's locale and zone, as the console writes times.
    expected = page.evaluate("iso => new Date(iso).toLocaleString(undefined, "
                             "{dateStyle: 'medium', timeStyle: 'short'})", why["waiting"]["until"])
    assert shown.inner_text() == expected
    for key, value in why["waiting"]["detail"].items():
        assert page.locator(f"[data-why-detail={key}]").inner_text() == str(value)
    console.check_screen()
