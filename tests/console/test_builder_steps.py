"""The builder adds and removes steps, and saves the whole arrangement in one write
(``PUT …/steps``): a 422 selects the card it names and shows beside the field, with nothing
saved; a step from a template is saved with its provenance."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, Page, Route, expect

from tests.console.browser import Guarded
from tests.console.conftest import KEY, STEPS, V1, World, make_sequence


def _steps(world: World, sid: str) -> list[dict[str, Any]]:
    return sorted(world.get(f"{V1}/sequences/{sid}")["steps"], key=lambda s: s["order"])


def _cards(page: Page, names: list[str]) -> None:
    expect(page.locator(".step-name")).to_have_text(names)


def _save(page: Page) -> None:
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Unsaved changes").wait_for(state="detached")


def test_a_new_message_without_content_is_refused_beside_its_field_then_saved(
        console: Guarded, world: World) -> None:
    sid = make_sequence(world.api, "Adding", activate=False)["id"]
    before = world.get(f"{V1}/sequences/{sid}")
    page = console.goto(f"/console/sequences/{sid}", ".step-card")
    page.get_by_role("button", name="Add a message").click()
    _cards(page, ["Introduction", "Case Study", "Final Offer", "New message"])
    expect(page.locator("#step-3")).to_have_attribute("aria-pressed", "true")  # selected
    expect(page.locator("#step-3")).to_be_focused()
    # Moved up between the second and the third, by keyboard; its content left empty.
    page.keyboard.press("Alt+ArrowUp")
    _cards(page, ["Introduction", "Case Study", "New message", "Final Offer"])
    page.get_by_role("button", name="Save").click()
    message = page.locator("#step-content-error")
    message.wait_for()
    assert message.inner_text() == "is required for a text message"
    assert page.locator(".field:has(#step-content) #step-content-error").count() == 1
    assert page.get_by_label("Content").get_attribute("aria-invalid") == "true"
    expect(page.locator("#step-2")).to_have_attribute("aria-pressed", "true")
    assert world.get(f"{V1}/sequences/{sid}") == before  # nothing saved, not even in part
    console.check_screen(422)  # a new card with its error is a screen like the others
    page.get_by_label("Name").fill("Reminder")
    page.get_by_label("Content").fill("Still there, {{contact.name}}?")
    _save(page)
    saved = _steps(world, sid)
    assert [s["name"] for s in saved] == ["Introduction", "Case Study", "Reminder",
                                          "Final Offer"]
    assert saved[2]["message_template"]["content"] == "Still there, {{contact.name}}?"
    assert saved[2]["message_template"]["channel"] == "email"  # the card before it's
    assert [s["id"] for s in saved if s["name"] != "Reminder"] == [
        s["id"] for s in before["steps"]]  # the others kept their ids
    _cards(page, ["Introduction", "Case Study", "Reminder", "Final Offer"])
    assert console.unexpected_errors(422) == []
    assert console.outside == []


def test_a_removed_step_is_gone_once_saved_and_discard_brings_it_back(
        console: Guarded, world: World) -> None:
    sid = make_sequence(world.api, "Removing", activate=False)["id"]
    before = _steps(world, sid)
    page = console.goto(f"/console/sequences/{sid}", ".step-card")
    page.locator("#step-1").click()
    page.get_by_role("button", name="Remove step").click()
    _cards(page, ["Introduction", "Final Offer"])
    page.get_by_role("button", name="Discard changes").click()
    _cards(page, ["Introduction", "Case Study", "Final Offer"])
    page.locator("#step-1").click()
    page.get_by_role("button", name="Remove step").click()
    _cards(page, ["Introduction", "Final Offer"])
    _save(page)
    assert [s["id"] for s in _steps(world, sid)] == [before[0]["id"], before[2]["id"]]
    assert console.errors == []


def test_a_step_from_a_template_is_saved_with_its_provenance(
        console: Guarded, world: World) -> None:
    sid = make_sequence(world.api, "From a template", activate=False)["id"]
    template = world.get(f"{V1}/templates/builtin:we-miss-you")
    page = console.goto(f"/console/sequences/{sid}", ".step-card")
    page.get_by_role("button", name="Add from a template").click()
    page.get_by_label("Step template").select_option("builtin:we-miss-you")
    console.check_screen()  # the picker open
    page.get_by_role("button", name="Add this step").click()
    name = template["body"]["name"]
    _cards(page, ["Introduction", "Case Study", "Final Offer", name])
    card = page.locator("#step-3")
    expect(card).to_contain_text(template["body"]["message_template"]["content"])
    expect(card).to_contain_text("from template")
    page.get_by_label("Delay").fill("9")
    _save(page)
    copied = _steps(world, sid)[3]
    assert copied["source_template"] == {"id": "builtin:we-miss-you",
                                         "version": template["version"]}
    assert (copied["name"], copied["delay_amount"]) == (name, 9)  # the edit, as an override
    assert copied["message_template"]["content"] == template["body"]["message_template"][
        "content"]


def test_a_422_on_a_later_card_selects_it_and_saves_nothing(
        console: Guarded, world: World) -> None:
    sid = make_sequence(world.api, "Later card", activate=False)["id"]
    before = world.get(f"{V1}/sequences/{sid}")
    page = console.goto(f"/console/sequences/{sid}", ".step-card")
    page.locator("#step-0").click()
    page.get_by_label("Name").fill("Hello")  # a valid edit on the first card
    page.locator("#step-2").click()
    page.get_by_label("Content").fill("Broken {{contact.")
    page.locator("#step-0").click()  # the first card is the one in view when saving
    page.get_by_role("button", name="Save").click()
    message = page.locator("#step-content-error")
    message.wait_for()
    expect(page.locator("#step-2")).to_have_attribute("aria-pressed", "true")
    assert message.inner_text().startswith("template syntax error")
    assert world.get(f"{V1}/sequences/{sid}") == before
    page.locator("#step-0").click()  # the message belongs to its card only
    expect(page.locator("#step-content-error")).to_have_count(0)
    # Named as the cards are (from 1, by name), not as the API's list (from 0).
    expect(page.locator(".savebar .problem")).to_contain_text(
        "Step 3, Final Offer: content: template syntax error")
    expect(page.locator(".savebar .problem")).not_to_contain_text("steps[2]")
    assert console.unexpected_errors(422) == []


def test_keep_mine_keeps_added_and_removed_steps(
        browser: Browser, console: Guarded, world: World) -> None:
    sid = make_sequence(world.api, "Two editors, steps", activate=False)["id"]
    other = Guarded.open(browser, world.base, KEY)
    try:
        mine = console.goto(f"/console/sequences/{sid}", ".step-card")
        theirs = other.goto(f"/console/sequences/{sid}", ".step-card")
        theirs.locator("#step-2").click()
        theirs.get_by_label("Name").fill("Their final offer")
        _save(theirs)
        mine.locator("#step-0").click()
        mine.get_by_role("button", name="Remove step").click()
        mine.get_by_role("button", name="Add a message").click()
        mine.get_by_label("Content").fill("Mine, new")
        mine.get_by_role("button", name="Save").click()
        dialog = mine.get_by_role("alertdialog", name="Changed elsewhere")
        dialog.wait_for()
        dialog.get_by_role("button", name="Keep mine").click()
        mine.get_by_text("Unsaved changes").wait_for(state="detached")
        saved = _steps(world, sid)
        assert [s["name"] for s in saved] == ["Case Study", "Their final offer", "New message"]
        assert saved[2]["message_template"]["content"] == "Mine, new"
        _cards(mine, ["Case Study", "Their final offer", "New message"])
        assert console.unexpected_errors(412) == []
    finally:
        other.close()


def test_removing_steps_and_closing_the_picker_keep_the_keyboard_in_the_builder(
        console: Guarded, world: World) -> None:
    sid = make_sequence(world.api, "Keyboard only", activate=False)["id"]
    page = console.goto(f"/console/sequences/{sid}", ".step-card")
    page.locator("#step-2").click()
    remove = page.get_by_role("button", name="Remove step")
    remove.focus()
    page.keyboard.press("Enter")
    # The card now selected takes the focus: Enter again must not remove another step.
    _cards(page, ["Introduction", "Case Study"])
    expect(page.locator("#step-1")).to_be_focused()
    expect(page.locator("#step-1")).to_have_attribute("aria-pressed", "true")
    for left in (1, 0):
        remove.focus()
        page.keyboard.press("Enter")
        expect(page.locator(".step-card")).to_have_count(left)
    # No card left: the focus goes to adding one, not to the top of the page.
    expect(page.get_by_role("button", name="Add a message")).to_be_focused()
    expect(page.get_by_text("This sequence has no steps.")).to_be_visible()
    console.check_screen()  # the builder with no steps is a screen like the others
    opener = page.get_by_role("button", name="Add from a template")
    opener.focus()
    page.keyboard.press("Enter")
    page.get_by_label("Step template").wait_for()
    page.get_by_role("button", name="Cancel").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Step template")).to_have_count(0)
    expect(opener).to_be_focused()
    expect(opener).to_have_attribute("aria-expanded", "false")
    _save(page)
    assert _steps(world, sid) == []


def test_a_message_added_after_the_highest_order_the_api_allows_is_saved(
        console: Guarded, world: World) -> None:
    # Orders may have gaps, up to 10,000: the builder's numbers must stay within them.
    top = {**STEPS[2], "order": 10_000}
    created = world.api.post(f"{V1}/sequences", json={"name": "Top order",
                                                      "steps": [STEPS[0], top]})
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    page = console.goto(f"/console/sequences/{sid}", ".step-card")
    page.get_by_role("button", name="Add a message").click()
    page.get_by_label("Content").fill("After the last")
    _save(page)
    saved = _steps(world, sid)
    assert [s["name"] for s in saved] == ["Introduction", "Final Offer", "New message"]
    assert all(0 <= s["order"] <= 10_000 for s in saved)
    assert console.unexpected_errors() == []


def test_a_422_that_names_no_card_is_shown_and_the_cards_stay(
        console: Guarded, world: World) -> None:
    # A path experiment's arms hold the steps: the sequence itself may have none.
    arms = [{"key": k, "weight": 50, "steps": [STEPS[0]]} for k in "AB"]
    created = world.api.post(f"{V1}/sequences", json={"name": "Paths", "experiments": [
        {"id": "paths", "kind": "path", "arms": arms}]})
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    page = console.goto(f"/console/sequences/{sid}", ".builder")
    page.get_by_role("button", name="Add a message").click()
    page.get_by_label("Content").fill("Mine")
    page.get_by_role("button", name="Save").click()
    alert = page.locator(".savebar [role=alert]")
    expect(alert).to_contain_text("path experiment")
    _cards(page, ["New message"])  # nothing typed is lost
    expect(page.get_by_label("Content")).to_have_value("Mine")
    assert _steps(world, sid) == []
    assert console.unexpected_errors(422) == []


def test_the_page_is_read_only_while_a_save_is_on_its_way_and_the_keyboard_stays(
        console: Guarded, world: World) -> None:
    sid = make_sequence(world.api, "In flight", activate=False)["id"]
    page = console.goto(f"/console/sequences/{sid}", ".step-card")
    held: list[Route] = []
    page.route(f"**/sequences/{sid}/steps", lambda route: held.append(route))
    page.get_by_label("Name", exact=True).fill("Hello")
    save = page.get_by_role("button", name="Save")
    save.focus()
    page.keyboard.press("Enter")  # by keyboard: the button it pressed is disabled meanwhile
    for _ in range(200):  # Playwright calls the route handler only while it runs
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the save was never sent"
    # Nothing typed now could be lost when the answer replaces the page.
    expect(page.get_by_label("Name", exact=True)).to_be_disabled()
    expect(page.get_by_role("button", name="Add a message")).to_have_count(0)
    for route in held:
        route.fallback()
    note = page.locator("#saved-note")
    expect(note).to_have_text("Saved")
    expect(note).to_be_focused()
    expect(page.get_by_label("Name", exact=True)).to_be_enabled()
    assert _steps(world, sid)[0]["name"] == "Hello"
    page.get_by_label("Name", exact=True).fill("Hello again")  # editing again hides the note
    expect(note).to_have_count(0)
