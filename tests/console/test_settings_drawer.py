"""The builder's settings drawer (CAPABILITIES §6, screen 3): what a user sets there is what
the API has after Save; a 422 shows beside the field it names and saves nothing; a draft
revision shows the sequence's trigger read-only; the drawer is reached, used and closed by
keyboard, and passes the screen checks."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.console.browser import Guarded
from tests.console.conftest import V1, World, make_sequence

AUTO_WINNER = {"enabled": True, "min_exposures_per_arm": 200, "outcome_window_hours": 72,
               "alpha": 0.05, "evaluate_every_hours": 24, "max_looks": 7,
               "fallback": "keep_split"}


def _open(page: Page) -> Locator:
    page.get_by_role("button", name="Settings").click()
    drawer = page.locator("#settings-drawer")
    drawer.wait_for()
    return drawer


def _drawer_of_a_draft(console: Guarded, world: World, name: str) -> tuple[str, Page]:
    """A new draft's builder with its settings drawer open: its id and the page."""
    sid = make_sequence(world.api, name, activate=False)["id"]
    page = console.goto(f"/console/sequences/{sid}", ".step-card")
    _open(page)
    return sid, page


def _save(page: Page) -> None:
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Unsaved changes").wait_for(state="detached")


def _hour(page: Page, hour: int) -> Locator:
    return page.get_by_role("checkbox", name=f"{hour:02d}:00", exact=True)


def _day(page: Page, day: str) -> Locator:
    return page.get_by_role("checkbox", name=day, exact=True)


def _content_test(world: World, sid: str, step_id: str) -> None:
    text = {"type": "text", "channel": "email"}
    put = world.api.put(f"{V1}/sequences/{sid}", json={"experiments": [{
        "id": "subject", "kind": "content", "step_id": step_id, "metric": "reply",
        "arms": [{"key": "A", "weight": 60, "message_template": {**text, "content": "Hi A"}},
                 {"key": "B", "weight": 40, "message_template": {**text, "content": "Hi B"}}],
    }]})
    assert put.status_code == 200, put.text


def test_a_send_window_goal_holdout_and_exemption_set_in_the_drawer_are_saved(
        console: Guarded, world: World) -> None:
    sequence = make_sequence(world.api, "Settings saved", activate=False)
    sid = sequence["id"]
    page = console.goto(f"/console/sequences/{sid}", ".step-card")
    _open(page)
    page.get_by_label("Send only in chosen hours and weekdays").check()
    _hour(page, 17).uncheck()  # a new window starts at 09:00-17:00, Monday to Friday
    _hour(page, 8).check()
    _day(page, "fri").uncheck()
    _day(page, "sat").check()
    page.locator("#window-zone").fill("Europe/Berlin")
    page.get_by_label("Track a goal").check()
    page.get_by_label("Event type").select_option("custom_event")
    page.get_by_label("Key 1").fill("name")
    page.get_by_label("Value 1").fill("purchase")
    page.locator("#holdout").fill("10")
    page.get_by_label("Transactional: exempt from the frequency caps").check()
    _save(page)
    saved = world.get(f"{V1}/sequences/{sid}")
    assert saved["send_window"] == {"hours": [8, 9, 10, 11, 12, 13, 14, 15, 16],
                                    "weekdays": ["mon", "tue", "wed", "thu", "sat"],
                                    "timezone": "Europe/Berlin"}
    assert saved["goal"] == {"event_type": "custom_event", "match": {"name": "purchase"},
                             "attribution_window_hours": 168, "exit_on_goal": True}
    assert (saved["holdout_percent"], saved["frequency_cap_exempt"]) == (10, True)
    untouched = ("trigger_type", "trigger_data", "exit_on_reply", "reenrollment",
                 "resume_policy", "experiments", "steps")
    assert {k: saved[k] for k in untouched} == {k: sequence[k] for k in untouched}
    # The drawer now shows what the server has: nothing is left unsaved.
    assert page.locator("#window-zone").input_value() == "Europe/Berlin"
    assert _hour(page, 8).is_checked()
    assert not _hour(page, 17).is_checked()


