"""Operations → tenant settings (CAPABILITIES §4, §6 screen 7): the time zone, the frequency
cap rules and the throttles edited in the console and saved with If-Match; the API's own
answer is the check. A 422 shows beside its field; a 412 opens "changed elsewhere" and keeps
the user's values. The limits are set far above what the module's sends reach."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.console.browser import Guarded
from tests.console.conftest import KEY, V1, World


def _settings(world: World) -> dict[str, Any]:
    return dict(world.get(f"{V1}/settings"))


def _put(world: World, body: dict[str, Any]) -> dict[str, Any]:
    version = _settings(world)["version"]
    answer = world.api.put(f"{V1}/settings", headers={"If-Match": str(version)}, json=body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _open(console: Guarded) -> Page:
    return console.goto("/console/operations", "form[aria-label='Tenant settings']")


def _add_rule(page: Page, n: int, channel: str, most: str, window: str,
              hours: str | None = None) -> None:
    """Add rule ``n`` (from 1) through the form's own controls, found by their labels."""
    page.get_by_role("button", name="Add a rule").click()
    page.get_by_label(f"Rule {n} channel").fill(channel)
    rule = page.locator(f"[data-rule='{n - 1}']")
    rule.get_by_label("Max messages").fill(most)
    rule.get_by_label("Window").select_option(window)
    if hours is not None:
        rule.get_by_label("Hours (1").fill(hours)


def _add_throttle(page: Page, n: int, channel: str, per_minute: str) -> None:
    page.get_by_role("button", name="Add a throttle").click()
    page.get_by_label(f"Throttle {n} channel").fill(channel)
    page.locator(f"[data-throttle='{n - 1}']").get_by_label("Per minute").fill(per_minute)


def _save(page: Page) -> None:
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("form.settings [aria-live]")).to_have_text("Saved")


def test_edit_the_zone_the_cap_rules_and_the_throttles_then_remove_some(
        console: Guarded, world: World) -> None:
    _put(world, {"timezone": None, "frequency_cap": None, "throttle": None})
    page = _open(console)
    expect(page.get_by_text("No cap: every send is allowed.")).to_be_visible()
    page.get_by_label("Time zone").fill("America/New_York")
    _add_rule(page, 1, "", "50000", "rolling_hours", hours="12")
    _add_rule(page, 2, "whatsapp", "40000", "calendar_day")
    page.get_by_label("Over the cap").select_option("defer")
    page.get_by_label("Max defer hours").fill("48")
    _add_throttle(page, 1, "email", "70000")
    _add_throttle(page, 2, "sms", "60000")
    _save(page)
    stored = _settings(world)
    assert stored["timezone"] == "America/New_York"
    assert stored["frequency_cap"] == {
        "rules": [{"channel": None, "max_messages": 50000, "window": {"rolling_hours": 12}},
                  {"channel": "whatsapp", "max_messages": 40000, "window": "calendar_day"}],
        "on_cap": "defer", "max_defer_hours": 48}
    assert stored["throttle"] == {"email": {"per_minute": 70000}, "sms": {"per_minute": 60000}}
    console.check_screen()  # the editor with rules and throttles is a screen like the others
    # Removing: the first rule and the second throttle; skip instead of defer.
    page.get_by_role("button", name="Remove rule 1").click()
    expect(page.get_by_label("Rule 1 channel")).to_have_value("whatsapp")
    page.get_by_label("Over the cap").select_option("skip")
    page.get_by_role("button", name="Remove throttle 2").click()
    _save(page)
    stored = _settings(world)
    assert stored["frequency_cap"]["rules"] == [
        {"channel": "whatsapp", "max_messages": 40000, "window": "calendar_day"}]
    assert stored["frequency_cap"]["on_cap"] == "skip"
    assert stored["throttle"] == {"email": {"per_minute": 70000}}
    # After a reload the form shows what the server has.
    page = _open(console)
    assert page.get_by_label("Time zone").input_value() == "America/New_York"
    assert page.locator("#rule-0-window").input_value() == "calendar_day"
    assert page.locator("#throttle-0-per-minute").input_value() == "70000"
    assert console.errors == []


