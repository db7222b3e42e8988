"""Analytics → variants: "Declare winner" on a running A/B test (CAPABILITIES §1, §6 screen 4).
The arm is chosen, confirmed in a dialog and sent to `POST …/experiments/{id}/conclude`; the
API's list is the check. A conclusion made elsewhere meanwhile answers 409, which is shown."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.console.browser import Guarded
from tests.console.conftest import V1, World, make_ab_test


def test_declare_a_winner_after_confirming_then_the_table_shows_it(
        console: Guarded, world: World) -> None:
    sid = make_ab_test(world.api, "Declared")["id"]
    page = console.goto(f"/console/sequences/{sid}/analytics", "[data-experiment=opener]")
    experiment = page.locator("[data-experiment=opener]")
    expect(experiment.locator(".badge")).to_have_text("running")
    page.get_by_label("Winner of opener").select_option("B")
    page.get_by_role("button", name="Declare winner").click()
    dialog = page.get_by_role("alertdialog", name="Declare B the winner of opener?")
    dialog.wait_for()
    expect(dialog.get_by_role("button", name="Declare B")).to_be_focused()
    console.check_screen()  # the confirmation dialog is a screen state like the others
    # Cancel sends nothing.
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    assert world.get(f"{V1}/sequences/{sid}/experiments")["items"][0]["winner"] is None
    page.get_by_role("button", name="Declare winner").click()
    dialog.get_by_role("button", name="Declare B").click()
    expect(experiment.locator("[data-winner]")).to_have_text("B")
    [view] = world.get(f"{V1}/sequences/{sid}/experiments")["items"]
    assert (view["status"], view["winner"], view["concluded_by"]) == ("concluded", "B", "manual")
    expect(experiment.locator(".badge")).to_have_text("concluded")
    expect(experiment.locator("tr[data-arm=B] td").first).to_have_text("B (winner)")
    expect(page.get_by_role("button", name="Declare winner")).to_have_count(0)
    console.check_screen()


def test_a_test_concluded_elsewhere_meanwhile_shows_the_409_and_its_winner(
        console: Guarded, world: World) -> None:
    sid = make_ab_test(world.api, "Concluded twice")["id"]
    page = console.goto(f"/console/sequences/{sid}/analytics", "[data-experiment=opener]")
    page.get_by_label("Winner of opener").select_option("B")
    elsewhere = world.api.post(f"{V1}/sequences/{sid}/experiments/opener/conclude",
                               json={"winner": "A"})
    assert elsewhere.status_code == 200, elsewhere.text
    page.get_by_role("button", name="Declare winner").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Declare B").click()
    experiment = page.locator("[data-experiment=opener]")
    alert = experiment.get_by_role("alert")
    alert.wait_for()
    again = world.api.post(f"{V1}/sequences/{sid}/experiments/opener/conclude",
                           json={"winner": "B"})
    assert again.status_code == 409, again.text
    problem = again.json()
    assert alert.inner_text() == f"{problem['title']}: {problem['detail']}"
    expect(experiment.locator("[data-winner]")).to_have_text("A")  # the winner it has
    [view] = world.get(f"{V1}/sequences/{sid}/experiments")["items"]
    assert view["winner"] == "A"
    console.check_screen(409)


def test_the_confirmation_by_keyboard_keeps_the_focus_in_the_dialog_and_gives_it_back(
        console: Guarded, world: World) -> None:
    sid = make_ab_test(world.api, "By keyboard")["id"]
    page = console.goto(f"/console/sequences/{sid}/analytics", "[data-experiment=opener]")
    opener = page.get_by_role("button", name="Declare winner")
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("alertdialog", name="Declare A the winner of opener?")
    expect(dialog.get_by_role("button", name="Declare A")).to_be_focused()
    inside = "document.querySelector('[role=alertdialog]').contains(document.activeElement)"
    for key in ("Tab", "Tab", "Tab", "Shift+Tab", "Shift+Tab", "Shift+Tab"):
        page.keyboard.press(key)
        assert page.evaluate(inside), f"{key} left the modal dialog"
    # Escape cancels: nothing is sent, and the focus is back on the button that opened it.
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(opener).to_be_focused()
    assert world.get(f"{V1}/sequences/{sid}/experiments")["items"][0]["winner"] is None
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("button", name="Declare A")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("[data-experiment=opener] [data-winner]")).to_have_text("A")
    assert world.get(f"{V1}/sequences/{sid}/experiments")["items"][0]["winner"] == "A"
    assert console.errors == []