def test_the_trigger_re_enrollment_and_resume_policy_of_a_draft_are_saved(
        console: Guarded, world: World) -> None:
    sid, page = _drawer_of_a_draft(console, world, "Trigger saved")
    assert page.get_by_label("tag_name").input_value() == "cold-lead"
    page.get_by_label("Enrolls on").select_option("list_joined")
    page.get_by_label("list_id").fill("l-7")
    page.get_by_label("Exit when the contact replies").uncheck()
    page.get_by_label("Enroll again").select_option("after_completion")
    page.get_by_label("Cooldown (seconds)").fill("3600")
    page.get_by_label("On resume, steps missed while paused").select_option("skip_missed")
    _save(page)
    saved = world.get(f"{V1}/sequences/{sid}")
    assert (saved["trigger_type"], saved["trigger_data"]) == ("list_joined", {"list_id": "l-7"})
    assert saved["exit_on_reply"] is False
    assert saved["reenrollment"] == {"policy": "after_completion", "cooldown_seconds": 3600}
    assert saved["resume_policy"] == "skip_missed"


def test_an_unknown_time_zone_opens_the_drawer_with_the_422_beside_it_and_saves_nothing(
        console: Guarded, world: World) -> None:
    sid = make_sequence(world.api, "Bad zone", activate=False)["id"]
    before = world.get(f"{V1}/sequences/{sid}")
    page = console.goto(f"/console/sequences/{sid}", ".step-card")
    _open(page)
    page.get_by_label("Send only in chosen hours and weekdays").check()
    page.locator("#window-zone").fill("Mars/Olympus")  # any text passes the browser
    page.keyboard.press("Escape")
    expect(page.locator("#settings-drawer")).to_have_count(0)
    page.get_by_role("button", name="Save").click()
    message = page.locator("#window-zone-error")  # the 422 opened the drawer again
    message.wait_for()
    refused = world.api.put(f"{V1}/sequences/{sid}", json={"send_window": {
        "hours": [9], "timezone": "Mars/Olympus"}})
    assert refused.status_code == 422
    [problem] = refused.json()["errors"]
    assert problem["field"] == "send_window.timezone"
    assert message.inner_text() == problem["message"]
    zone = page.locator("#window-zone")
    assert page.locator(".field:has(#window-zone) #window-zone-error").count() == 1
    assert zone.get_attribute("aria-invalid") == "true"
    assert zone.get_attribute("aria-describedby") == "window-zone-error"
    expect(zone).to_be_focused()
    assert message.get_attribute("role") == "alert"
    assert world.get(f"{V1}/sequences/{sid}") == before
    page.get_by_text("Unsaved changes").wait_for()  # the edit is kept, to be fixed
    console.check_screen(422)  # the drawer with a message in it passes the screen checks


def test_an_experiments_settings_are_edited_and_it_is_removed(
        console: Guarded, world: World) -> None:
    sequence = make_sequence(world.api, "Experiment settings", activate=False)
    sid = sequence["id"]
    _content_test(world, sid, sequence["steps"][1]["id"])
    page = console.goto(f"/console/sequences/{sid}", ".step-card")
    drawer = _open(page)
    block = drawer.locator("[data-experiment-settings=subject]")
    expect(block).to_contain_text("Tests step Case Study")
    assert block.locator("[data-arm]").all_inner_texts() == ["A: 60%", "B: 40%"]
    # A conversion metric needs a goal: the API refuses it, beside the metric.
    page.get_by_label("Metric").select_option("conversion")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#x-0-metric-error")).to_have_text(
        "conversion needs a goal on the revision (set goal first)")
    assert page.get_by_label("Metric").get_attribute("aria-describedby") == "x-0-metric-error"
    assert world.get(f"{V1}/sequences/{sid}")["experiments"][0]["metric"] == "reply"
    page.get_by_label("Metric").select_option("click")
    page.get_by_label("Least exposures per arm").fill("300")
    page.get_by_label("Alpha").fill("0.01")
    page.get_by_label("Without a winner").select_option("best_observed")
    _save(page)
    [saved] = world.get(f"{V1}/sequences/{sid}")["experiments"]
    assert saved["metric"] == "click"
    assert saved["auto_winner"] == {**AUTO_WINNER, "min_exposures_per_arm": 300,
                                    "alpha": 0.01, "fallback": "best_observed"}
    assert [(a["key"], a["weight"]) for a in saved["arms"]] == [("A", 60), ("B", 40)]
    page.get_by_role("button", name="Remove experiment subject").click()
    _save(page)
    assert world.get(f"{V1}/sequences/{sid}")["experiments"] == []
    assert console.unexpected_errors(422) == []