def test_a_422_shows_beside_its_field_and_nothing_is_saved(
        console: Guarded, world: World) -> None:
    _put(world, {"timezone": "Europe/Berlin", "throttle": None, "frequency_cap": {
        "rules": [{"channel": None, "max_messages": 90000, "window": "rolling_24h"}]}})
    before = _settings(world)
    page = _open(console)
    page.locator("#rule-0-max").fill("0")
    page.get_by_role("button", name="Save settings").click()
    message = page.locator(".field:has(#rule-0-max) #rule-0-max-error")
    message.wait_for()
    assert "1" in message.inner_text()
    assert page.locator("#rule-0-max").get_attribute("aria-invalid") == "true"
    assert page.locator("#rule-0-max").get_attribute("aria-describedby") == "rule-0-max-error"
    assert _settings(world) == before
    console.check_screen(422)
    page.locator("#rule-0-max").fill("90000")
    page.get_by_label("Time zone").fill("Mars/Olympus")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".field:has(#timezone) #timezone-error")).to_contain_text("Mars/Olympus")
    expect(page.locator("#rule-0-max-error")).to_have_count(0)
    assert _settings(world) == before
    assert console.unexpected_errors(422) == []


def test_a_second_save_meets_changed_elsewhere_and_keep_mine_loses_nothing(
        browser: Browser, console: Guarded, world: World) -> None:
    _put(world, {"timezone": "Europe/Berlin", "throttle": {"email": {"per_minute": 80000}},
                 "frequency_cap": None})
    other = Guarded.open(browser, world.base, KEY)
    try:
        mine = _open(console)
        theirs = _open(other)
        theirs.get_by_label("Time zone").fill("Asia/Tokyo")
        _save(theirs)
        mine.locator("#throttle-0-per-minute").fill("75000")
        mine.get_by_role("button", name="Add a rule").click()
        mine.locator("#rule-0-max").fill("60000")
        mine.get_by_role("button", name="Save settings").click()
        dialog = mine.get_by_role("alertdialog", name="Changed elsewhere")
        dialog.wait_for()
        # The user's values are still in the form behind the dialog.
        assert mine.locator("#throttle-0-per-minute").input_value() == "75000"
        assert mine.locator("#rule-0-max").input_value() == "60000"
        assert _settings(world)["timezone"] == "Asia/Tokyo"
        console.check_screen(412)  # the dialog too
        dialog.get_by_role("button", name="Keep mine").click()
        expect(mine.locator("form.settings [aria-live]")).to_have_text("Saved")
        stored = _settings(world)
        assert stored["timezone"] == "Asia/Tokyo"  # theirs, which I did not touch
        assert stored["throttle"] == {"email": {"per_minute": 75000}}  # mine
        assert stored["frequency_cap"]["rules"] == [
            {"channel": None, "max_messages": 60000, "window": "rolling_24h"}]
        assert mine.get_by_label("Time zone").input_value() == "Asia/Tokyo"
        # "Reload theirs" drops my edit and shows the server's values.
        theirs.locator("#throttle-0-per-minute").fill("1000")
        theirs.get_by_role("button", name="Save settings").click()
        other_dialog = theirs.get_by_role("alertdialog", name="Changed elsewhere")
        other_dialog.get_by_role("button", name="Reload theirs").click()
        expect(theirs.locator("#throttle-0-per-minute")).to_have_value("75000")
        assert _settings(world)["throttle"] == {"email": {"per_minute": 75000}}
        assert other.unexpected_errors(412) == []
    finally:
        other.close()


