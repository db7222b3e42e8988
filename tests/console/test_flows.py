"""What a user does in the console, checked through the public API afterwards (CAPABILITIES
§6, acceptance 2-5 as far as the API offers them today)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.console.browser import Guarded
from tests.console.conftest import KEY, V1, World, make_sequence


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _conversions(stats: dict[str, Any]) -> dict[str, str]:
    found = stats.get("conversions")
    if not found:
        return {}
    return {"converted": str(found["converted"]),
            "conversion_rate": _percent(found["conversion_rate"]),
            "holdout_rate": _percent(found["holdout"]["conversion_rate"]),
            "lift": _percent(found["lift"])}


def test_the_analytics_numbers_equal_the_stats(console: Guarded, world: World) -> None:
    sid = world.active["id"]
    page = console.goto(f"/console/sequences/{sid}/analytics", "[data-daily-total]")
    console.settle()
    stats = world.get(f"{V1}/sequences/{sid}/stats", after="head")
    assert stats["total_enrolled"] == 4  # the data is what the fixture made
    assert stats["exits_by_reason"] == {"contact_replied": 1}
    shown = {e.get_attribute("data-metric"): e.inner_text()
             for e in page.locator("dl.metrics [data-metric]").all()}
    assert shown == {
        "total_enrolled": str(stats["total_enrolled"]), "active_count": str(stats["active_count"]),
        "paused_count": str(stats["paused_count"]),
        "completed_count": str(stats["completed_count"]),
        "exited_count": str(stats["exited_count"]),
        "completion_rate": _percent(stats["completion_rate"]),
        **_conversions(stats)}
    for step in stats["steps"]:
        row = page.locator(f"tr[data-step-order='{step['step_order']}']")
        cells = {c.get_attribute("data-metric"): c.inner_text()
                 for c in row.locator("[data-metric]").all()}
        assert cells == {
            **{k: str(step.get(k) or 0) for k in ("reached", "message_requested", "delivered",
                                                   "opened", "clicked", "replied")},
            "open_rate": _percent(step["rates"]["open_rate"]),
            "click_rate": _percent(step["rates"]["click_rate"]),
            "reply_rate": _percent(step["rates"].get("reply_rate"))}
    first = stats["steps"][0]
    assert (first["delivered"], first["opened"], first["clicked"]) == (3, 2, 1)
    assert page.locator("[data-exit-reason=contact_replied]").inner_text() == "1"
    daily = world.get(f"{V1}/sequences/{sid}/stats/daily", tz="UTC", after="head")["items"]
    for series in ("enrolled", "sent", "replied", "converted"):
        total = sum(day[series] for day in daily)
        assert page.locator(f"[data-daily-total={series}]").inner_text() == str(total)
    assert page.locator("[data-daily-total=enrolled]").inner_text() == "4"
    # Another zone asks the API for that zone's days.
    with page.expect_response(lambda r: "stats/daily" in r.url and "tz=Asia%2FTokyo" in r.url):
        page.get_by_label("Time zone").select_option("Asia/Tokyo")
    console.check_screen()


def _cards(page: Page) -> list[str]:
    return page.locator(".step-name").all_inner_texts()


def _expect_cards(page: Page, names: list[str]) -> None:
    """The cards show ``names`` in this order (once the screen has rendered the change)."""
    expect(page.locator(".step-name")).to_have_text(names)


def _server_steps(world: World, sid: str) -> list[tuple[str, int, int, str]]:
    """(name, order, delay) of each step as the API has it, by order."""
    sequence = world.get(f"{V1}/sequences/{sid}")
    return sorted(((s["name"], s["order"], s["delay_amount"], s["delay_unit"])
                   for s in sequence["steps"]), key=lambda row: row[1])


def _save(page: Page) -> None:
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Unsaved changes").wait_for(state="detached")


def test_reorder_by_drag_and_keyboard_set_a_delay_save_and_activate(
        console: Guarded, world: World) -> None:
    sid = make_sequence(world.api, "Builder", activate=False)["id"]
    page = console.goto(f"/console/sequences/{sid}", ".step-card")
    _expect_cards(page, ["Introduction", "Case Study", "Final Offer"])
    page.locator("#step-2").drag_to(page.locator("#step-1"))
    _expect_cards(page, ["Introduction", "Final Offer", "Case Study"])
    page.locator("#step-1").focus()
    page.keyboard.press("Alt+ArrowDown")  # back where it was, by keyboard
    _expect_cards(page, ["Introduction", "Case Study", "Final Offer"])
    expect(page.locator("#step-2")).to_be_focused()  # focus follows the card
    page.locator("#step-1").click()
    page.get_by_label("Delay").fill("3")
    page.get_by_label("Unit").select_option("days")
    _save(page)
    assert _server_steps(world, sid) == [("Introduction", 0, 0, "minutes"),
                                         ("Case Study", 1, 3, "days"),
                                         ("Final Offer", 2, 5, "days")]
    # A new arrangement saved: the orders follow the cards.
    page.locator("#step-2").focus()
    page.keyboard.press("Alt+ArrowUp")
    _expect_cards(page, ["Introduction", "Final Offer", "Case Study"])
    _save(page)
    assert _server_steps(world, sid) == [("Introduction", 0, 0, "minutes"),
                                         ("Final Offer", 1, 5, "days"),
                                         ("Case Study", 2, 3, "days")]
    page.get_by_role("button", name="Activate").click()
    page.locator(".heading .badge-active").wait_for()
    console.goto("/console/sequences", "tr:has-text('Builder') .badge-active")
    assert world.get(f"{V1}/sequences/{sid}")["status"] == "active"
    assert console.errors == []
    assert console.outside == []


def test_a_negative_delay_shows_the_422_beside_the_delay_and_saves_nothing(
        console: Guarded, world: World) -> None:
    sid = make_sequence(world.api, "Invalid delay", activate=False)["id"]
    before = world.get(f"{V1}/sequences/{sid}")
    page = console.goto(f"/console/sequences/{sid}", ".step-card")
    page.locator("#step-1").click()
    page.get_by_label("Delay").fill("-1")
    page.get_by_role("button", name="Save").click()
    message = page.locator("#step-delay-error")
    message.wait_for()
    assert message.inner_text() == "Input should be greater than or equal to 0"
    # Beside its field: the message follows the delay input in the same field box.
    assert page.locator(".field:has(#step-delay) #step-delay-error").count() == 1
    assert page.get_by_label("Delay").get_attribute("aria-invalid") == "true"
    assert world.get(f"{V1}/sequences/{sid}") == before
    # The browser logs the 422 answer itself; nothing else is an error.
    assert console.unexpected_errors(422) == []


def test_a_second_save_meets_the_conflict_dialog_and_keep_mine_loses_nothing(
        browser: Browser, console: Guarded, world: World) -> None:
    sid = make_sequence(world.api, "Two editors", activate=False)["id"]
    other = Guarded.open(browser, world.base, KEY)
    try:
        mine = console.goto(f"/console/sequences/{sid}", ".step-card")
        theirs = other.goto(f"/console/sequences/{sid}", ".step-card")
        theirs.locator("#step-0").click()
        theirs.get_by_label("Name").fill("Hello first")
        theirs.get_by_role("button", name="Save").click()
        theirs.get_by_text("Unsaved changes").wait_for(state="detached")
        mine.locator("#step-2").click()
        mine.get_by_label("Content").fill("Mine: the final word")
        mine.get_by_role("button", name="Save").click()
        dialog = mine.get_by_role("alertdialog", name="Changed elsewhere")
        dialog.wait_for()
        dialog.get_by_role("button", name="Keep mine").click()
        mine.get_by_text("Unsaved changes").wait_for(state="detached")
        steps = {s["order"]: s for s in world.get(f"{V1}/sequences/{sid}")["steps"]}
        assert steps[0]["name"] == "Hello first"
        assert steps[2]["message_template"]["content"] == "Mine: the final word"
        assert _cards(mine)[0] == "Hello first"
        assert console.unexpected_errors(412) == []
    finally:
        other.close()


def test_unsaved_changes_hold_the_user_on_the_builder(console: Guarded, world: World) -> None:
    page = console.goto(f"/console/sequences/{world.draft['id']}", ".step-card")
    page.get_by_label("Name").fill("Edited, not saved")
    asked: list[str] = []

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.get_by_role("link", name="Sequences").click()
    assert asked == ["Leave without saving your changes?"]
    assert page.url.endswith(f"/console/sequences/{world.draft['id']}")
    assert page.get_by_label("Name").input_value() == "Edited, not saved"


def test_create_blank_shows_a_422_beside_the_name_then_creates(
        console: Guarded, world: World) -> None:
    page = console.goto("/console/sequences", "text=Create a blank sequence")
    page.get_by_text("Create a blank sequence").click()
    page.locator("#new-name").fill("x" * 201)
    page.get_by_role("button", name="Create draft").click()
    error = page.locator(".field:has(#new-name) .field-error")
    error.wait_for()
    assert "200" in error.inner_text()
    page.locator("#new-name").fill("Blank one")
    page.get_by_role("button", name="Create draft").click()
    page.get_by_role("heading", name="Blank one").wait_for()
    sid = page.url.rsplit("/", 1)[1]
    created = world.get(f"{V1}/sequences/{sid}")
    assert (created["name"], created["status"], created["steps"]) == ("Blank one", "draft", [])
    console.check_screen(422)


def test_filter_search_and_archive(console: Guarded, world: World) -> None:
    victim = make_sequence(world.api, "Archive me", activate=False)
    page = console.goto("/console/sequences", "text=Archive me")
    page.get_by_label("Search").fill("archive m")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("Archive me")
    page.get_by_role("button", name="Archive Archive me").click()
    page.locator("tr:has-text('Archive me') .badge-archived").wait_for()
    assert world.get(f"{V1}/sequences/{victim['id']}")["status"] == "archived"
    page.get_by_label("Search").fill("")
    page.locator(".filters label", has_text="Status").locator("select").select_option("active")
    expect(page.locator("tbody tr:not(:has(.badge-active))")).to_have_count(0)
    statuses = set(page.locator("tbody .badge").all_inner_texts())
    assert statuses == {"active"}
    active_total = world.get(f"{V1}/sequences", status="active", after="head")["total"]
    assert page.locator("[data-status=active]").inner_text() == str(active_total)


def test_pause_resume_and_exit_an_enrollment(console: Guarded, world: World) -> None:
    enrollment = world.get(f"{V1}/sequences/{world.active['id']}/enrollments",
                           status="active", limit=1)["items"][0]
    eid = enrollment["id"]
    page = console.goto(f"/console/enrollments/{eid}", ".timeline li")
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Resume").wait_for()
    assert world.get(f"{V1}/enrollments/{eid}")["status"] == "paused"
    page.get_by_role("button", name="Resume").click()
    page.get_by_role("button", name="Pause").wait_for()
    assert world.get(f"{V1}/enrollments/{eid}")["status"] == "active"
    page.get_by_role("button", name="Exit").click()
    page.locator(".heading .badge-exited").wait_for()
    assert world.get(f"{V1}/enrollments/{eid}")["status"] == "exited"
    console.check_screen()


def test_edit_a_live_sequence_through_a_draft_revision_and_publish_it(
        console: Guarded, world: World) -> None:
    sid = make_sequence(world.api, "Live", activate=True)["id"]
    enrolled = world.api.post(f"{V1}/sequences/{sid}/enroll", json={"contact_id": "live-1"})
    assert enrolled.status_code == 201, enrolled.text
    page = console.goto(f"/console/sequences/{sid}", ".step-card")
    assert page.get_by_label("Delay").is_disabled()  # the live revision is read-only
    page.get_by_role("button", name="Edit").click()
    page.get_by_text("revision 2: draft").wait_for()
    assert page.url.endswith(f"/console/sequences/{sid}/revisions/2")
    assert world.get(f"{V1}/sequences/{sid}")["draft_revision"] == 2
    page.locator("#step-2").click()
    page.get_by_label("Delay").fill("7")
    _save(page)
    draft = world.get(f"{V1}/sequences/{sid}/revisions/2", after="head")
    assert sorted(s["delay_amount"] for s in draft["steps"]) == [0, 2, 7]
    assert sorted(s["delay_amount"] for s in world.get(f"{V1}/sequences/{sid}")["steps"]) == [
        0, 2, 5]  # the live revision is untouched until publishing
    console.check_screen()  # the revision's builder is a screen like the others
    page.get_by_role("button", name="Publish…").click()
    dialog = page.get_by_role("alertdialog", name="Publish revision 2?")
    dialog.wait_for()
    assert dialog.locator("[data-plan=pinned]").inner_text() == "1"
    dialog.get_by_role("button", name="Publish", exact=True).click()
    page.wait_for_url(f"**/console/sequences/{sid}")
    page.locator(".step-card").first.wait_for()
    live = world.get(f"{V1}/sequences/{sid}")
    assert (live["revision"], live["draft_revision"]) == (2, None)
    assert sorted(s["delay_amount"] for s in live["steps"]) == [0, 2, 7]
    console.check_screen()


def test_a_template_previews_then_becomes_a_sequence_the_builder_edits(
        console: Guarded, world: World) -> None:
    page = console.goto("/console/templates", "tr[data-template='builtin:lead-nurture']")
    page.get_by_label("Kind").select_option("step")
    expect(page.locator("tr[data-template='builtin:lead-nurture']")).to_have_count(0)
    page.get_by_label("Kind").select_option("sequence")
    page.get_by_label("Category").select_option("nurture")
    expect(page.locator("tbody tr")).to_have_count(
        world.get(f"{V1}/templates", kind="sequence", category="nurture")["total"])
    page.get_by_role("button", name="Open Lead Nurture").click()
    page.get_by_label("Preview for contact id").fill("c-0")
    page.get_by_role("button", name="Preview").click()
    shown = world.api.post(f"{V1}/templates/builtin:lead-nurture/preview",
                           json={"contact_id": "c-0"}).json()
    expect(page.locator("[data-preview] .preview-content")).to_have_count(len(shown["steps"]))
    assert shown["steps"][0]["rendered"]["content"] in page.locator(
        "[data-preview] .preview-content").first.inner_text()
    name = page.get_by_label("New sequence name")
    name.fill("")
    page.get_by_role("button", name="Create a sequence from this template").click()
    expect(page.locator("#from-template-name-error")).to_contain_text("1 character")  # 422
    console.check_screen(422)
    name.fill("From the library")
    page.get_by_role("button", name="Create a sequence from this template").click()
    _expect_cards(page, ["Introduction", "Case Study", "Final Offer"])
    sid = page.url.rsplit("/", 1)[1]
    assert world.get(f"{V1}/sequences/{sid}")["name"] == "From the library"
    # The builder's check on the copied steps: drag, keyboard, a delay, save, activate.
    page.locator("#step-2").drag_to(page.locator("#step-1"))
    _expect_cards(page, ["Introduction", "Final Offer", "Case Study"])
    page.locator("#step-1").focus()
    page.keyboard.press("Alt+ArrowDown")
    _expect_cards(page, ["Introduction", "Case Study", "Final Offer"])
    page.locator("#step-1").click()
    page.get_by_label("Delay").fill("3")
    _save(page)
    assert _server_steps(world, sid) == [("Introduction", 0, 5, "minutes"),
                                         ("Case Study", 1, 3, "days"),
                                         ("Final Offer", 2, 5, "days")]
    page.get_by_role("button", name="Activate").click()
    page.locator(".heading .badge-active").wait_for()
    assert world.get(f"{V1}/sequences/{sid}")["status"] == "active"
    assert console.unexpected_errors(422) == []
    assert console.outside == []