def test_a_draft_revision_shows_the_trigger_read_only_and_saves_its_send_window(
        console: Guarded, world: World) -> None:
    sid = make_sequence(world.api, "Revised window", activate=True)["id"]
    page = console.goto(f"/console/sequences/{sid}", ".step-card")
    _open(page)  # the live revision: everything read-only
    for control in ("#trigger-type", "#window-on", "#goal-on", "#holdout", "#cap-exempt"):
        assert page.locator(control).is_disabled(), control
    console.check_screen()  # the read-only drawer too
    page.get_by_role("button", name="Close").click()
    page.get_by_role("button", name="Edit").click()
    page.get_by_text("revision 2: draft").wait_for()
    drawer = _open(page)
    expect(drawer.locator(".note")).to_contain_text("belong to the sequence")
    for control in ("#trigger-type", "#trigger-tag-name", "#reenroll-policy",
                    "#reenroll-cooldown"):
        assert page.locator(control).is_disabled(), control
    assert page.locator("#exit-on-reply").is_enabled()  # a revision's own setting
    page.get_by_label("Send only in chosen hours and weekdays").check()
    _day(page, "sun").check()
    page.locator("#window-zone").fill("America/New_York")
    _save(page)
    revision = world.get(f"{V1}/sequences/{sid}/revisions/2", after="head")
    assert revision["send_window"] == {"hours": list(range(9, 18)),
                                       "weekdays": ["mon", "tue", "wed", "thu", "fri", "sun"],
                                       "timezone": "America/New_York"}
    assert world.get(f"{V1}/sequences/{sid}")["send_window"] is None  # live: until published
    console.check_screen()


def test_a_path_experiment_is_shown_read_only(console: Guarded, world: World) -> None:
    def steps(name: str, count: int) -> list[dict[str, Any]]:
        return [{"order": n, "name": f"{name} {n}", "delay_amount": n, "delay_unit": "days",
                 "message_template": {"type": "text", "channel": "email", "content": name}}
                for n in range(count)]
    created = world.api.post(f"{V1}/sequences", json={
        "name": "Two paths", "steps": [], "experiments": [{
            "id": "paths", "kind": "path", "metric": "reply",
            "arms": [{"key": "short", "weight": 50, "steps": steps("short", 1)},
                     {"key": "long", "weight": 50, "steps": steps("long", 3)}]}]})
    assert created.status_code == 201, created.text
    page = console.goto(f"/console/sequences/{created.json()['id']}", "text=Two paths")
    block = _open(page).locator("[data-experiment-settings=paths]")
    assert block.locator("[data-arm]").all_inner_texts() == [
        "short: 50% · 1 step(s)", "long: 50% · 3 step(s)"]
    expect(block.locator("[data-metric-shown]")).to_contain_text("Metric reply")
    assert block.locator("select, input, button").count() == 0


def test_only_a_settings_change_arms_the_unsaved_changes_guard(
        console: Guarded, world: World) -> None:
    sid = make_sequence(world.api, "Guarded settings", activate=False)["id"]
    page = console.goto(f"/console/sequences/{sid}", ".step-card")
    asked: list[str] = []

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    _open(page)
    page.get_by_label("Send only in chosen hours and weekdays").check()
    _hour(page, 12).uncheck()
    _hour(page, 12).check()  # back as it was: the window differs from none, still
    page.get_by_label("Send only in chosen hours and weekdays").uncheck()
    expect(page.get_by_text("Unsaved changes")).to_have_count(0)  # no change in the end
    page.locator("#holdout").fill("5")
    page.get_by_text("Unsaved changes").wait_for()
    page.get_by_role("link", name="Sequences").click()
    assert asked == ["Leave without saving your changes?"]
    assert page.url.endswith(f"/console/sequences/{sid}")
    page.locator("#holdout").fill("0")
    expect(page.get_by_text("Unsaved changes")).to_have_count(0)
    page.get_by_role("link", name="Sequences").click()
    page.get_by_role("heading", name="Sequences").wait_for()
    assert asked == ["Leave without saving your changes?"]  # not asked again