def test_a_channel_throttled_twice_is_named_beside_the_second_and_nothing_is_lost(
        console: Guarded, world: World) -> None:
    _put(world, {"throttle": {"email": {"per_minute": 80000}}})
    before = _settings(world)
    page = _open(console)
    _add_throttle(page, 2, "email", "5")
    message = page.locator(".field:has(#throttle-1-channel) #throttle-1-channel-error")
    expect(message).to_contain_text("email")
    assert page.locator("#throttle-1-channel").get_attribute("aria-describedby") == \
        "throttle-1-channel-error"
    expect(page.locator("#throttle-0-channel-error")).to_have_count(0)
    page.get_by_role("button", name="Save settings").click()
    # Not sent (one of the two would be dropped): both rows are still there as typed.
    expect(page.locator("#throttle-1-channel")).to_be_focused()
    assert _settings(world) == before
    assert [page.locator(f"#throttle-{n}-per-minute").input_value() for n in (0, 1)] == [
        "80000", "5"]
    console.check_screen()
    page.get_by_label("Throttle 2 channel").fill("sms")
    expect(message).to_have_count(0)
    _save(page)
    assert _settings(world)["throttle"] == {"email": {"per_minute": 80000},
                                            "sms": {"per_minute": 5}}
    assert console.errors == []


def test_a_422_does_not_move_to_another_rule_and_its_field_stays_editable(
        console: Guarded, world: World) -> None:
    _put(world, {"throttle": None, "frequency_cap": None})
    page = _open(console)
    _add_rule(page, 1, "", "0", "rolling_24h")
    _add_rule(page, 2, "", "7", "calendar_day")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#rule-0-max-error")).to_contain_text("got 0")
    # The rule the 422 named is removed: its message does not land on the rule left.
    page.get_by_role("button", name="Remove rule 1").click()
    expect(page.get_by_label("Rule 1 channel")).to_have_count(1)
    assert page.locator("#rule-0-max").input_value() == "7"
    expect(page.locator("#rule-0-max-error")).to_have_count(0)
    expect(page.locator("form.settings .field-error")).to_have_count(0)
    # A 422 on max defer hours while "skip" is chosen: the field can still be corrected.
    page.get_by_label("Max defer hours").fill("0")
    page.get_by_label("Over the cap").select_option("skip")
    page.get_by_role("button", name="Save settings").click()
    hours = page.locator("#max-defer-hours")
    expect(page.locator(".field:has(#max-defer-hours) #max-defer-hours-error")).to_contain_text(
        "720")
    expect(hours).to_be_enabled()
    hours.fill("24")
    _save(page)
    cap = _settings(world)["frequency_cap"]
    assert (cap["on_cap"], cap["max_defer_hours"]) == ("skip", 24)
    assert cap["rules"] == [{"channel": None, "max_messages": 7, "window": "calendar_day"}]
    assert console.unexpected_errors(422) == []


def test_keep_mine_clicked_twice_saves_once(
        browser: Browser, console: Guarded, world: World) -> None:
    _put(world, {"timezone": "Europe/Berlin", "throttle": None, "frequency_cap": None})
    mine = _open(console)
    _put(world, {"timezone": "Asia/Tokyo"})  # saved elsewhere after mine was read
    mine.get_by_role("button", name="Add a throttle").click()
    mine.get_by_label("Throttle 1 channel").fill("email")
    mine.get_by_role("button", name="Save settings").click()
    dialog = mine.get_by_role("alertdialog", name="Changed elsewhere")
    dialog.wait_for()
    version = _settings(world)["version"]
    dialog.get_by_role("button", name="Keep mine").dblclick()
    expect(mine.locator("form.settings [aria-live]")).to_have_text("Saved")
    expect(dialog).to_have_count(0)
    stored = _settings(world)
    assert (stored["timezone"], stored["throttle"]) == ("Asia/Tokyo", {"email": {"per_minute": 60}})
    assert stored["version"] == version + 1  # one save, not two
    expect(mine.locator("form.settings")).to_have_attribute(
        "data-settings-version", str(version + 1))
    assert console.unexpected_errors(412) == []