def test_the_drawer_by_keyboard_and_its_screen_checks(console: Guarded, world: World) -> None:
    sid = make_sequence(world.api, "Keyboard settings", activate=False)["id"]
    page = console.goto(f"/console/sequences/{sid}", ".step-card")
    opener = page.locator("#settings-open")
    opener.focus()
    page.keyboard.press("Enter")
    drawer = page.locator("#settings-drawer")
    drawer.wait_for()
    assert opener.get_attribute("aria-expanded") == "true"
    expect(page.locator("#settings-title")).to_be_focused()  # focus moved in
    page.keyboard.press("Tab")
    expect(drawer.get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#trigger-type")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#trigger-tag-name")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("warm-lead")
    page.keyboard.press("Escape")
    expect(drawer).to_have_count(0)
    expect(opener).to_be_focused()  # and back
    assert opener.get_attribute("aria-expanded") == "false"
    page.get_by_text("Unsaved changes").wait_for()  # closing keeps the edit
    page.keyboard.press("Enter")  # the drawer opens again, by keyboard
    drawer.wait_for()
    assert page.locator("#trigger-tag-name").input_value() == "warm-lead"
    page.get_by_label("Send only in chosen hours and weekdays").check()
    page.get_by_label("Track a goal").check()
    page.get_by_role("button", name="Add a match").click()
    expect(page.locator("[data-match-row]")).to_have_count(2)
    page.get_by_role("button", name="Remove match 2").click()
    expect(page.locator("[data-match-row]")).to_have_count(1)
    console.check_screen()  # axe, no overflow at 1280 and 390 px, every control reachable
    page.locator("#settings-drawer").get_by_role("button", name="Close").click()
    expect(opener).to_be_focused()


def test_a_422_on_a_group_of_controls_moves_the_focus_to_its_first_control(
        console: Guarded, world: World) -> None:
    sid, page = _drawer_of_a_draft(console, world, "Group problems")
    before = world.get(f"{V1}/sequences/{sid}")
    page.get_by_label("Send only in chosen hours and weekdays").check()
    for hour in range(9, 18):
        _hour(page, hour).uncheck()
    page.get_by_role("button", name="Save").click()
    message = page.locator("#window-hours-error")
    expect(message).to_have_text("List should have at least 1 item after validation, not 0")
    assert page.locator("fieldset:has(#window-hours-error)").get_attribute(
        "aria-describedby") == "window-hours-error"
    expect(_hour(page, 0)).to_be_focused()  # not lost on the page: where the problem is
    _hour(page, 9).check()
    page.get_by_label("Track a goal").check()  # its one match row left blank
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#goal-match-error")).to_have_text("is required and must not be blank")
    expect(page.locator("#goal-match-0-key")).to_be_focused()
    assert world.get(f"{V1}/sequences/{sid}") == before
    assert console.unexpected_errors(422) == []


def test_a_match_key_the_api_refuses_is_marked_beside_the_key(
        console: Guarded, world: World) -> None:
    sid, page = _drawer_of_a_draft(console, world, "Bad match key")
    page.get_by_label("Track a goal").check()
    page.get_by_label("Key 1").fill("plan.")  # a dot path with an empty part
    page.get_by_label("Value 1").fill("pro")
    page.get_by_role("button", name="Save").click()
    message = page.locator("#goal-match-0-key-error")
    expect(message).to_have_text("must be a dot path like 'properties.plan'")
    key, value = page.locator("#goal-match-0-key"), page.locator("#goal-match-0-value")
    expect(key).to_be_focused()
    assert (key.get_attribute("aria-invalid"), key.get_attribute("aria-describedby")) == (
        "true", "goal-match-0-key-error")
    # The API names the row by its key: the value is described by the same message.
    assert value.get_attribute("aria-describedby") == "goal-match-0-key-error"
    assert page.locator("#goal-match-0-value-error").count() == 0
    assert world.get(f"{V1}/sequences/{sid}")["goal"] is None
    assert console.unexpected_errors(422) == []


def test_passing_through_another_trigger_type_keeps_what_was_typed(
        console: Guarded, world: World) -> None:
    sid, page = _drawer_of_a_draft(console, world, "Trigger round trip")
    kind = page.get_by_label("Enrolls on")
    kind.select_option("list_joined")  # as a keyboard user's arrows do, on the way elsewhere
    page.get_by_label("list_id").fill("l-1")
    kind.select_option("manual")
    assert page.locator("#settings-drawer input[id^=trigger-]").count() == 0
    kind.select_option("tag_added")
    assert page.get_by_label("tag_name").input_value() == "cold-lead"
    expect(page.get_by_text("Unsaved changes")).to_have_count(0)  # back as saved
    kind.select_option("list_joined")
    assert page.get_by_label("list_id").input_value() == "l-1"
    _save(page)
    saved = world.get(f"{V1}/sequences/{sid}")
    assert (saved["trigger_type"], saved["trigger_data"]) == ("list_joined", {"list_id": "l-1"})


def _paths(name: str, metric: str, goal: dict[str, Any] | None = None) -> dict[str, Any]:
    def steps(arm: str, count: int) -> list[dict[str, Any]]:
        return [{"order": n, "name": f"{arm} {n}", "delay_amount": n, "delay_unit": "days",
                 "message_template": {"type": "text", "channel": "email", "content": arm}}
                for n in range(count)]
    return {"name": name, "steps": [], "goal": goal, "experiments": [{
        "id": "paths", "kind": "path", "metric": metric,
        "arms": [{"key": "short", "weight": 50, "steps": steps("short", 1)},
                 {"key": "long", "weight": 50, "steps": steps("long", 3)}]}]}


def test_a_422_on_a_path_experiment_shows_in_its_block(console: Guarded, world: World) -> None:
    created = world.api.post(f"{V1}/sequences", json=_paths("Paths to a goal", "conversion", {
        "event_type": "custom_event", "match": {"name": "purchase"}}))
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    page = console.goto(f"/console/sequences/{sid}", "text=Paths to a goal")
    block = _open(page).locator("[data-experiment-settings=paths]")
    page.get_by_label("Track a goal").uncheck()  # its conversion metric needs one
    page.get_by_role("button", name="Save").click()
    message = block.locator("#x-0-error")
    expect(message).to_have_text("conversion needs a goal on the revision (set goal first)")
    assert message.get_attribute("role") == "alert"
    assert block.get_attribute("aria-describedby") == "x-0-error"
    expect(message).to_be_focused()  # the block has no control to go to
    assert world.get(f"{V1}/sequences/{sid}")["goal"] is not None
    console.check_screen(422)


def test_a_422_on_the_data_of_a_manual_trigger_shows_beside_the_trigger(
        console: Guarded, world: World) -> None:
    sid, page = _drawer_of_a_draft(console, world, "Made manual meanwhile")
    page.get_by_label("tag_name").fill("warm-lead")
    # Meanwhile someone else makes it manual: "Keep mine" then sends my tag to a manual trigger.
    theirs = world.api.put(f"{V1}/sequences/{sid}", json={"trigger_type": "manual",
                                                           "trigger_data": {}})
    assert theirs.status_code == 200, theirs.text
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Keep mine").click()
    message = page.locator("#trigger-type-error")
    expect(message).to_have_text("unknown field; allowed: ")
    assert page.locator("#trigger-type").get_attribute("aria-describedby") == "trigger-type-error"
    assert world.get(f"{V1}/sequences/{sid}")["trigger_data"] == {}
    assert console.unexpected_errors(412, 422) == []


def test_turning_the_window_or_the_goal_off_and_on_again_keeps_what_was_set(
        console: Guarded, world: World) -> None:
    sid, page = _drawer_of_a_draft(console, world, "Off and on")
    window = page.get_by_label("Send only in chosen hours and weekdays")
    window.check()
    _hour(page, 8).check()
    page.locator("#window-zone").fill("Europe/Paris")
    goal = page.get_by_label("Track a goal")
    goal.check()
    page.get_by_label("Key 1").fill("name")
    page.get_by_label("Value 1").fill("purchase")
    window.uncheck()
    goal.uncheck()
    window.check()
    goal.check()
    assert _hour(page, 8).is_checked()
    assert page.locator("#window-zone").input_value() == "Europe/Paris"
    assert (page.get_by_label("Key 1").input_value(),
            page.get_by_label("Value 1").input_value()) == ("name", "purchase")
    _save(page)
    saved = world.get(f"{V1}/sequences/{sid}")
    assert saved["send_window"]["timezone"] == "Europe/Paris"
    assert 8 in saved["send_window"]["hours"]
    assert saved["goal"]["match"] == {"name": "purchase"}
